"""The sandbox refuses hostile templates, arguments stay data, and secrets never leave."""

from __future__ import annotations

import json

import pytest

from hub.contract.envelope import Failure
from hub.contract.templates import Templates


@pytest.mark.parametrize("hostile", [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ input.__class__ }}",
    "{{ 'x' * 100000000 }}",
    "{{ 10 ** 100000 }}",
    "{% for i in range(10000000) %}{% endfor %}",
])
def test_sandbox_refuses(hostile):
    with pytest.raises(Failure) as caught:
        Templates().render(hostile, {"input": {}, "cycler": object()}, "f")
    assert caught.value.error.code in ("TEMPLATE_UNSAFE", "TEMPLATE_ERROR")
    assert caught.value.error.kind == "agent.configuration"


def test_bare_expression_keeps_native_type_and_strings_render():
    t = Templates()
    ctx = {"input": {"items": [1, 2], "n": 3, "flag": False}}
    assert t.render("{{ input.items }}", ctx, "f") == [1, 2]
    assert t.render("{{ input.n * 2 }}", ctx, "f") == 6
    assert t.render("{{ input.flag }}", ctx, "f") is False
    assert t.render("n={{ input.n }}", ctx, "f") == "n=3"
    assert t.render({"a": ["{{ input.n }}", "x"]}, ctx, "f") == {"a": [3, "x"]}


async def test_hostile_template_in_a_playbook_is_refused(hub, write_playbook):
    write_playbook("evil", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: evil}
        workflow:
          - step: s
            tool: {kind: noop}
            input: {x: "{{ ''.__class__.__mro__ }}"}
        """)
    h = await hub()
    env = await h.engine.run("evil", {})
    assert env.error.code == "TEMPLATE_UNSAFE"
    assert "__class__" in env.error.message


async def test_arguments_are_data_not_templates(hub, write_playbook):
    write_playbook("echo", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: echo}
        input:
          text: {type: string}
        workflow:
          - step: s
            tool: {kind: noop}
            input: {said: "{{ input.text }}", wrapped: "<{{ input.text }}>"}
        """)
    h = await hub()
    attack = "{{ ''.__class__.__mro__ }}{{ 7*7 }}"
    env = await h.engine.run("echo", {"text": attack})
    assert env.ok
    assert env.data == {"said": attack, "wrapped": f"<{attack}>"}


async def test_keychain_values_are_redacted_everywhere(hub, write_playbook, http_server, monkeypatch):
    monkeypatch.setenv("TEST_API_TOKEN", "tok-SUPER-secret-123")
    http_server.script("/echo", (200, {"you_sent": "tok-SUPER-secret-123"}))
    write_playbook("secret", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: secret}
        keychain:
          - {name: api, env: TEST_API_TOKEN}
        input:
          base: {type: string}
          password: {type: string, secret: true}
        workflow:
          - step: call
            tool:
              kind: http
              url: "{{ input.base }}/echo"
              headers: {authorization: "Bearer {{ keychain.api }}"}
            next: fail
          - step: fail
            tool:
              kind: python
              code: |
                def main(token, password):
                    raise RuntimeError(f"rejected {token} / {password}")
            input: {token: "{{ call.body.you_sent }}", password: "{{ input.password }}"}
        """)
    h = await hub()
    env = await h.engine.run("secret", {"base": http_server.url, "password": "hunter2-pass"})
    assert http_server.hits("/echo")[0]["headers"]["authorization"] == "Bearer tok-SUPER-secret-123"
    assert env.error.code == "PYTHON_ERROR"
    await h.store.flush()
    stored = json.dumps([e.model_dump() for e in await h.store.events(env.execution_id)])
    record = await h.store.get(env.execution_id)
    for text in (json.dumps(env.to_dict()), stored, record.model_dump_json()):
        assert "tok-SUPER-secret-123" not in text
        assert "hunter2-pass" not in text
    assert "rejected *** / ***" in env.error.message
    assert record.arguments["password"] == "***"


async def test_missing_keychain_entry(hub, write_playbook, monkeypatch):
    monkeypatch.delenv("TEST_MISSING_TOKEN", raising=False)
    write_playbook("needs", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: needs}
        keychain:
          - {name: api, env: TEST_MISSING_TOKEN}
        workflow:
          - step: s
            tool: {kind: noop}
        """)
    h = await hub()
    env = await h.engine.run("needs", {})
    assert env.error.code == "KEYCHAIN_MISSING" and "TEST_MISSING_TOKEN" in env.error.message


def test_dotted_names_take_the_fast_path_with_the_same_results():
    t = Templates()
    ctx = {"input": {"items": [1], "user": {"name": "Ada"}}, "s": "text"}
    assert t.render("{{ input.user.name }}", ctx, "f") == "Ada"
    assert t.render("{{ input.items }}", ctx, "f") == [1]  # the key, not dict.items
    assert t.render("{{ s.upper }}", ctx, "f") is not None  # attribute access still works via Jinja
    with pytest.raises(Failure) as missing:
        t.render("{{ input.user.age }}", ctx, "f")
    assert missing.value.error.code == "TEMPLATE_ERROR" and "age" in missing.value.error.message
    with pytest.raises(Failure) as unsafe:
        t.render("{{ s.__class__ }}", ctx, "f")
    assert unsafe.value.error.code == "TEMPLATE_UNSAFE"
