"""The tool contract derived from a playbook: input/output JSON Schema, defaults, argument errors."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from jsonschema import Draft202012Validator

from catalog.loader import load_playbook
from catalog.model import Playbook
from catalog.schema import (
    DIALECT,
    apply_defaults,
    input_schema,
    looks_secret,
    output_schema,
    validate_arguments,
)

HEAD = """\
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: sample}
workflow:
  - step: only
    tool: {kind: noop}
"""

TYPED = HEAD + dedent(
    """\
    input:
      query:
        type: string
        description: What to look for.
        minLength: 1
      limit: {type: integer, default: 10, minimum: 1, maximum: 100}
      mode: {type: string, enum: [fast, deep], default: fast, title: Mode}
      user:
        type: object
        description: Who asks.
        properties:
          name: {type: string}
          age: {type: integer, minimum: 0}
          lang: {type: string, default: en}
      tags:
        type: array
        items: {type: string, pattern: "^[a-z]+$"}
        maxItems: 3
      password: {type: string, secret: true, default: hunter2}
      options:
        type: object
        additionalProperties: true
        default: {verbose: false}
        properties:
          verbose: {type: boolean}
      email: {type: string, format: email, required: false}
    output:
      type: object
      properties:
        answer: {type: string}
      required: [answer]
    """
)

WORKLOAD = HEAD + dedent(
    """\
    workload:
      retries: 3
      ratio: 0.5
      enabled: true
      base_url: https://api.example.org
      nothing: null
      db:
        host: localhost
        port: 5432
        db_password: s3cret
      ids: [1, 2, 3]
      mixed: [1, "a"]
      numbers: [1, 2.5]
      openai_api_key: sk-123
      github_token: ghp_abc
      max_tokens: 512
    """
)


def playbook(tmp_path: Path, text: str) -> Playbook:
    file = tmp_path / "pb.yaml"
    file.write_text(text, encoding="utf-8")
    loaded, problems = load_playbook(file.read_text(encoding="utf-8"), str(file))
    assert problems == [], [str(p) for p in problems]
    assert loaded is not None
    return loaded


def test_typed_input_schema(tmp_path: Path) -> None:
    schema = input_schema(playbook(tmp_path, TYPED))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DIALECT
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["query", "user", "tags"]
    props = schema["properties"]
    assert props["query"] == {"type": "string", "description": "What to look for.", "minLength": 1}
    assert props["limit"] == {"type": "integer", "default": 10, "minimum": 1, "maximum": 100}
    assert props["mode"] == {"type": "string", "title": "Mode", "enum": ["fast", "deep"], "default": "fast"}
    assert props["user"] == {
        "type": "object",
        "description": "Who asks.",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0},
            "lang": {"type": "string", "default": "en"},
        },
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    assert props["tags"] == {"type": "array", "maxItems": 3, "items": {"type": "string", "pattern": "^[a-z]+$"}}
    assert props["options"]["additionalProperties"] is True
    assert props["options"]["default"] == {"verbose": False}
    assert props["email"] == {"type": "string", "format": "email"}


def test_secret_default_is_never_published(tmp_path: Path) -> None:
    pb = playbook(tmp_path, TYPED)
    schema = input_schema(pb)
    assert schema["properties"]["password"] == {"type": "string", "writeOnly": True}
    assert "hunter2" not in str(schema)
    assert "password" not in schema.get("required", [])
    # ...but the run still gets it
    assert apply_defaults(pb, {})["password"] == "hunter2"


def test_nested_secret_is_removed_from_a_parent_default(tmp_path: Path) -> None:
    text = HEAD + dedent(
        """\
        input:
          conn:
            type: object
            default: {host: db, password: pw}
            properties:
              host: {type: string}
              password: {type: string, secret: true}
        """
    )
    schema = input_schema(playbook(tmp_path, text))
    assert schema["properties"]["conn"]["default"] == {"host": "db"}
    assert schema["properties"]["conn"]["properties"]["password"]["writeOnly"] is True


def test_workload_inference(tmp_path: Path) -> None:
    schema = input_schema(playbook(tmp_path, WORKLOAD))
    Draft202012Validator.check_schema(schema)
    props = schema["properties"]
    assert schema["additionalProperties"] is True
    assert "required" not in schema
    assert props["retries"] == {"type": "integer", "default": 3}
    assert props["ratio"] == {"type": "number", "default": 0.5}
    assert props["enabled"] == {"type": "boolean", "default": True}
    assert props["base_url"] == {"type": "string", "default": "https://api.example.org"}
    assert props["nothing"] == {"default": None}
    assert props["db"]["type"] == "object"
    assert props["db"]["properties"]["port"] == {"type": "integer", "default": 5432}
    assert props["db"]["properties"]["db_password"] == {"type": "string", "writeOnly": True}
    assert props["db"]["default"] == {"host": "localhost", "port": 5432}
    assert props["ids"] == {"type": "array", "items": {"type": "integer"}, "default": [1, 2, 3]}
    assert props["mixed"] == {"type": "array", "default": [1, "a"]}
    assert props["numbers"]["items"] == {"type": "number"}
    assert props["openai_api_key"] == {"type": "string", "writeOnly": True}
    assert props["github_token"] == {"type": "string", "writeOnly": True}
    assert props["max_tokens"] == {"type": "integer", "default": 512}
    for secret in ("s3cret", "sk-123", "ghp_abc"):
        assert secret not in str(schema)


def test_input_and_workload_together(tmp_path: Path) -> None:
    text = HEAD + dedent(
        """\
        input:
          city: {type: string}
        workload:
          city: Paris
          units: metric
        """
    )
    schema = input_schema(playbook(tmp_path, text))
    assert schema["properties"]["city"] == {"type": "string"}
    assert schema["properties"]["units"] == {"type": "string", "default": "metric"}
    assert schema["required"] == ["city"]
    assert schema["additionalProperties"] is False


def test_no_input_at_all(tmp_path: Path) -> None:
    schema = input_schema(playbook(tmp_path, HEAD))
    assert schema == {"$schema": DIALECT, "type": "object", "properties": {}, "additionalProperties": False}


def test_secret_names() -> None:
    for name in ("password", "DB_PASSWORD", "client_secret", "auth-token", "apiKey", "api_key",
                 "openai_credential", "ssh_private_key"):
        assert looks_secret(name), name
    for name in ("max_tokens", "tokenizer", "host", "keyword"):
        assert not looks_secret(name), name


def test_output_schema(tmp_path: Path) -> None:
    pb = playbook(tmp_path, TYPED)
    schema = output_schema(pb)
    assert schema == {
        "$schema": DIALECT,
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    }
    assert pb.output is not None and "$schema" not in pb.output  # the model is not changed
    assert output_schema(playbook(tmp_path, HEAD)) is None


def test_apply_defaults_fills_nested_objects_without_mutating(tmp_path: Path) -> None:
    pb = playbook(tmp_path, TYPED)
    arguments = {"query": "q", "user": {"name": "Ann", "age": 3}, "tags": []}
    filled = apply_defaults(pb, arguments)
    assert filled == {
        "query": "q",
        "user": {"name": "Ann", "age": 3, "lang": "en"},
        "tags": [],
        "limit": 10,
        "mode": "fast",
        "password": "hunter2",
        "options": {"verbose": False},
    }
    assert arguments == {"query": "q", "user": {"name": "Ann", "age": 3}, "tags": []}
    assert apply_defaults(pb, {"limit": 5, "user": {"lang": "fr"}})["user"] == {"lang": "fr"}
    assert apply_defaults(pb, {"limit": 5})["limit"] == 5


def test_apply_defaults_from_workload_merges_nested(tmp_path: Path) -> None:
    pb = playbook(tmp_path, WORKLOAD)
    filled = apply_defaults(pb, {"db": {"host": "prod"}, "retries": 0})
    assert filled["db"] == {"host": "prod", "port": 5432, "db_password": "s3cret"}
    assert filled["retries"] == 0
    assert filled["nothing"] is None
    assert filled["openai_api_key"] == "sk-123"


def test_validate_arguments_paths_and_messages(tmp_path: Path) -> None:
    schema = input_schema(playbook(tmp_path, TYPED))
    errors = validate_arguments(
        schema,
        {
            "query": "",
            "limit": "ten",
            "mode": "slow",
            "user": {"name": "Ann", "age": -1, "shoe": 42},
            "tags": ["ok", "NOT", "x", "y"],
            "email": "not-an-email",
            "foo": 1,
        },
    )
    assert errors == [
        ("input", "unknown argument 'foo'"),
        ("input.email", "'not-an-email' is not a 'email'"),
        ("input.limit", "expected integer, got string"),
        ("input.mode", 'must be one of ["fast", "deep"], got "slow"'),
        ("input.query", "'' should be non-empty"),
        ("input.tags", "does not satisfy 'maxItems': 3 (value not shown)"),
        ("input.tags[1]", "'NOT' does not match '^[a-z]+$'"),
        ("input.user", "unknown property 'shoe'"),
        ("input.user.age", "-1 is less than the minimum of 0"),
    ]


def test_validate_arguments_missing_required_and_secret_values(tmp_path: Path) -> None:
    schema = input_schema(playbook(tmp_path, TYPED))
    errors = validate_arguments(schema, {"user": {"name": "Ann"}, "tags": [], "password": 12345})
    assert errors == [
        ("input.password", "expected string, got integer"),
        ("input.query", "missing required argument 'query'"),
        ("input.user.age", "missing required property 'age'"),
    ]
    assert validate_arguments(schema, {"query": "q", "user": {"name": "A", "age": 1}, "tags": []}) == []


def test_secret_value_is_not_echoed(tmp_path: Path) -> None:
    text = HEAD + dedent(
        """\
        input:
          pin: {type: string, secret: true, minLength: 6}
        """
    )
    errors = validate_arguments(input_schema(playbook(tmp_path, text)), {"pin": "1234"})
    assert errors == [("input.pin", "does not satisfy 'minLength': 6 (value not shown)")]
