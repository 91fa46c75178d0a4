"""`agenthub diagnose` and `agenthub troubleshoot eval` in real subprocesses, against scripted
Ollama and OpenAI servers on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ESCALATION_TRUST, LOCAL_TRUST
from llm_servers import LlmServer, answer, closed_port_url, scripted_model, trusted_profile

from troubleshoot.eval import DEFAULT_CORPUS, load_corpus

REPO = Path(__file__).resolve().parents[2]

BOOM = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: boom}
workflow:
  - step: total
    tool:
      kind: python
      code: |
        def main():
            return {"items": []}["total"]
"""


def agenthub(*args: str, tmp: Path, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA_", "OPENAI_", "AGENTHUB_"))}
    full_env = {**base, "AGENTHUB_DB": str(tmp / "hub.db"), "AGENTHUB_CATALOG": str(tmp / "catalog"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "hub.cli.main", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def llm_env(ollama: LlmServer | None, openai: LlmServer | None, calibrated_in: Path | None = None) -> dict[str, str]:
    """The clients pointed at the servers (a closed port for None); with `calibrated_in`, the
    default models on them calibrated as well-behaved there (conftest's trust figures)."""
    env = {
        "OLLAMA_HOST": ollama.url if ollama else closed_port_url(),
        "OPENAI_BASE_URL": openai.base_url if openai else closed_port_url() + "/v1",
        "OPENAI_API_KEY": "sk-test-cli-0000000000000000",
    }
    if calibrated_in is not None:
        folder = calibrated_in / "calibration"
        if ollama:
            trusted_profile("ollama", ollama.url, "gemma2:2b", LOCAL_TRUST, folder)
        if openai:
            trusted_profile("openai", openai.base_url, "gpt-4o-mini", ESCALATION_TRUST, folder)
        env["AGENTHUB_TROUBLESHOOT_CALIBRATION_DIR"] = str(folder)
    return env


def failed_execution(tmp: Path) -> str:
    (tmp / "catalog").mkdir(exist_ok=True)
    (tmp / "catalog" / "boom.yaml").write_text(BOOM)
    done = agenthub("run", "boom", "--json", tmp=tmp)
    assert done.returncode == 1, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["error"]["code"] == "PYTHON_ERROR" and "diagnosis" not in envelope["error"]  # opt-in is off
    return envelope["execution_id"]


def test_diagnose_prints_the_diagnosis_and_records_it(tmp_path: Path, ollama_server: LlmServer, openai_server: LlmServer) -> None:
    execution_id = failed_execution(tmp_path)
    ollama_server.script(answer("tool_error", 0.9, "Step total reads the key 'total' from an empty dict.",
                                "Return a default when the key is missing."))
    env = llm_env(ollama_server, openai_server, calibrated_in=tmp_path)
    shown = agenthub("diagnose", execution_id[:13], tmp=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"diagnosis of {execution_id} (boom)" in shown.stdout
    assert "tool_error" in shown.stdout and "Step total reads the key 'total' from an empty dict." in shown.stdout
    assert "kept from ollama" in shown.stdout and "escalated: no" in shown.stdout
    as_json = agenthub("diagnose", execution_id, "--json", "--escalate-to", "none", tmp=tmp_path, env=env)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["execution_id"] == execution_id and data["category"] == "tool_error"
    assert set(data) >= {"category", "confidence", "root_cause", "suggested_action", "source", "escalated", "tiers"}
    report = json.loads(agenthub("executions", "show", execution_id, "--json", tmp=tmp_path).stdout)
    recorded = [e for e in report["events"] if e["type"] == "diagnosis.finished"]
    assert len(recorded) == 2 and all(e["data"]["trigger"] == "on_demand" for e in recorded)
    assert "diagnosis" not in report["execution"]["envelope"]["error"]  # the stored answer is history
    assert len(ollama_server.requests) == 2 and openai_server.requests == []


def test_diagnose_works_with_no_model_at_all(tmp_path: Path) -> None:
    execution_id = failed_execution(tmp_path)
    shown = agenthub("diagnose", execution_id, "--json", tmp=tmp_path, env=llm_env(None, None))
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["category"] == "tool_error" and data["source"] == "rules"
    # the rule (KeyError -> tool_error at 0.75) is above the threshold: no escalation needed
    assert [(t["tier"], t["outcome"]) for t in data["tiers"]] == [("rules", "ok"), ("ollama", "unreachable")]
    strict = agenthub("diagnose", execution_id, "--json", "--threshold", "0.9", tmp=tmp_path, env=llm_env(None, None))
    tiers = [(t["tier"], t["outcome"]) for t in json.loads(strict.stdout)["tiers"]]
    assert tiers == [("rules", "ok"), ("ollama", "unreachable"), ("openai", "unreachable")]


def test_diagnose_refuses_what_it_cannot_diagnose(tmp_path: Path) -> None:
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "fine.yaml").write_text("apiVersion: agenthub/v1\nkind: Playbook\nmetadata: {name: fine}\n"
                                                    "workflow:\n  - step: s\n    tool: {kind: noop}\n    input: {a: 1}\n")
    ok = json.loads(agenthub("run", "fine", "--json", tmp=tmp_path).stdout)
    refused = agenthub("diagnose", ok["execution_id"], tmp=tmp_path, env=llm_env(None, None))
    assert refused.returncode == 1 and "no failure to diagnose" in refused.stderr
    unknown = agenthub("diagnose", "ffffffff-0000", tmp=tmp_path, env=llm_env(None, None))
    assert unknown.returncode == 2 and "no execution" in unknown.stderr


def _labels() -> dict[str, str]:
    return {case.signal.execution_id: case.category.value for case in load_corpus(DEFAULT_CORPUS)}


def test_eval_json_shape_on_the_committed_corpus(tmp_path: Path, ollama_server: LlmServer, openai_server: LlmServer) -> None:
    labels = _labels()
    ollama_server.responder = scripted_model(labels, accuracy=0.7, confidence=0.85, wrong_confidence=0.8, salt="ollama")
    openai_server.responder = scripted_model(labels, accuracy=0.9, confidence=0.9, wrong_confidence=0.7, salt="openai")
    done = agenthub("troubleshoot", "eval", "--json", tmp=tmp_path, env=llm_env(ollama_server, openai_server))
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)  # exactly one JSON object
    assert set(report) == {"tiers", "cascade", "cases"}
    assert report["cases"] == len(labels) >= 60
    assert set(report["tiers"]) == {"rules", "ollama", "openai"}
    for name in ("rules", "ollama", "openai"):
        tier = report["tiers"][name]
        assert tier["status"] == "ok" and 0 <= tier["accuracy"] <= 1 and 0 <= tier["ece"] <= 1
    assert report["tiers"]["ollama"]["tokens_in"] == 120 * len(labels)
    cascade = report["cascade"]
    assert {"accuracy", "escalation_rate", "ece"} <= set(cascade)
    assert 0 < cascade["escalation_rate"] < 1
    assert cascade["accuracy"] >= report["tiers"]["ollama"]["accuracy"]
    assert len(ollama_server.requests) == len(labels) and len(openai_server.requests) == len(labels)
    table = agenthub("troubleshoot", "eval", tmp=tmp_path, env=llm_env(ollama_server, openai_server))
    assert table.returncode == 0 and "cascade" in table.stdout and "escalation rate" in table.stdout


def test_eval_reports_unreachable_tiers_as_skipped(tmp_path: Path) -> None:
    done = agenthub("troubleshoot", "eval", "--json", tmp=tmp_path, env=llm_env(None, None))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["tiers"]["ollama"]["status"] == "skipped" and "unreachable" in report["tiers"]["ollama"]["reason"]
    assert report["tiers"]["openai"]["status"] == "skipped"
    assert report["cascade"]["accuracy"] == report["tiers"]["rules"]["accuracy"]
    only_rules = json.loads(agenthub("troubleshoot", "eval", "--json", "--tiers", "rules", tmp=tmp_path).stdout)
    assert only_rules["tiers"]["ollama"]["reason"] == "not selected (--tiers)"
    bad = agenthub("troubleshoot", "eval", "--tiers", "rules,claude", tmp=tmp_path)
    assert bad.returncode == 2
