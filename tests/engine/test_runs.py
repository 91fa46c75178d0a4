"""Runs end to end through the engine: envelopes, events, arcs, loops, set/result, sub-runs."""

from __future__ import annotations

from typing import Any

from hub.contract.records import ExecutionStatus


async def _events(hub: Any, execution_id: str) -> list[Any]:
    await hub.store.flush()
    return await hub.store.events(execution_id)


async def test_hello_envelope_and_events(hub, write_playbook, catalog_dir):
    from pathlib import Path
    import shutil

    repo = Path(__file__).resolve().parents[2]
    shutil.copy(repo / "playbooks" / "hello.yaml", catalog_dir / "hello.yaml")
    h = await hub()
    env = await h.engine.run("hello", {"name": "Ada"})
    assert env.status == "ok", env
    assert env.data == {"greeting": "Hello, Ada!"}
    assert env.framework == "noetl" and env.entrypoint == "hello"
    assert env.execution_id and env.duration > 0
    record = await h.store.get(env.execution_id)
    assert record.status is ExecutionStatus.SUCCEEDED
    assert record.arguments == {"name": "Ada"}
    assert record.envelope["data"] == {"greeting": "Hello, Ada!"}
    types = [e.type for e in await _events(h, env.execution_id)]
    assert types == ["execution.started", "step.started", "step.finished", "execution.finished"]
    default = await h.engine.run("hello", {})
    assert default.data == {"greeting": "Hello, World!"}


async def test_first_match_arcs_set_and_result(hub, write_playbook):
    write_playbook("route", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: route}
        input:
          n: {type: integer}
        workflow:
          - step: start
            tool: {kind: noop}
            input: {doubled: "{{ input.n * 2 }}"}
            set:
              doubled: "{{ output.doubled }}"
            next:
              - step: big
                when: "{{ doubled > 10 }}"
              - step: small
          - step: big
            tool: {kind: noop}
            result: {size: big, value: "{{ doubled }}"}
          - step: small
            tool: {kind: noop}
            result: {size: small, value: "{{ doubled }}"}
        """)
    h = await hub()
    big = await h.engine.run("route", {"n": 6})
    small = await h.engine.run("route", {"n": 2})
    assert big.data == {"size": "big", "value": 12}
    assert small.data == {"size": "small", "value": 4}
    ran = {e.step for e in await _events(h, small.execution_id) if e.type == "step.finished"}
    assert ran == {"start", "small"}


async def test_all_matches_fan_out(hub, write_playbook):
    write_playbook("fan", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: fan}
        workflow:
          - step: start
            tool: {kind: noop}
            next:
              mode: all
              arcs:
                - {step: a, when: true}
                - {step: b}
                - {step: c, when: "{{ false }}"}
          - step: a
            tool: {kind: noop}
            set: {a_done: true}
          - step: b
            tool: {kind: noop}
            set: {b_done: true}
          - step: c
            tool: {kind: noop}
        result: {a: "{{ vars.a_done | default(false) }}", b: "{{ vars.b_done | default(false) }}", c: "{{ 'c' in steps }}"}
        """)
    h = await hub()
    env = await h.engine.run("fan", {})
    assert env.ok, env.error
    assert env.data == {"a": True, "b": True, "c": False}


async def test_sequential_loop_keeps_order_and_loop_facts(hub, write_playbook):
    write_playbook("seq", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: seq}
        input:
          words: {type: array, items: {type: string}}
        workflow:
          - step: each
            loop: {in: "{{ input.words }}", iterator: word}
            tool: {kind: noop}
            input: {w: "{{ word | upper }}", i: "{{ loop.index }}", last: "{{ loop.last }}"}
        """)
    h = await hub()
    env = await h.engine.run("seq", {"words": ["a", "b", "c"]})
    assert env.data == [
        {"w": "A", "i": 0, "last": False},
        {"w": "B", "i": 1, "last": False},
        {"w": "C", "i": 2, "last": True},
    ]


async def test_parallel_loop_is_bounded_and_ordered(hub, write_playbook):
    write_playbook("par", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: par}
        workflow:
          - step: each
            loop: {in: "{{ range(10) | list }}", mode: parallel, max_in_flight: 3}
            tool:
              kind: python
              code: |
                import asyncio
                state = {"now": 0, "peak": 0}
                async def main(i):
                    state["now"] += 1
                    state["peak"] = max(state["peak"], state["now"])
                    await asyncio.sleep(0.02)
                    state["now"] -= 1
                    return {"i": i, "peak": state["peak"]}
            input: {i: "{{ item }}"}
        """)
    h = await hub()
    env = await h.engine.run("par", {})
    assert env.ok, env.error
    assert [d["i"] for d in env.data] == list(range(10))
    peak = max(d["peak"] for d in env.data)
    assert peak == 3  # bounded by max_in_flight, and really parallel


async def test_loop_over_non_list_is_configuration_error(hub, write_playbook):
    write_playbook("badloop", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: badloop}
        workflow:
          - step: each
            loop: {in: "{{ 42 }}"}
            tool: {kind: noop}
        """)
    h = await hub()
    env = await h.engine.run("badloop", {})
    assert env.error.code == "LOOP_INPUT_INVALID"
    assert env.error.step.name == "each"


async def test_python_sync_runs_off_loop_and_errors_become_envelopes(hub, write_playbook):
    write_playbook("py", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: py}
        input:
          fail: {type: boolean, default: false}
        workflow:
          - step: where
            tool:
              kind: python
              code: |
                import threading
                def main(fail):
                    if fail:
                        raise ValueError("the answer was not 42")
                    return threading.current_thread() is threading.main_thread()
            input: {fail: "{{ input.fail }}"}
        """)
    h = await hub()
    ok = await h.engine.run("py", {})
    assert ok.data is False  # not on the event loop's thread
    bad = await h.engine.run("py", {"fail": True})
    assert bad.status == "error"
    assert bad.error.code == "PYTHON_ERROR" and bad.error.kind == "agent.execution"
    assert "ValueError: the answer was not 42" in bad.error.message
    assert bad.error.details["exception_type"] == "ValueError"
    assert any("raise ValueError" in line for line in bad.error.details["traceback"])
    assert bad.error.step.name == "where" and bad.error.step.kind == "python"
    record = await h.store.get(bad.execution_id)
    assert record.status is ExecutionStatus.FAILED


async def test_python_function_imports(hub, write_playbook, tmp_path, monkeypatch):
    pkg = tmp_path / "pylib"
    pkg.mkdir()
    (pkg / "goodmod.py").write_text("def add(a, b):\n    return a + b\n")
    (pkg / "needsdep.py").write_text("import surely_not_installed_pkg\n\ndef f():\n    return 1\n")
    monkeypatch.syspath_prepend(str(pkg))
    for name, fn, inp in (
        ("good", "goodmod:add", "{a: 2, b: 3}"),
        ("nomod", "no_such_module_xyz:f", "{}"),
        ("noattr", "goodmod:nope", "{}"),
        ("dep", "needsdep:f", "{}"),
        ("sig", "goodmod:add", "{a: 1, c: 2}"),
    ):
        write_playbook(name, f"""
            apiVersion: agenthub/v1
            kind: Playbook
            metadata: {{name: {name}}}
            workflow:
              - step: call
                tool: {{kind: python, function: "{fn}"}}
                input: {inp}
            """)
    h = await hub()
    assert (await h.engine.run("good", {})).data == 5
    nomod = await h.engine.run("nomod", {})
    assert nomod.error.code == "ENTRYPOINT_NOT_FOUND" and "no_such_module_xyz" in nomod.error.message
    noattr = await h.engine.run("noattr", {})
    assert noattr.error.code == "ENTRYPOINT_NOT_FOUND" and "nope" in noattr.error.message
    dep = await h.engine.run("dep", {})
    assert dep.error.code == "MODULE_DEPENDENCY_MISSING" and dep.error.kind == "agent.dependency"
    assert "surely_not_installed_pkg" in dep.error.message
    sig = await h.engine.run("sig", {})
    assert sig.error.code == "STEP_CONFIG_INVALID" and "c" in sig.error.message


async def test_input_validation_runs_nothing(hub, write_playbook):
    write_playbook("typed", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: typed}
        input:
          count: {type: integer, minimum: 1}
          mode: {type: string, enum: [fast, slow], default: fast}
        workflow:
          - step: s
            tool: {kind: noop}
        """)
    h = await hub()
    env = await h.engine.run("typed", {"count": "three", "mode": "warp"})
    assert env.status == "error"
    assert env.error.kind == "input.validation" and env.error.code == "INPUT_INVALID"
    paths = {e["path"] for e in env.error.details["errors"]}
    assert paths == {"input.count", "input.mode"}
    missing = await h.engine.run("typed", {})
    assert missing.error.code == "INPUT_INVALID" and "count" in missing.error.message
    events = await _events(h, env.execution_id)
    assert [e.type for e in events] == ["execution.finished"]  # no step ran
    assert (await h.store.get(env.execution_id)).status is ExecutionStatus.FAILED


async def test_output_schema_is_enforced(hub, write_playbook):
    write_playbook("out", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: out}
        output:
          type: object
          properties: {n: {type: integer}}
          required: [n]
        workflow:
          - step: s
            tool: {kind: noop}
            input: {n: "not a number"}
        """)
    h = await hub()
    env = await h.engine.run("out", {})
    assert env.error.code == "OUTPUT_INVALID"
    assert "result.n" in env.error.message


async def test_unknown_playbook_is_an_envelope(hub):
    h = await hub()
    env = await h.engine.run("does/not/exist", {})
    assert env.status == "error" and env.error.code == "PLAYBOOK_NOT_FOUND"
    assert (await h.store.get(env.execution_id)).status is ExecutionStatus.FAILED


async def test_concurrency_limit_refuses_clearly(hub, write_playbook):
    import asyncio

    write_playbook("wait", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: wait}
        workflow:
          - step: s
            tool:
              kind: python
              code: |
                import asyncio
                async def main():
                    await asyncio.sleep(30)
        """)
    h = await hub(max_concurrent=1)
    first = await h.engine.start("wait", {})
    refused = await h.engine.run("wait", {})
    assert refused.error.code == "TOO_MANY_EXECUTIONS" and refused.error.retryable is True
    running = await h.engine.snapshot(first.execution_id)
    assert running.status == "running" and running.execution_id == first.execution_id
    await h.engine.cancel(first.execution_id)
    await first.task
    assert (await h.engine.snapshot(first.execution_id)).error.code == "CANCELLED"
    assert (await h.engine.run("wait", {}, timeout=0.05)).error.code == "DEADLINE_EXCEEDED"


async def test_runaway_arc_cycle_hits_the_step_limit(hub, write_playbook):
    write_playbook("spin", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: spin}
        workflow:
          - step: tick
            tool: {kind: noop}
            next: tock
          - step: tock
            tool: {kind: noop}
            next: tick
        """)
    h = await hub()
    h.engine.settings.max_activations = 50
    env = await h.engine.run("spin", {})
    assert env.error.code == "STEP_LIMIT_EXCEEDED" and "50" in env.error.message
    await h.store.flush()
    finished = [e for e in await h.store.events(env.execution_id) if e.type == "step.finished"]
    assert len(finished) == 50


async def test_a_short_run_commits_its_record_events_and_end_in_one_transaction(hub, write_playbook):
    """The record's write, the four events and the final write of a run that never waits reach
    the store's writer in one hand-over: one transaction, not one for the record and one for the
    rest (each costs the writer thread a wake-up and a commit)."""
    write_playbook("quick", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: quick}
        input:
          text: {type: string}
        workflow:
          - step: echo
            tool:
              kind: python
              code: |
                async def main(text):
                    return {"text": text}
            input: {text: "{{ input.text }}"}
        """)
    h = await hub()
    assert (await h.engine.run("quick", {"text": "warm"})).ok  # compiles and caches the step
    await h.store.flush()
    for i in range(5):
        before = h.store.stats.transactions
        env = await h.engine.run("quick", {"text": f"call {i}"})
        assert env.ok and env.data == {"text": f"call {i}"}, env
        assert h.store.stats.transactions - before == 1
        record = await h.store.get(env.execution_id)
        assert record.status is ExecutionStatus.SUCCEEDED and record.envelope["data"] == {"text": f"call {i}"}
        types = [e.type for e in await h.store.events(env.execution_id)]
        assert types == ["execution.started", "step.started", "step.finished", "execution.finished"]


async def test_tool_configs_without_templates_are_checked_once_and_templated_ones_every_run(hub, write_playbook):
    """A tool block with no template is validated once and reused (`StepConfigs`); one with
    templates is rendered for each run (a fixed block that does not validate never loads)."""
    write_playbook("configs", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: configs}
        input:
          greeting: {type: string}
        workflow:
          - step: fixed
            tool:
              kind: python
              code: |
                def main():
                    return "fixed"
            next: templated
          - step: templated
            tool:
              kind: python
              input: {greeting: "{{ input.greeting }}"}
              code: |
                result = greeting + "!"
            result: {fixed: "{{ fixed }}", templated: "{{ templated }}"}
        """)
    h = await hub()
    for greeting in ("hello", "hi", "hey"):
        env = await h.engine.run("configs", {"greeting": greeting})
        assert env.ok and env.data == {"fixed": "fixed", "templated": f"{greeting}!"}, env
