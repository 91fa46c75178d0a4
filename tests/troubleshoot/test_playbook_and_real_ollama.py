"""The troubleshoot agent as a catalog playbook, and an opt-in run against a real Ollama."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from llm_servers import answer

from troubleshoot.settings import TroubleshootSettings
from troubleshoot.signal import FailureSignal
from troubleshoot.cascade import diagnose_signal

REPO = Path(__file__).resolve().parents[2]


async def test_the_playbook_diagnoses_an_execution_of_its_own_hub(hub, write_playbook, catalog_dir, llm_env, ollama_server) -> None:
    (catalog_dir / "troubleshoot").mkdir()
    shutil.copy(REPO / "playbooks" / "troubleshoot" / "diagnose_execution.yaml", catalog_dir / "troubleshoot")
    write_playbook("boom", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: boom}
        workflow:
          - step: s
            tool: {kind: python, code: "def main():\\n    return 1 / 0"}
    """)
    ollama_server.script(answer("tool_error", 0.9, "Step s divides by zero."))
    h = await hub()
    failed = await h.engine.run("boom", {})
    assert failed.error.diagnosis is None
    envelope = await h.engine.run("diagnose_execution", {"execution_id": failed.execution_id[:18], "escalate_to": "none"})
    assert envelope.status == "ok", envelope.error
    assert envelope.data["execution_id"] == failed.execution_id[:18]
    assert envelope.data["category"] == "tool_error" and envelope.data["root_cause"] == "Step s divides by zero."
    await h.store.flush()
    events = [e for e in await h.store.events(failed.execution_id) if e.type == "diagnosis.finished"]
    assert len(events) == 1 and events[0].data["trigger"] == "on_demand"


async def test_the_playbook_refuses_to_run_outside_a_hub() -> None:
    from troubleshoot.agent import diagnose

    with pytest.raises(RuntimeError, match="only as a step"):
        await diagnose("x")


@pytest.mark.skipif(not os.environ.get("AGENTHUB_TEST_OLLAMA_HOST"),
                    reason="set AGENTHUB_TEST_OLLAMA_HOST (and optionally AGENTHUB_TEST_OLLAMA_MODEL) to run against a real Ollama")
async def test_against_a_real_ollama(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", os.environ["AGENTHUB_TEST_OLLAMA_HOST"])
    signal = FailureSignal(
        execution_id="0190c0de-0000-7000-8000-000000000001", playbook="examples/http_status", failed_step="fetch",
        tool_kind="http", framework="http", error_kind="agent.execution", error_code="HTTP_STATUS_503",
        error_message="GET http://status.example/status -> 503 Service Unavailable: {\"error\": \"maintenance\"}",
        retryable=True, http_status=503, attempts=4,
    )
    settings = TroubleshootSettings(
        enabled=True, escalate_to="none", budget=120,
        ollama_model=os.environ.get("AGENTHUB_TEST_OLLAMA_MODEL", "gemma2:2b"),
    )
    diagnosis = await diagnose_signal(signal, settings)
    local = [t for t in diagnosis.tiers if t.tier == "ollama"]
    assert local and local[0].outcome == "ok", local
    assert local[0].category is not None and 0 <= (local[0].confidence or 0) <= 1
    assert diagnosis.category.value == "transient_5xx"  # the rule and any sane model agree on a 503
