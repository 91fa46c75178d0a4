"""Step timeouts, the one shared deadline, and cancellation (local and through the store)."""

from __future__ import annotations

import asyncio

from hub.contract.records import ExecutionStatus

SLEEPER = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {{name: {name}}}
{top}
input:
  seconds: {{type: number}}
workflow:
  - step: first
    tool:
      kind: python
      code: |
        import asyncio
        async def main(seconds):
            await asyncio.sleep(seconds)
            return seconds
    input: {{seconds: "{{{{ input.seconds }}}}"}}
    {step_extra}
    next: second
  - step: second
    tool:
      kind: python
      code: |
        import asyncio
        async def main(seconds):
            await asyncio.sleep(seconds)
            return seconds
    input: {{seconds: "{{{{ input.seconds }}}}"}}
"""


async def test_step_timeout(hub, write_playbook):
    write_playbook("slow", SLEEPER.format(name="slow", top="", step_extra="timeout: 0.2"))
    h = await hub()
    env = await h.engine.run("slow", {"seconds": 5})
    assert env.error.code == "STEP_TIMEOUT" and env.error.kind == "agent.timeout"
    assert env.error.retryable is True and env.error.step.name == "first"
    assert (await h.store.get(env.execution_id)).status is ExecutionStatus.TIMED_OUT


async def test_deadline_is_shared_by_steps(hub, write_playbook):
    # each step alone fits in the deadline; together they do not
    write_playbook("two", SLEEPER.format(name="two", top="timeout: 0.5", step_extra=""))
    h = await hub()
    env = await h.engine.run("two", {"seconds": 0.3})
    assert env.error.code == "DEADLINE_EXCEEDED"
    assert env.error.step.name == "second"
    await h.store.flush()
    finished = [e.step for e in await h.store.events(env.execution_id) if e.type == "step.finished"]
    assert finished == ["first"]


async def test_deadline_is_shared_with_sub_runs(hub, write_playbook):
    write_playbook("child", SLEEPER.format(name="child", top="timeout: 60", step_extra=""))
    write_playbook("parent", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: parent}
        timeout: 0.4
        workflow:
          - step: call
            tool: {kind: playbook, path: child}
            input: {seconds: 10}
        """)
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.error.code == "DEADLINE_EXCEEDED"
    child_id = env.error.details["child_execution_id"]
    child = await h.store.get(child_id)
    assert child.parent_id == env.execution_id
    assert child.status is ExecutionStatus.TIMED_OUT
    assert child.envelope["error"]["code"] == "DEADLINE_EXCEEDED"
    assert env.duration < 10  # the child's own 60 s timeout did not apply


async def test_cancel_stops_a_run_and_records_it(hub, write_playbook):
    write_playbook("slow", SLEEPER.format(name="slow", top="", step_extra=""))
    h = await hub()
    handle = await h.engine.start("slow", {"seconds": 30})
    await asyncio.sleep(0.2)
    assert await h.engine.cancel(handle.execution_id)
    env = await handle.task
    assert env.error.code == "CANCELLED" and env.error.kind == "agent.cancelled"
    record = await h.store.get(handle.execution_id)
    assert record.status is ExecutionStatus.CANCELLED
    events = await h.store.events(handle.execution_id)
    assert events[-1].type == "execution.finished" and events[-1].data["status"] == "cancelled"


async def test_cancel_flag_in_store_reaches_the_running_engine(hub, write_playbook):
    write_playbook("slow", SLEEPER.format(name="slow", top="", step_extra=""))
    h = await hub()
    handle = await h.engine.start("slow", {"seconds": 30})
    await asyncio.sleep(0.1)
    assert await h.store.request_cancel(handle.execution_id)  # what `agenthub cancel` does
    env = await asyncio.wait_for(handle.task, 10)
    assert env.error.code == "CANCELLED"


async def test_caller_cancel_cancels_the_execution(hub, write_playbook):
    write_playbook("slow", SLEEPER.format(name="slow", top="", step_extra=""))
    h = await hub()
    caller = asyncio.create_task(h.engine.run("slow", {"seconds": 30}))
    await asyncio.sleep(0.2)
    caller.cancel()
    try:
        await caller
    except asyncio.CancelledError:
        pass
    [record] = await h.store.list(limit=1)
    assert record.status is ExecutionStatus.CANCELLED


async def test_cancel_of_a_parent_cancels_its_child(hub, write_playbook):
    write_playbook("child", SLEEPER.format(name="child", top="", step_extra=""))
    write_playbook("parent", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: parent}
        workflow:
          - step: call
            tool: {kind: playbook, path: child}
            input: {seconds: 30}
        """)
    h = await hub()
    handle = await h.engine.start("parent", {})
    await asyncio.sleep(0.3)
    await h.engine.cancel(handle.execution_id)
    env = await handle.task
    assert env.error.code == "CANCELLED"
    [child] = await h.store.list(parent_id=handle.execution_id)
    assert child.status is ExecutionStatus.CANCELLED
