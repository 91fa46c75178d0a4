"""`playbook` steps: parent ids, version pins, only declared inputs, the depth limit."""

from __future__ import annotations

from hub.contract.records import ExecutionStatus

CHILD = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {{name: child}}
input:
  x: {{type: integer}}
workflow:
  - step: calc
    tool: {{kind: noop}}
    input: {{value: "{{{{ input.x {op} }}}}", seen: "{{{{ vars | list }}}}"}}
    result: "{{{{ output }}}}"
"""

PARENT = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {{name: parent}}
input:
  secret_note: {{type: string, default: "parent-only"}}
workflow:
  - step: prepare
    tool: {{kind: noop}}
    set: {{parent_var: 1}}
    next: call
  - step: call
    tool: {{kind: playbook, path: child {pin}}}
    input: {input}
"""


async def test_sub_run_links_parent_and_passes_only_its_input(hub, write_playbook):
    write_playbook("child", CHILD.format(op="+ 1"))
    write_playbook("parent", PARENT.format(pin="", input="{x: 41}"))
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.ok, env.error
    assert env.data == {"value": 42, "seen": []}  # the parent's vars did not leak into the child
    [child] = await h.store.list(parent_id=env.execution_id)
    assert child.playbook_path == "child" and child.depth == 1
    assert child.arguments == {"x": 41}
    await h.store.flush()
    finished = [e for e in await h.store.events(env.execution_id) if e.type == "step.finished" and e.step == "call"]
    assert finished[0].data["child_execution_id"] == child.id


async def test_undeclared_input_fails_the_child_validation(hub, write_playbook):
    write_playbook("child", CHILD.format(op="+ 1"))
    write_playbook("parent", PARENT.format(pin="", input="{x: 1, extra: 2}"))
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.error.code == "PLAYBOOK_FAILED"
    assert env.error.details["child_code"] == "INPUT_INVALID"
    assert "extra" in env.error.message
    assert env.error.step.name == "call" and env.error.step.kind == "playbook"


async def test_version_pin_runs_the_old_content(hub, write_playbook):
    write_playbook("child", CHILD.format(op="+ 1"))
    h = await hub()
    assert (await h.engine.run("child", {"x": 1})).data["value"] == 2
    write_playbook("child", CHILD.format(op="* 100"))  # version 2
    write_playbook("parent", PARENT.format(pin=", version: 1", input="{x: 5}"))
    h = await hub()
    assert h.catalog.get("child").version == 2
    pinned = await h.engine.run("parent", {})
    assert pinned.data["value"] == 6
    [child] = await h.store.list(parent_id=pinned.execution_id)
    assert child.playbook_version == 1
    assert (await h.engine.run("child", {"x": 5})).data["value"] == 500


async def test_failing_child_gives_playbook_failed_with_child_id(hub, write_playbook):
    write_playbook("child", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: child}
        workflow:
          - step: boom
            tool:
              kind: python
              code: |
                def main():
                    raise RuntimeError("child broke")
        """)
    write_playbook("parent", PARENT.format(pin="", input="{}"))
    h = await hub()
    env = await h.engine.run("parent", {})
    assert env.error.code == "PLAYBOOK_FAILED" and env.error.kind == "agent.execution"
    child = await h.store.get(env.error.details["child_execution_id"])
    assert child.status is ExecutionStatus.FAILED
    assert child.envelope["error"]["code"] == "PYTHON_ERROR"
    assert "child broke" in env.error.message


async def test_cycle_is_stopped_by_the_depth_limit(hub, write_playbook):
    for me, other in (("ping", "pong"), ("pong", "ping")):
        write_playbook(me, f"""
            apiVersion: agenthub/v1
            kind: Playbook
            metadata: {{name: {me}}}
            workflow:
              - step: call
                tool: {{kind: playbook, path: {other}}}
            """)
    h = await hub(max_depth=4)
    env = await h.engine.run("ping", {})
    assert env.status == "error" and env.error.code == "PLAYBOOK_FAILED"
    # walk down to the deepest child: it is the one refused by the limit
    record = await h.store.get(env.execution_id)
    depth = 0
    while True:
        children = await h.store.list(parent_id=record.id)
        if not children:
            break
        record, depth = children[0], depth + 1
    assert depth == 5
    assert record.envelope["error"]["code"] == "DEPTH_LIMIT_EXCEEDED"
    assert "ping -> pong -> ping -> pong -> ping -> pong" in record.envelope["error"]["message"]


async def test_bundled_greet_team_calls_hello(hub, catalog_dir):
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "playbooks", catalog_dir, dirs_exist_ok=True)
    h = await hub()
    env = await h.engine.run("greet_team", {"names": ["Ada", "Grace"]})
    assert env.ok, env.error
    assert env.data == {"greetings": ["Hello, Ada!", "Hello, Grace!"]}
    orders = await h.engine.run("order_totals", {"lines": [
        {"sku": "a", "qty": 2, "price": 300}, {"sku": "b", "qty": 1, "price": 500.5}]})
    assert orders.data["total"] == 1100.5 and orders.data["decision"] == "review"
    small = await h.engine.run("order_totals", {"lines": [{"sku": "a", "qty": 1, "price": 3}]})
    assert small.data == {"total": 3, "lines": [{"sku": "a", "total": 3}], "decision": "approved"}
