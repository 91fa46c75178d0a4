"""`framework: langchain` with real langchain-core runnables and its fake chat models, offline."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agents.agent_support import ENTRY, agent_playbook

pytest.importorskip("langchain_core", reason="needs the langchain extra: pip install 'agenthub[langchain]'")


async def run_chain(hub: Any, write_playbook: Any, tool: dict[str, Any], arguments: dict[str, Any] | None = None,
                    **options: Any) -> Any:
    write_playbook("chain", agent_playbook("chain", {"framework": "langchain", **tool}, **options))
    h = await hub()
    return await h.engine.run("chain", arguments or {})


async def test_prompt_model_parser_chain_with_a_fake_list_model(hub, write_playbook):
    env = await run_chain(hub, write_playbook, {
        "entrypoint": "hub.examples.langchain_agents:support_chain",
        "entrypoint_args": {"answers": ["Turn it off and on.", "Check the cable."]},
        "payload": {"product": "{{ input.product }}", "question": "{{ input.question }}"},
    }, {"product": "modem", "question": "It blinks red"}, inputs={"product": "string", "question": "string"})
    assert env.ok, env.error
    agent = env.data
    assert agent["status"] == "ok" and agent["framework"] == "langchain"
    assert agent["entrypoint"] == "hub.examples.langchain_agents:support_chain"
    assert agent["data"] == "Turn it off and on."
    assert agent["execution_id"] == env.execution_id and agent["duration"] > 0
    h = await hub()
    again = await h.engine.run("chain", {"product": "modem", "question": "Still red"})
    assert again.data["data"] == "Check the cable."  # the same chain (built once) answers next


async def test_generic_fake_chat_model_with_a_json_parser(hub, write_playbook):
    env = await run_chain(hub, write_playbook, {
        "entrypoint": "hub.examples.langchain_agents:triage_chain",
        "entrypoint_args": {"reply": '{"priority": "urgent", "team": "infra"}'},
        "payload": {"ticket": "the site is down"},
    })
    assert env.ok, env.error
    assert env.data["data"] == {"priority": "urgent", "team": "infra"}


async def test_runnable_lambda_gets_the_dict_as_input_and_the_config(hub, write_playbook):
    env = await run_chain(hub, write_playbook, {
        "entrypoint": "hub.examples.langchain_agents:word_stats",
        "payload": {"text": "a quick brown fox"},
    })
    assert env.ok, env.error
    data = env.data["data"]
    assert data["words"] == 4 and data["longest"] == "quick"  # the dict arrived whole, not spread
    assert "agenthub" in data["seen_config"]["tags"]
    assert data["seen_config"]["metadata"]["execution_id"] == env.execution_id


async def test_the_config_reaches_the_runnable(hub, write_playbook):
    env = await run_chain(hub, write_playbook, {
        "entrypoint": f"{ENTRY}:langchain_config_echo",
        "payload": {"question": "why", "n": 2},
        "invoke_kwargs": {"config": {"tags": ["mine"], "metadata": {"team": "a"}}},
    })
    assert env.ok, env.error
    seen = env.data["data"]
    assert seen["input"] == {"question": "why", "n": 2}
    assert seen["kwargs"] == {}
    assert seen["run_name"] == "chain.agent"
    assert seen["tags"] == ["mine", "agenthub", "step:agent"]
    assert seen["metadata"] == {"team": "a", "execution_id": env.execution_id, "playbook": "chain",
                                "step": "agent", "attempt": 1}


async def test_outputs_messages_become_content_and_models_are_dumped(hub, write_playbook):
    env = await run_chain(hub, write_playbook, {"entrypoint": f"{ENTRY}:langchain_message_model", "payload": "hi"})
    assert env.data["data"] == "plain answer"
    env = await run_chain(hub, write_playbook, {"entrypoint": f"{ENTRY}:langchain_structured", "payload": "t"})
    assert env.data["data"] == {"priority": "low", "team": "billing"}


async def test_other_methods_and_streams(hub, write_playbook):
    env = await run_chain(hub, write_playbook, {
        "entrypoint": f"{ENTRY}:langchain_message_model", "payload": "hi", "invoke_method": "astream"})
    assert env.ok, env.error
    assert "".join(env.data["data"]) == "plain answer"  # chunks drained, each one its content
    env = await run_chain(hub, write_playbook, {
        "entrypoint": f"{ENTRY}:langchain_message_model", "payload": ["a", "b"], "invoke_method": "abatch"})
    assert env.data["data"] == ["plain answer", "plain answer"]


async def test_failures(hub, write_playbook):
    env = await run_chain(hub, write_playbook, {"entrypoint": f"{ENTRY}:langchain_failing_chain", "payload": {}})
    assert env.error.code == "AGENT_ERROR" and env.error.message == "KeyError: 'missing_variable'"
    assert env.error.details["framework"] == "langchain"
    env = await run_chain(hub, write_playbook, {"entrypoint": f"{ENTRY}:add", "entrypoint_mode": "callable"})
    assert env.error.code == "INVALID_RUNTIME" and "needs a Runnable" in env.error.message
    env = await run_chain(hub, write_playbook, {
        "entrypoint": f"{ENTRY}:langchain_message_model", "payload": "x", "invoke_method": "nope"})
    assert env.error.code == "INVALID_INVOKE_METHOD"
