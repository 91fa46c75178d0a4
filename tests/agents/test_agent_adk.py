"""`framework: adk` with the real ADK runtime: an LlmAgent whose model is a local `BaseLlm`
subclass answering from a script (hub/examples/adk_agents.py), run through the hub."""

from __future__ import annotations

from typing import Any

import pytest

from hub.contract.records import EventType
from tests.agents.agent_support import ENTRY, agent_playbook

pytest.importorskip("google.adk", reason="needs the adk extra: pip install 'agenthub[adk]'")

WEATHER = "hub.examples.adk_agents:weather_agent"
TURN = {"text": {"type": "string"}, "session_id": {"type": "string", "required": False},
        "user_id": {"type": "string", "required": False}}
PAYLOAD = {"text": "{{ input.text }}", "session_id": "{{ input.session_id | default(none) }}",
           "user_id": "{{ input.user_id | default(none) }}"}


async def chat(hub: Any, write_playbook: Any, arguments: dict[str, Any], entrypoint: str = WEATHER,
               payload: Any = None) -> Any:
    tool = {"framework": "adk", "entrypoint": entrypoint, "payload": PAYLOAD if payload is None else payload}
    write_playbook("chat", agent_playbook("chat", tool, inputs=TURN))
    h = await hub()
    return await h.engine.run("chat", arguments)


async def test_a_tool_call_inside_the_agent(hub, write_playbook):
    env = await chat(hub, write_playbook, {"text": "What is the weather in Oslo?"})
    assert env.ok, env.error
    agent = env.data
    assert agent["status"] == "ok" and agent["framework"] == "adk" and agent["entrypoint"] == WEATHER
    assert agent["execution_id"] == env.execution_id and agent["duration"] > 0
    data = agent["data"]
    assert data["response"] == "It is 3 C and snowing in Oslo."  # the tool ran; the model used its result
    assert data["user_id"] == "agenthub" and data["session_id"].startswith("session-")
    # a summary of the stream, not a dump: call, tool response, answer
    assert data["events"] == {"count": 3, "tool_calls": {"get_weather": 1}, "authors": ["weather_agent"]}
    h = await hub()
    await h.store.flush()
    progress = [e for e in await h.store.events(env.execution_id) if e.type == EventType.STEP_PROGRESS]
    assert [p.data["tool"] for p in progress] == ["get_weather"]
    assert progress[0].data["message"] == "weather_agent calls tool get_weather"


async def test_a_session_continues_by_id(hub, write_playbook):
    first = await chat(hub, write_playbook, {"text": "hello there", "session_id": "s-1", "user_id": "ada"})
    assert first.ok, first.error
    assert first.data["data"]["response"] == "You said: hello there (user turn 1 of this session)"
    assert first.data["data"]["session_id"] == "s-1" and first.data["data"]["user_id"] == "ada"
    h = await hub()
    second = await h.engine.run("chat", {"text": "again", "session_id": "s-1", "user_id": "ada"})
    assert second.data["data"]["response"] == "You said: again (user turn 2 of this session)"
    other = await h.engine.run("chat", {"text": "new", "session_id": "s-2", "user_id": "ada"})
    assert other.data["data"]["response"].endswith("(user turn 1 of this session)")
    fresh = await h.engine.run("chat", {"text": "no id"})
    generated = fresh.data["data"]["session_id"]
    again = await h.engine.run("chat", {"text": "with id", "session_id": generated})
    assert again.data["data"]["response"].endswith("(user turn 2 of this session)")  # user_id defaults stably


async def test_a_factory_may_return_a_runner(hub, write_playbook):
    env = await chat(hub, write_playbook, {"text": "weather in Paris"}, entrypoint=f"{ENTRY}:adk_runner")
    assert env.ok, env.error
    assert env.data["data"]["response"] == "It is 18 C and cloudy in Paris."
    assert env.data["data"]["events"]["authors"] == ["runner_agent"]


async def test_structured_output_from_output_key_and_schema(hub, write_playbook):
    env = await chat(hub, write_playbook, {"text": "the VPN is down"}, entrypoint=f"{ENTRY}:adk_structured_agent")
    assert env.ok, env.error
    data = env.data["data"]
    assert data["output"] == {"priority": "high", "team": "network"}
    assert data["response"] == '{"priority": "high", "team": "network"}'


async def test_payload_forms(hub, write_playbook):
    env = await chat(hub, write_playbook, {"text": "x"}, entrypoint=f"{ENTRY}:adk_parts_agent",
                     payload={"parts": [{"text": "one"}, {"text": "two"}]})
    assert env.data["data"]["response"] == "2 parts: one | two"
    env = await chat(hub, write_playbook, {"text": "x"}, entrypoint=f"{ENTRY}:adk_parts_agent",
                     payload="a plain string")
    assert env.data["data"]["response"] == "1 parts: a plain string"
    env = await chat(hub, write_playbook, {"text": "x"}, entrypoint=f"{ENTRY}:adk_parts_agent",
                     payload={"message": "via message"})
    assert env.data["data"]["response"] == "1 parts: via message"


@pytest.mark.parametrize(("payload", "words"), [
    ({"txt": "typo"}, ["unknown key 'txt'"]),
    ({"session_id": "s"}, ["exactly one of text, message or parts"]),
    ({"text": "a", "message": "b"}, ["got text, message"]),
    ({"parts": [{"bogus": 1}]}, ["not ADK parts"]),
])
async def test_payload_mismatch(hub, write_playbook, payload, words):
    env = await chat(hub, write_playbook, {"text": "x"}, payload=payload)
    assert env.error.code == "PAYLOAD_MISMATCH", env.error
    for word in words:
        assert word in env.error.message


async def test_model_errors_and_exceptions_are_agent_errors(hub, write_playbook):
    env = await chat(hub, write_playbook, {"text": "x"}, entrypoint=f"{ENTRY}:adk_error_agent")
    assert env.error.code == "AGENT_ERROR"
    assert "RESOURCE_EXHAUSTED: quota used up" in env.error.message
    env = await chat(hub, write_playbook, {"text": "x"}, entrypoint=f"{ENTRY}:adk_raising_agent")
    assert env.error.code == "AGENT_ERROR"
    assert env.error.message == "ConnectionError: model host unreachable"
    assert env.error.details["framework"] == "adk"


async def test_not_an_adk_runtime(hub, write_playbook):
    env = await chat(hub, write_playbook, {"text": "x"}, entrypoint=f"{ENTRY}:ready_agent")
    assert env.error.code == "INVALID_RUNTIME"
    assert "needs an ADK agent or Runner" in env.error.message
