"""`framework: noetl` (alias `playbook`): a catalog playbook run as an agent, as a sub-execution."""

from __future__ import annotations

import textwrap
from typing import Any

from tests.agents.agent_support import agent_playbook

CHILD = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {{name: {name}}}
input:
  word: {{type: string}}
  times: {{type: integer, default: 1}}
workflow:
  - step: work
    tool:
      kind: python
      code: |
        import asyncio
        async def main(word, times):
            await asyncio.sleep(0.05)
            return {{"said": " ".join([word] * times), "version": {version}}}
    input: {{word: "{{{{ input.word }}}}", times: "{{{{ input.times }}}}"}}
"""

LEAKY = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: leaky}
input:
  word: {type: string}
workflow:
  - step: look
    tool:
      kind: python
      code: |
        def main(names):
            return names
    input: {names: "{{ vars | list + input | list }}"}
"""

FAILING = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: failing_child}
workflow:
  - step: explode
    tool:
      kind: python
      code: |
        def main():
            raise RuntimeError("child broke")
"""

SLOW = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: slow_child}
workflow:
  - step: nap
    tool:
      kind: python
      code: |
        import asyncio
        async def main():
            await asyncio.sleep(10)
"""


def child(name: str = "echo_child", version: int = 1) -> str:
    return textwrap.dedent(CHILD.format(name=name, version=version)).lstrip()


def noetl(entrypoint: str, **more: Any) -> dict[str, Any]:
    return {"framework": "noetl", "entrypoint": entrypoint, **more}


async def test_a_playbook_as_agent_envelope_is_the_childs(hub, write_playbook):
    write_playbook("echo_child", child())
    write_playbook("parent", agent_playbook("parent", noetl("echo_child", payload={"word": "hi", "times": 2})))
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.ok, env.error
    agent = env.data
    assert agent["status"] == "ok" and agent["framework"] == "noetl" and agent["entrypoint"] == "echo_child"
    assert agent["data"] == {"said": "hi hi", "version": 1}
    child_record = (await h.store.list(parent_id=env.execution_id))[0]
    assert agent["execution_id"] == child_record.id != env.execution_id
    assert child_record.parent_id == env.execution_id and child_record.depth == 1
    assert agent["duration"] == child_record.envelope["duration"]  # the child's whole run
    assert agent["duration"] >= 0.05


async def test_alias_playbook_and_invoke_kwargs_over_the_payload(hub, write_playbook):
    write_playbook("echo_child", child())
    tool = {"framework": "playbook", "entrypoint": "echo_child", "payload": {"word": "a", "times": 1},
            "invoke_kwargs": {"times": 3}}
    write_playbook("parent", agent_playbook("parent", tool))
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.data["framework"] == "noetl"
    assert env.data["data"]["said"] == "a a a"


async def test_version_pin(hub, write_playbook):
    write_playbook("echo_child", child(version=1))
    h = await hub()
    assert h.catalog.get("echo_child").version == 1
    write_playbook("echo_child", child(version=2))
    write_playbook("pinned", agent_playbook("pinned", noetl("echo_child", version=1, payload={"word": "x"})))
    write_playbook("latest", agent_playbook("latest", noetl("echo_child", payload={"word": "x"})))
    write_playbook("at_ref", agent_playbook("at_ref", noetl("echo_child@1", payload={"word": "x"})))
    h = await hub()
    assert h.catalog.get("echo_child").version == 2
    assert (await h.engine.run("pinned", {})).data["data"]["version"] == 1
    assert (await h.engine.run("latest", {})).data["data"]["version"] == 2
    assert (await h.engine.run("at_ref", {})).data["data"]["version"] == 1
    write_playbook("missing", agent_playbook("missing", noetl("echo_child", version=9, payload={"word": "x"})))
    h = await hub()
    env = await h.engine.run("missing", {})
    assert env.error.code == "PLAYBOOK_FAILED" and env.error.details["child_code"] == "PLAYBOOK_NOT_FOUND"


async def test_only_the_payload_reaches_the_child(hub, write_playbook):
    write_playbook("leaky", LEAKY)
    write_playbook("parent", agent_playbook(
        "parent", noetl("leaky", payload={"word": "w"}), inputs={"secret_word": {"type": "string"}},
        extra="set: {parent_var: 1}"))
    h = await hub()
    env = await h.engine.run("parent", {"secret_word": "hidden"})
    assert env.ok, env.error
    assert env.data["data"] == ["word"]  # no parent variable, no parent input


async def test_a_failing_child(hub, write_playbook):
    write_playbook("failing_child", FAILING)
    write_playbook("parent", agent_playbook("parent", noetl("failing_child")))
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.status == "error"
    error = env.error
    assert error.kind == "agent.execution" and error.code == "PLAYBOOK_FAILED"
    child_record = (await h.store.list(parent_id=env.execution_id))[0]
    assert error.details["child_execution_id"] == child_record.id
    assert error.details["child_code"] == "PYTHON_ERROR"
    assert error.details["framework"] == "noetl" and error.details["entrypoint"] == "failing_child"
    assert "RuntimeError: child broke" in error.message
    assert error.step.name == "agent" and error.step.kind == "agent"


async def test_the_payload_must_be_a_mapping(hub, write_playbook):
    write_playbook("echo_child", child())
    write_playbook("parent", agent_playbook("parent", noetl("echo_child", payload="just text")))
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.error.code == "PAYLOAD_MISMATCH" and "must be a mapping" in env.error.message
    write_playbook("parent", agent_playbook("parent", noetl("echo_child", payload={"wrod": "typo"})))
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.error.code == "PLAYBOOK_FAILED" and env.error.details["child_code"] == "INPUT_INVALID"


async def test_a_cycle_is_stopped_by_the_depth_limit(hub, write_playbook):
    write_playbook("ping", agent_playbook("ping", noetl("pong")))
    write_playbook("pong", agent_playbook("pong", noetl("ping")))
    h = await hub(max_depth=3)
    env = await h.engine.run("ping", {})
    assert env.error.code == "PLAYBOOK_FAILED"
    record = await h.store.get(env.execution_id)
    depth = 0
    while children := await h.store.list(parent_id=record.id):
        record, depth = children[0], depth + 1
    assert depth == 4
    assert record.envelope["error"]["code"] == "DEPTH_LIMIT_EXCEEDED"
    assert "ping -> pong -> ping -> pong -> ping" in record.envelope["error"]["message"]


async def test_the_steps_timeout_stops_the_child(hub, write_playbook):
    write_playbook("slow_child", SLOW)
    write_playbook("parent", agent_playbook("parent", noetl("slow_child", timeout=0.3)))
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.error.kind == "agent.timeout" and env.error.code == "AGENT_TIMEOUT"
    child_record = (await h.store.list(parent_id=env.execution_id))[0]
    assert env.error.details["child_execution_id"] == child_record.id
    assert child_record.status.value == "timed_out"


async def test_the_parents_deadline_applies_to_the_child(hub, write_playbook):
    write_playbook("slow_child", SLOW)
    write_playbook("parent", agent_playbook("parent", noetl("slow_child", timeout=30), timeout=0.3))
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.error.code == "DEADLINE_EXCEEDED"
    child_record = (await h.store.list(parent_id=env.execution_id))[0]
    assert env.error.details["child_execution_id"] == child_record.id
    assert env.duration < 5
