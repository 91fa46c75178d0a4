"""Every class of playbook error is reported with its file, line and field, all at once."""

from __future__ import annotations

from textwrap import dedent
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, field_validator

from catalog.loader import ToolKindSpec, load_playbook
from catalog.model import Playbook
from catalog.problems import Problem


class HttpConfig(BaseModel):
    """Stands in for the http kind's model."""

    model_config = ConfigDict(extra="forbid")
    url: str
    method: str = "GET"
    timeout: float = 10.0
    headers: dict[str, str] = {}


class PythonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    args: dict[str, object] = {}


class NoopConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


KINDS = {
    "http": ToolKindSpec(HttpConfig),
    "python": ToolKindSpec(PythonConfig, raw_fields=frozenset({"code"})),
    "noop": ToolKindSpec(NoopConfig),
}

GOOD = """\
apiVersion: agenthub/v1
kind: Playbook
metadata:
  name: hello
  title: Hello
workflow:
  - step: greet
    tool: {kind: noop}
"""


def block(text: str) -> str:
    """YAML written inside a test function: drop the function body's 4-space indent."""
    return "".join(line[4:] if line.startswith("    ") else line for line in text.splitlines(True))


def load(tmp_path: Path, text: str, kinds=KINDS) -> tuple[Playbook | None, list[Problem], str]:
    file = tmp_path / "pb.yaml"
    file.write_text(dedent(text), encoding="utf-8")
    playbook, problems = load_playbook(file.read_text(encoding="utf-8"), str(file), tool_kinds=kinds)
    return playbook, problems, str(file)


def where(problems: list[Problem]) -> list[tuple[int | None, str]]:
    return [(p.line, p.field) for p in problems]


def test_good_playbook_loads(tmp_path: Path) -> None:
    playbook, problems, _ = load(tmp_path, GOOD)
    assert problems == []
    assert playbook is not None
    assert playbook.metadata.name == "hello"
    assert playbook.workflow[0].tool.kind == "noop"


def test_yaml_syntax_error(tmp_path: Path) -> None:
    playbook, problems, file = load(tmp_path, GOOD.replace("title: Hello", "title: [Hello"))
    assert playbook is None
    assert len(problems) == 1
    assert problems[0].file == file
    assert problems[0].line == 6
    assert "YAML syntax error" in problems[0].message
    assert str(problems[0]).startswith(f"{file}:6:")


def test_duplicate_key(tmp_path: Path) -> None:
    _, problems, file = load(tmp_path, GOOD + "metadata:\n  name: again\n")
    assert [(p.file, p.line, p.field) for p in problems] == [(file, 9, "metadata")]
    assert "duplicate key 'metadata' (first defined at line 3)" == problems[0].message


def test_not_a_mapping(tmp_path: Path) -> None:
    _, problems, _ = load(tmp_path, "just a string\n")
    assert where(problems) == [(1, "")]
    assert "must be a mapping" in problems[0].message


def test_unknown_top_level_field_suggests_the_right_one(tmp_path: Path) -> None:
    _, problems, _ = load(tmp_path, GOOD + "timout: 5\n")
    assert where(problems) == [(9, "timout")]
    assert problems[0].message == "unknown field 'timout' (did you mean 'timeout'?)"


def test_unknown_nested_field_lists_the_allowed_ones(tmp_path: Path) -> None:
    _, problems, _ = load(tmp_path, GOOD.replace("  title: Hello", "  zzz: 1"))
    assert where(problems) == [(5, "metadata.zzz")]
    assert problems[0].message.startswith("unknown field 'zzz' (allowed: name, path, title")


def test_missing_workflow_and_missing_name(tmp_path: Path) -> None:
    text = """\
    apiVersion: agenthub/v1
    kind: Playbook
    metadata:
      title: Nameless
    """
    _, problems, _ = load(tmp_path, text)
    assert where(problems) == [(1, "workflow"), (3, "metadata.name")]
    assert problems[0].message == "required field 'workflow' is missing"
    assert problems[1].message == "required field 'name' is missing"


def test_wrong_type(tmp_path: Path) -> None:
    _, problems, _ = load(tmp_path, GOOD + "timeout: soon\n")
    assert where(problems) == [(9, "timeout")]
    assert "valid number" in problems[0].message and '"soon"' in problems[0].message


def test_wrong_type_of_union_field_is_one_problem(tmp_path: Path) -> None:
    text = GOOD + "    loop: {in: 3}\n"
    _, problems, _ = load(tmp_path, text)
    assert where(problems) == [(9, "workflow[0].loop.in")]
    assert problems[0].message == "Input should be a valid string or a valid list (got 3)"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hello world", "letters, digits"),
        ("x" * 65, "1-64 characters"),
        ("hub_search", "reserved for hub tools"),
        ('"hello\\n"', "letters, digits"),  # a trailing newline is not part of a valid name
    ],
)
def test_bad_tool_names(tmp_path: Path, name: str, expected: str) -> None:
    _, problems, _ = load(tmp_path, GOOD.replace("name: hello", f"name: {name}"))
    assert where(problems) == [(4, "metadata.name")]
    assert expected in problems[0].message


def test_unknown_tool_kind_lists_known_kinds(tmp_path: Path) -> None:
    _, problems, _ = load(tmp_path, GOOD.replace("kind: noop", "kind: ftp"))
    assert where(problems) == [(8, "workflow[0].tool.kind")]
    assert problems[0].message == "unknown tool kind 'ftp'; known kinds: http, noop, python"


def test_tool_kinds_unchecked_without_a_registry(tmp_path: Path) -> None:
    playbook, problems, _ = load(tmp_path, GOOD.replace("kind: noop", "kind: ftp"), kinds=None)
    assert problems == [] and playbook is not None


def test_invalid_kind_config(tmp_path: Path) -> None:
    text = GOOD + block("""\
      - step: fetch
        tool:
          kind: http
          method: 5
          retries: 2
    """)
    _, problems, _ = load(tmp_path, text)
    assert where(problems) == [
        (10, "workflow[1].tool.url"),
        (12, "workflow[1].tool.method"),
        (13, "workflow[1].tool.retries"),
    ]
    assert problems[0].message == "required field 'url' is missing"
    assert "valid string" in problems[1].message
    assert problems[2].message.startswith("unknown field 'retries'")


def test_template_values_are_not_kind_config_errors(tmp_path: Path) -> None:
    text = GOOD + block("""\
      - step: fetch
        tool:
          kind: http
          url: "{{ input.base }}/x"
          timeout: "{{ input.seconds }}"
          headers: "{{ input.headers }}"
    """)
    playbook, problems, _ = load(tmp_path, text)
    assert problems == []
    assert playbook is not None


def test_template_syntax_errors(tmp_path: Path) -> None:
    text = GOOD + block("""\
        input:
          who: "{{ name "
        next:
          - step: greet
            when: "{% if %}"
    result:
      text: |
        Hello
        {{ greet.data | }}
    """)
    _, problems, _ = load(tmp_path, text)
    assert where(problems) == [
        (10, "workflow[0].input.who"),
        (13, "workflow[0].next[0].when"),
        (17, "result.text"),
    ]
    assert all(p.message.startswith("template syntax error:") for p in problems)


def test_raw_fields_are_not_templates(tmp_path: Path) -> None:
    text = GOOD + block("""\
      - step: code
        tool:
          kind: python
          code: |
            print(f"{{literal}} {x}")
            {% not a template %}
          args: {x: "{{ bad"}
    """)
    _, problems, _ = load(tmp_path, text)
    assert where(problems) == [(15, "workflow[1].tool.args.x")]


def test_bad_output_schema(tmp_path: Path) -> None:
    text = GOOD + block("""\
    output:
      type: object
      properties:
        n: {type: 12}
    """)
    _, problems, _ = load(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].field == "output.properties.n.type"
    assert problems[0].line == 12
    assert "not a valid JSON Schema" in problems[0].message


def test_duplicate_step_names(tmp_path: Path) -> None:
    _, problems, _ = load(tmp_path, GOOD + "  - step: greet\n    tool: {kind: noop}\n")
    assert where(problems) == [(9, "workflow[1].step")]
    assert problems[0].message == "step name 'greet' is used twice"


def test_arc_to_unknown_step(tmp_path: Path) -> None:
    text = GOOD + block("""\
        next:
          - step: nowhere
            when: "{{ true }}"
    """)
    _, problems, _ = load(tmp_path, text)
    assert where(problems) == [(10, "workflow[0].next[0].step")]
    assert problems[0].message == "arc to unknown step 'nowhere'"


def test_arc_shorthand_to_unknown_step(tmp_path: Path) -> None:
    _, problems, _ = load(tmp_path, GOOD + "    next: later\n")
    assert where(problems) == [(9, "workflow[0].next")]


def test_enum_default_not_in_enum(tmp_path: Path) -> None:
    text = GOOD + block("""\
    input:
      color:
        type: string
        enum: [red, green]
        default: blue
    """)
    _, problems, _ = load(tmp_path, text)
    assert where(problems) == [(10, "input.color")]
    assert problems[0].message == "default 'blue' is not one of enum ['red', 'green']"


def test_default_checked_against_its_own_schema(tmp_path: Path) -> None:
    text = GOOD + block("""\
    input:
      count: {type: integer, default: "three"}
      user:
        type: object
        properties:
          age: {type: integer, minimum: 0, default: -1}
    """)
    _, problems, _ = load(tmp_path, text)
    assert where(problems) == [(10, "input.count.default"), (14, "input.user.properties.age.default")]
    assert "expected integer, got string" in problems[0].message
    assert "less than the minimum of 0" in problems[1].message


def test_keychain_entry_with_env_and_file(tmp_path: Path) -> None:
    text = GOOD + block("""\
    keychain:
      - name: api
        env: API_TOKEN
        file: /run/secrets/api
    """)
    _, problems, _ = load(tmp_path, text)
    assert where(problems) == [(10, "keychain[0]")]
    assert problems[0].message == "give exactly one of `env` or `file`"


def test_unknown_document_kind(tmp_path: Path) -> None:
    _, problems, _ = load(tmp_path, GOOD.replace("kind: Playbook", "kind: Workbook"))
    assert where(problems) == [(2, "kind")]
    assert problems[0].message == "unknown document kind 'Workbook'; known kinds: Playbook, McpServer, Prompt, Resource"


def test_every_problem_of_a_file_is_reported(tmp_path: Path) -> None:
    text = """\
    apiVersion: v2
    kind: Playbook
    metadata:
      name: hub_x
    keychain:
      - {name: k}
    workflow:
      - step: 1bad
        tool: {kind: ftp}
        input: {x: "{{ }"}
    """
    playbook, problems, file = load(tmp_path, text)
    assert playbook is None
    assert where(problems) == [
        (1, "apiVersion"),
        (4, "metadata.name"),
        (6, "keychain[0]"),
        (8, "workflow[0].step"),
        (9, "workflow[0].tool.kind"),
        (10, "workflow[0].input.x"),
    ]
    assert all(p.file == file for p in problems)


class Exploding(BaseModel):
    @field_validator("x")
    @classmethod
    def _boom(cls, value: str) -> str:
        raise TypeError("kind bug")

    x: str = ""


def test_a_kind_model_that_raises_does_not_stop_loading(tmp_path: Path) -> None:
    kinds = {**KINDS, "boom": ToolKindSpec(Exploding)}
    text = GOOD.replace("kind: noop", "kind: boom, x: y")
    _, problems, _ = load(tmp_path, text, kinds=kinds)
    assert where(problems) == [(8, "workflow[0].tool")]
    assert "TypeError: kind bug" in problems[0].message
