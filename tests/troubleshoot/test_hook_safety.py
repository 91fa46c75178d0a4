"""The hook's guarantees: settings precedence, the recursion guard, and "the original error is
untouched when anything inside the hook fails"."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from llm_servers import answer

from catalog.model import TroubleshootKnobs
from hub.contract.envelope import Envelope, ErrorInfo, StepRef
from hub.contract.errors import ErrorCode
from hub.contract.hooks import FailedRun
from hub.contract.secrets import Redactor
from hub.contract.steps import RunContext
from troubleshoot.hook import TroubleshootHook
from troubleshoot.settings import resolve

K = TroubleshootKnobs


# --- settings precedence -----------------------------------------------------------------------


def test_default_is_off() -> None:
    settings = resolve(environ={})
    assert settings.enabled is False and settings.enabled_by == "default"
    assert (settings.ollama_model, settings.confidence_threshold, settings.escalate_to, settings.openai_model) == (
        "gemma2:2b", 0.7, "openai", "gpt-4o-mini")


@pytest.mark.parametrize(
    ("step", "playbook", "env", "server", "enabled", "by"),
    [
        (None, None, None, True, True, "server"),
        (None, None, "0", True, False, "env"),
        (None, None, "true", False, True, "env"),
        (None, False, "1", True, False, "playbook"),
        (None, True, "0", False, True, "playbook"),
        (True, False, "0", False, True, "step"),
        (False, True, "1", True, False, "step"),
        (None, None, "maybe", True, True, "server"),  # an unreadable env value is ignored
    ],
)
def test_switch_precedence(step, playbook, env, server, enabled, by) -> None:
    settings = resolve(
        step=K(troubleshoot=step), playbook=K(troubleshoot=playbook), server=K(troubleshoot=server),
        environ={} if env is None else {"AGENTHUB_AUTO_TROUBLESHOOT": env},
    )
    assert (settings.enabled, settings.enabled_by) == (enabled, by)


def test_knobs_resolve_one_by_one() -> None:
    settings = resolve(
        step=K(budget=3),
        playbook=K(ollama_model="llama3.2:1b", budget=9, confidence_threshold=0.8),
        server=K(troubleshoot=True, openai_model="gpt-x", confidence_threshold=0.5, escalate_to="none"),
        environ={},
    )
    assert (settings.budget, settings.ollama_model, settings.confidence_threshold) == (3, "llama3.2:1b", 0.8)
    assert (settings.openai_model, settings.escalate_to, settings.enabled) == ("gpt-x", "none", True)


def test_on_demand_ignores_the_switch_but_not_the_knobs() -> None:
    settings = resolve(playbook=K(troubleshoot=False, budget=4), environ={"AGENTHUB_AUTO_TROUBLESHOOT": "0"}, on_demand=True)
    assert settings.enabled and settings.enabled_by == "on_demand" and settings.budget == 4


def test_unknown_knobs_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    knobs = K.model_validate({"troubleshoot": True, "troubleshoot_path": "x/y", "noetl_url": "http://n"})
    with caplog.at_level(logging.WARNING, logger="agenthub.troubleshoot"):
        settings = resolve(step=knobs, environ={})
    assert settings.enabled
    assert "troubleshoot_path" in caplog.text and "noetl_url" in caplog.text
    assert "troubleshoot_path" not in settings.model_dump()


async def test_precedence_through_the_engine(hub, write_playbook, monkeypatch, llm_env, ollama_server) -> None:
    """A step's `on_failure: false` beats the playbook, the env and the server config."""
    monkeypatch.setenv("AGENTHUB_AUTO_TROUBLESHOOT", "1")
    write_playbook("quiet", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: quiet}
        on_failure: {troubleshoot: true}
        workflow:
          - step: fine
            tool: {kind: noop}
            input: {x: 1}
            next: noisy
          - step: noisy
            on_failure: {troubleshoot: false}
            tool: {kind: python, code: "def main():\\n    raise RuntimeError('expected in this loop')"}
    """)
    write_playbook("loud", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: loud}
        workflow:
          - step: boom
            tool: {kind: python, code: "def main():\\n    raise RuntimeError('boom')"}
    """)
    ollama_server.script(answer("tool_error", 0.9))
    h = await hub(troubleshoot=K(troubleshoot=False))
    quiet = await h.engine.run("quiet", {})
    assert quiet.error.diagnosis is None
    loud = await h.engine.run("loud", {})  # env 1 beats the server's false
    assert loud.error.diagnosis is not None and loud.error.diagnosis["category"] == "tool_error"
    monkeypatch.setenv("AGENTHUB_AUTO_TROUBLESHOOT", "0")
    assert (await h.engine.run("loud", {})).error.diagnosis is None


async def test_server_config_turns_it_on(hub, write_playbook, llm_env, ollama_server) -> None:
    write_playbook("loud", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: loud}
        workflow:
          - step: boom
            tool: {kind: python, code: "def main():\\n    raise RuntimeError('boom')"}
    """)
    ollama_server.script(answer("tool_error", 0.9))
    h = await hub(troubleshoot=K(troubleshoot=True, escalate_to="none"))
    assert (await h.engine.run("loud", {})).error.diagnosis["category"] == "tool_error"


# --- the recursion guard -------------------------------------------------------------------------

TROUBLESHOOTER = """
    apiVersion: agenthub/v1
    kind: Playbook
    metadata: {name: my_troubleshooter, capabilities: [troubleshooting]}
    on_failure: {troubleshoot: true}
    workflow:
      - step: look
        on_failure: {troubleshoot: true}
        tool: {kind: playbook, path: broken_helper}
"""
BROKEN = """
    apiVersion: agenthub/v1
    kind: Playbook
    metadata: {name: broken_helper}
    on_failure: {troubleshoot: true}
    workflow:
      - step: boom
        tool: {kind: python, code: "def main():\\n    raise RuntimeError('the diagnosis itself broke')"}
"""


async def test_a_troubleshoot_agent_is_never_diagnosed(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server) -> None:
    """Its own failure and the failures of everything it starts carry troubleshoot_depth >= 1."""
    monkeypatch.setenv("AGENTHUB_AUTO_TROUBLESHOOT", "1")
    write_playbook("my_troubleshooter", TROUBLESHOOTER)
    write_playbook("broken_helper", BROKEN)
    ollama_server.script(answer("tool_error", 0.9))
    h = await hub()
    envelope = await h.engine.run("my_troubleshooter", {})
    assert envelope.status == "error" and envelope.error.code == "PLAYBOOK_FAILED"
    assert envelope.error.diagnosis is None
    child_id = envelope.error.details["child_execution_id"]
    child = await h.store.get(child_id)
    assert "diagnosis" not in child.envelope["error"]
    await h.store.flush()
    for execution_id in (envelope.execution_id, child_id):
        assert not [e for e in await h.store.events(execution_id) if e.type == "diagnosis.finished"]
    assert ollama_server.requests == [] and openai_server.requests == []
    # the same helper run on its own is diagnosed: the guard is the context, not the playbook
    alone = await h.engine.run("broken_helper", {})
    assert alone.error.diagnosis is not None and len(ollama_server.requests) == 1


async def test_the_bundled_troubleshoot_playbook_does_not_diagnose_itself(hub, catalog_dir, monkeypatch, llm_env, ollama_server) -> None:
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    (catalog_dir / "troubleshoot").mkdir()
    shutil.copy(repo / "playbooks" / "troubleshoot" / "diagnose_execution.yaml", catalog_dir / "troubleshoot")
    monkeypatch.setenv("AGENTHUB_AUTO_TROUBLESHOOT", "1")
    h = await hub()
    envelope = await h.engine.run("troubleshoot/diagnose_execution", {"execution_id": "no-such-execution"})
    assert envelope.status == "error" and "no execution" in envelope.error.message
    assert envelope.error.diagnosis is None and ollama_server.requests == []


# --- the original error is untouched when the hook fails ----------------------------------------


def _failed_run(envelope: Envelope, *, depth: int = 0, on_failure: str = "{troubleshoot: true}") -> FailedRun:
    from catalog.catalog import Catalog

    catalog = Catalog("/nonexistent")
    entry, problems = catalog.add(f"""
apiVersion: agenthub/v1
kind: Playbook
metadata: {{name: p}}
on_failure: {on_failure}
workflow:
  - step: s
    tool: {{kind: noop}}
""", path="p")
    assert entry is not None, problems
    emitted: list[Any] = []
    context = RunContext(execution_id=envelope.execution_id, playbook_path="p", dispatcher=None, troubleshoot_depth=depth)  # type: ignore[arg-type]
    return FailedRun(envelope, context, entry, {}, Redactor(), lambda *a, **k: emitted.append((a, k)))


def _envelope() -> Envelope:
    error = ErrorInfo.of(ErrorCode.PYTHON_ERROR, "KeyError: 'total'", step=StepRef(name="s", kind="python"))
    return Envelope(status="error", framework="noetl", entrypoint="p", execution_id="0190-x", duration=0.1, error=error)


class BrokenStore:
    async def flush(self) -> None:
        raise OSError("disk on fire")

    async def get(self, execution_id: str) -> Any:
        raise OSError("disk on fire")


async def test_hook_failure_returns_the_very_same_envelope(monkeypatch) -> None:
    monkeypatch.setenv("AGENTHUB_AUTO_TROUBLESHOOT", "1")
    envelope = _envelope()
    before = envelope.model_dump()
    failed = _failed_run(envelope)
    result = await TroubleshootHook(BrokenStore()).__call__(failed)  # type: ignore[arg-type]
    assert result is envelope and envelope.model_dump() == before
    assert result.error.diagnosis is None


async def test_hook_skips_a_troubleshoot_context_without_touching_anything(monkeypatch) -> None:
    envelope = _envelope()
    failed = _failed_run(envelope, depth=1)
    assert await TroubleshootHook(BrokenStore()).__call__(failed) is envelope  # type: ignore[arg-type]


async def test_a_raising_hook_leaves_the_run_as_it_was(hub, write_playbook) -> None:
    write_playbook("boom", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: boom}
        on_failure: {troubleshoot: true}
        workflow:
          - step: s
            tool: {kind: python, code: "def main():\\n    raise KeyError('total')"}
    """)
    h = await hub()
    plain = await h.engine.run("boom", {})

    async def explode(failed: FailedRun) -> Envelope:
        raise RuntimeError("hook bug")

    async def rewrite(failed: FailedRun) -> Envelope:
        error = failed.envelope.error.model_copy(update={"message": "something else", "diagnosis": {"x": 1}})
        return failed.envelope.model_copy(update={"error": error})

    for bad in (explode, rewrite):
        h.engine.failure_hooks = [bad]
        envelope = await h.engine.run("boom", {})
        assert envelope.error.model_dump(exclude={"diagnosis"}) == plain.error.model_dump(exclude={"diagnosis"})
        assert envelope.error.diagnosis is None
        record = await h.store.get(envelope.execution_id)
        assert record.envelope["error"]["message"] == "KeyError: 'total'" and "diagnosis" not in record.envelope["error"]


async def test_a_raising_tier_is_recorded_and_the_error_kept(hub, write_playbook, llm_env) -> None:
    """A provider that breaks its never-raise contract: recorded as `error`, rules still answer."""
    write_playbook("boom", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: boom}
        on_failure: {troubleshoot: true, escalate_to: none}
        workflow:
          - step: s
            tool: {kind: python, code: "def main():\\n    raise KeyError('total')"}
    """)

    class Exploding:
        name, model = "ollama", "boom"

        async def complete(self, *a: Any, **k: Any) -> Any:
            raise RuntimeError("provider bug")

        async def aclose(self) -> None:
            raise RuntimeError("close bug too")

    h = await hub()
    h.troubleshoot.providers = lambda spec: Exploding()
    envelope = await h.engine.run("boom", {})
    d = envelope.error.diagnosis
    assert envelope.error.code == "PYTHON_ERROR" and envelope.error.message == "KeyError: 'total'"
    assert [(t["tier"], t["outcome"]) for t in d["tiers"]] == [("rules", "ok"), ("ollama", "error")]
    assert "provider bug" in d["tiers"][1]["detail"] and d["source"] == "rules"


async def test_a_failing_diagnosis_inside_the_engine_keeps_the_error(hub, write_playbook, monkeypatch) -> None:
    write_playbook("boom", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: boom}
        on_failure: {troubleshoot: true}
        workflow:
          - step: s
            tool: {kind: python, code: "def main():\\n    raise KeyError('total')"}
    """)
    h = await hub()

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("signal extraction bug")

    monkeypatch.setattr("troubleshoot.signal.collect_signal", broken)  # the hook imports it when it diagnoses
    envelope = await h.engine.run("boom", {})
    assert envelope.error.diagnosis is None and envelope.error.message == "KeyError: 'total'"
    await h.store.flush()
    assert not [e for e in await h.store.events(envelope.execution_id) if e.type == "diagnosis.finished"]


async def test_a_cancel_during_the_diagnosis_stores_the_undiagnosed_error(hub, write_playbook) -> None:
    import asyncio

    write_playbook("boom", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: boom}
        workflow:
          - step: s
            tool: {kind: python, code: "def main():\\n    raise KeyError('total')"}
    """)
    h = await hub()
    entered = asyncio.Event()

    async def slow(failed: FailedRun) -> Envelope:
        entered.set()
        await asyncio.sleep(30)
        return failed.envelope

    h.engine.failure_hooks = [slow]
    handle = await h.engine.start("boom", {})
    await asyncio.wait_for(entered.wait(), 5)
    handle.task.cancel()
    await asyncio.wait([handle.task])
    record = await h.store.get(handle.execution_id)
    assert record.status.value == "failed"
    assert record.envelope["error"]["code"] == "PYTHON_ERROR" and "diagnosis" not in record.envelope["error"]
