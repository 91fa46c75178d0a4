"""`framework: custom` through the hub: callables of every shape, both entrypoint modes, payload
mapping, and every configuration problem as an envelope (never an exception)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agents.agent_support import ENTRY, agent_playbook

ENVELOPE_KEYS = {"status", "framework", "entrypoint", "data", "execution_id", "duration"}


async def run_agent(hub: Any, write_playbook: Any, tool: dict[str, Any], arguments: dict[str, Any] | None = None,
                    **options: Any) -> Any:
    write_playbook("agent_case", agent_playbook("agent_case", tool, **options))
    h = await hub()
    return await h.engine.run("agent_case", arguments or {})


def custom(attr: str, **more: Any) -> dict[str, Any]:
    return {"framework": "custom", "entrypoint": f"{ENTRY}:{attr}", **more}


async def test_sync_function_spreads_the_payload_and_runs_off_the_loop(hub, write_playbook):
    env = await run_agent(hub, write_playbook, custom("add", entrypoint_mode="callable", payload={"a": 2, "b": 3}))
    assert env.ok, env.error
    agent = env.data
    assert set(agent) == ENVELOPE_KEYS
    assert agent["status"] == "ok" and agent["framework"] == "custom"
    assert agent["entrypoint"] == f"{ENTRY}:add"
    assert agent["data"]["sum"] == 5
    assert agent["data"]["thread"] != "MainThread"
    assert agent["execution_id"] == env.execution_id  # a Python agent runs inside the step's execution
    assert agent["duration"] > 0


@pytest.mark.parametrize(("attr", "payload", "expected"), [
    ("shout", {"text": "hi"}, "HI"),
    ("countdown", {"start": 3}, [3, 2, 1]),
    ("letters", {"word": "abc"}, ["a", "b", "c"]),
    ("takes_payload", {"city": "Oslo", "days": 2}, {"got": {"city": "Oslo", "days": 2}, "loud": False}),
    ("takes_payload", "plain text", {"got": "plain text", "loud": False}),
    ("takes_state", {"b": 1, "a": 2}, {"keys": ["a", "b"]}),
    ("one_param", "Lisbon", "weather in Lisbon"),
    ("ask", "what is mcp", {"query": "what is mcp", "top_k": 3}),
    ("respond", {"text": "hi"}, {"message": {"text": "hi"}, "history": None}),
    ("returns_model", None, {"answer": {"text": "hi", "score": 0.5}, "tags": ["a", "b"], "pair": [1, 2]}),
])
async def test_callable_shapes(hub, write_playbook, attr, payload, expected):
    tool = custom(attr, entrypoint_mode="callable")
    if payload is not None:
        tool["payload"] = payload
    env = await run_agent(hub, write_playbook, tool)
    assert env.ok, env.error
    assert env.data["data"] == expected


async def test_invoke_kwargs_go_over_the_payload(hub, write_playbook):
    env = await run_agent(hub, write_playbook, custom(
        "takes_payload", entrypoint_mode="callable", payload={"x": 1}, invoke_kwargs={"loud": True}))
    assert env.data["data"] == {"got": {"x": 1}, "loud": True}
    env = await run_agent(hub, write_playbook, custom(
        "add", entrypoint_mode="callable", payload={"a": 1, "b": 1}, invoke_kwargs={"b": 10}))
    assert env.data["data"]["sum"] == 11


async def test_factory_mode_builds_once_and_keeps_the_runtime(hub, write_playbook):
    tool = custom("Counter", entrypoint_args={"start": 100, "step": 5}, payload={"times": 2})
    first = await run_agent(hub, write_playbook, tool)
    assert first.ok, first.error
    h = await hub()
    second = await h.engine.run("agent_case", {})
    assert first.data["data"]["value"] == 110
    assert second.data["data"]["value"] == 120  # the same runtime: its state carried over
    assert second.data["data"]["build"] == first.data["data"]["build"]


async def test_factory_mode_with_an_explicit_method_and_async_factory(hub, write_playbook):
    env = await run_agent(hub, write_playbook, custom("Counter", invoke_method="reset"))
    assert env.ok, env.error
    assert env.data["data"] == {"value": 0}
    env = await run_agent(hub, write_playbook, custom("async_factory", entrypoint_args={"prefix": ">"},
                                                       payload={"text": "x"}))
    assert env.data["data"] == ">x"
    env = await run_agent(hub, write_playbook, custom("AsyncAgent", payload="m"))
    assert env.data["data"] == "async:m"  # ainvoke is preferred over invoke


async def test_callable_mode_uses_the_entrypoint_itself(hub, write_playbook):
    env = await run_agent(hub, write_playbook, custom("ready_agent", entrypoint_mode="callable", payload="m"))
    assert env.ok, env.error
    assert env.data["data"] == "async:m"
    env = await run_agent(hub, write_playbook, custom("ready_agent", payload="n"))
    assert env.data["data"] == "async:n"  # not callable, so no factory: used as it is
    env = await run_agent(hub, write_playbook, custom("shout", entrypoint_mode="callable", payload={"text": "a"}))
    assert env.data["data"] == "A"
    env = await run_agent(hub, write_playbook, custom("shout", payload={"text": "a"}))
    # factory mode calls shout() to build the runtime: it lacks its argument
    assert env.error.code == "INVALID_ENTRYPOINT_ARGS" and "missing argument 'text'" in env.error.message


@pytest.mark.parametrize(("tool", "code", "words"), [
    (custom("two_params", entrypoint_mode="callable", payload={"x": 2}), "PAYLOAD_MISMATCH",
     ["missing argument 'y'", "input-like"]),
    (custom("two_params", entrypoint_mode="callable", payload={"x": 2, "y": 3, "z": 4}), "PAYLOAD_MISMATCH",
     ["unknown argument 'z'"]),
    (custom("one_param", entrypoint_mode="callable", payload={"town": "Oslo"}), "PAYLOAD_MISMATCH",
     ["unknown argument 'town'", "missing argument 'city'"]),
    (custom("ask", entrypoint_mode="callable", payload={"q": "x"}), "PAYLOAD_MISMATCH",
     ["unknown argument 'q'", "'query' takes a str"]),
    (custom("respond", entrypoint_mode="callable", payload={"msg": "hi", "history": []}), "PAYLOAD_MISMATCH",
     ["unknown argument 'msg'", "its keys name parameters"]),
    (custom("make_no_methods"), "INVALID_INVOKE_METHOD", ["ainvoke, invoke, run_async, run, __call__"]),
    (custom("Counter", invoke_method="explode"), "INVALID_INVOKE_METHOD", ["no method 'explode'"]),
    (custom("Counter", entrypoint_args={"colour": "red"}), "INVALID_ENTRYPOINT_ARGS", ["unknown argument 'colour'"]),
    (custom("NOT_CALLABLE", entrypoint_args={"a": 1}), "INVALID_ENTRYPOINT_ARGS", ["not a factory"]),
    (custom("nothing_here"), "ENTRYPOINT_NOT_FOUND", ["has no attribute 'nothing_here'"]),
    ({"framework": "custom", "entrypoint": "no_such_package.mod:fn"}, "ENTRYPOINT_NOT_FOUND", ["not found"]),
    (custom("failing_factory"), "AGENT_FACTORY_ERROR", ["RuntimeError: no credentials for the agent"]),
])
async def test_problems_are_envelopes_with_codes(hub, write_playbook, tool, code, words):
    env = await run_agent(hub, write_playbook, tool)
    assert env.status == "error"
    assert env.error.code == code, env.error
    for word in words:
        assert word in env.error.message
    assert env.error.step.name == "agent" and env.error.step.kind == "agent"
    assert env.error.details["framework"] == "custom"
    assert env.error.details["entrypoint"] == tool["entrypoint"]


async def test_an_exception_inside_the_agent_fails_the_step_with_agent_error(hub, write_playbook):
    env = await run_agent(hub, write_playbook, custom("boom", entrypoint_mode="callable", payload={"reason": "x"}))
    assert env.status == "error"
    assert env.error.kind == "agent.execution" and env.error.code == "AGENT_ERROR"
    assert env.error.message == "ValueError: agent exploded: x"
    assert env.error.details["exception_type"] == "ValueError"
    assert any("agent exploded" in line for line in env.error.details["traceback"])
    assert env.error.retryable is False


async def test_a_failed_agent_stops_the_playbook(hub, write_playbook):
    """No NoETL carve-out: the step fails, so the next step never runs."""
    write_playbook("two", agent_playbook("two", custom("boom", entrypoint_mode="callable"), extra="""
next: after
"""[1:]) + """  - step: after
    tool: {kind: noop}
""")
    h = await hub()
    env = await h.engine.run("two", {})
    assert env.error.code == "AGENT_ERROR"
    await h.store.flush()
    steps = [e.step for e in await h.store.events(env.execution_id) if e.type == "step.started"]
    assert steps == ["agent"]


async def test_agent_timeout_and_the_execution_deadline(hub, write_playbook):
    env = await run_agent(hub, write_playbook, custom("sleepy", entrypoint_mode="callable",
                                                      payload={"seconds": 5}, timeout=0.2))
    assert env.error.kind == "agent.timeout" and env.error.code == "AGENT_TIMEOUT"
    assert env.error.retryable is True
    assert "0.2s" in env.error.message
    env = await run_agent(hub, write_playbook, custom("sleepy_sync", entrypoint_mode="callable",
                                                      payload={"seconds": 0.6}, timeout=0.1))
    assert env.error.code == "AGENT_TIMEOUT"  # a sync agent: the step ends, its thread finishes later
    env = await run_agent(hub, write_playbook, custom("sleepy", entrypoint_mode="callable",
                                                      payload={"seconds": 5}), timeout=0.3)
    assert env.error.code == "DEADLINE_EXCEEDED"
    assert env.error.details["framework"] == "custom"  # the kind itself reported it, as an envelope


# --- configuration problems known only at run time (templated values) ---------------------------

TEMPLATED = {"framework": {"type": "string"}, "mode": {"type": "string", "default": "factory"}}


@pytest.mark.parametrize(("arguments", "code", "words"), [
    ({"framework": "crewai"}, "UNKNOWN_FRAMEWORK", ["unknown framework 'crewai'", "adk, langchain, custom, noetl"]),
    ({"framework": "custom", "mode": "lazy"}, "INVALID_ENTRYPOINT_MODE", ["entrypoint_mode"]),
    ({"framework": "noetl"}, "INVALID_ENTRYPOINT", ["catalog path"]),
])
async def test_templated_values_are_checked_at_run_time(hub, write_playbook, arguments, code, words):
    tool = {"framework": "{{ input.framework }}", "entrypoint": f"{ENTRY}:add",
            "entrypoint_mode": "{{ input.mode }}", "payload": {"a": 1}}
    env = await run_agent(hub, write_playbook, tool, arguments, inputs=TEMPLATED)
    assert env.status == "error"
    assert env.error.kind == "agent.configuration" and env.error.code == code, env.error
    for word in words:
        assert word in env.error.message


async def test_unknown_framework_envelope_names_the_tool_kind(hub, write_playbook):
    from hub.contract.records import EventType

    tool = {"framework": "{{ input.framework }}", "entrypoint": f"{ENTRY}:add"}
    env = await run_agent(hub, write_playbook, tool, {"framework": "crewai"}, inputs={"framework": "string"})
    assert env.error.details["framework"] == "agent"
    h = await hub()
    await h.store.flush()
    failed = [e for e in await h.store.events(env.execution_id) if e.type == EventType.STEP_FAILED]
    assert failed and failed[0].data["error"]["code"] == "UNKNOWN_FRAMEWORK"


@pytest.mark.parametrize(("tool", "field", "words"), [
    ({"framework": "crewai", "entrypoint": "a.b:c"}, "framework", ["Input should be"]),
    ({"framework": "custom", "entrypoint": "a.b:c", "paylod": {}}, "paylod", ["did you mean 'payload'"]),
    ({"framework": "custom", "entrypoint": "not an entrypoint"}, "", ["package.module:attr"]),
    ({"framework": "adk", "entrypoint": "a.b:c", "version": 2}, "", ["framework noetl"]),
    ({"framework": "noetl", "entrypoint": "agents/x", "entrypoint_mode": "callable"}, "",
     ["not used by framework noetl"]),
    ({"framework": "noetl", "entrypoint": "agents/x", "invoke_kwargs": {"version": 2}}, "", ["`version:`"]),
    ({"framework": "custom", "entrypoint": "a.b:c", "entrypoint_mode": "callable",
      "entrypoint_args": {"x": 1}}, "", ["callable has no factory"]),
])
def test_literal_mistakes_are_refused_when_the_catalog_loads(tmp_path, tool, field, words):
    """What a playbook says literally is checked on load, with file, line and field."""
    from catalog.catalog import Catalog
    from hub.engine.kinds.registry import StepKinds

    (tmp_path / "bad.yaml").write_text(agent_playbook("bad", tool))
    catalog = Catalog(tmp_path, tool_kinds=StepKinds.builtin(plugins=False).tool_specs())
    problems = catalog.load()
    assert len(catalog) == 0 and problems
    text = "\n".join(str(p) for p in problems)
    assert "bad.yaml:" in text and f"workflow[0].tool{'.' + field if field else ''}" in text
    for word in words:
        assert word in text


def test_templated_values_pass_the_load_time_check(tmp_path):
    from catalog.catalog import Catalog
    from hub.engine.kinds.registry import StepKinds

    tool = {"framework": "{{ input.f }}", "entrypoint": "{{ input.e }}", "entrypoint_mode": "{{ input.m }}",
            "payload": "{{ input }}", "timeout": "{{ input.t }}"}
    (tmp_path / "ok.yaml").write_text(agent_playbook("ok", tool, inputs={"f": "string"}))
    catalog = Catalog(tmp_path, tool_kinds=StepKinds.builtin(plugins=False).tool_specs())
    assert catalog.load() == [] and len(catalog) == 1
