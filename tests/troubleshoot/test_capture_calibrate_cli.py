"""`agenthub troubleshoot capture` and `calibrate` in real subprocesses: a real failed run becomes a
labelled, redacted case in a corpus directory that `eval` and `calibrate` read; `calibrate` writes
a profile that `eval` then applies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llm_servers import LlmServer, scripted_model
from test_cli_troubleshoot import agenthub, llm_env

from troubleshoot.corpus import load_corpora
from troubleshoot.eval import DEFAULT_CORPUS, load_corpus

SECRET = "kc-capture-Zq8Lm3Np7Rt2Vx6Yb1"
LEAKY = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: leaky}
keychain:
  - {name: svc, env: TS_CAPTURE_SECRET}
workflow:
  - step: sync
    tool:
      kind: python
      code: |
        def main(secret):
            raise KeyError("sync with " + secret + " and Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdmMifQ.c2lnbmF0dXJlMTIz")
    input: {secret: "{{ keychain.svc }}"}
"""


def test_capture_stores_a_redacted_labelled_case_that_eval_reads(tmp_path: Path) -> None:
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "leaky.yaml").write_text(LEAKY)
    env = {"TS_CAPTURE_SECRET": SECRET}
    run = agenthub("run", "leaky", "--json", tmp=tmp_path, env=env)
    execution_id = json.loads(run.stdout)["execution_id"]
    corpus = tmp_path / "mine"
    bad = agenthub("troubleshoot", "capture", execution_id, "--category", "oops", "--corpus-dir", str(corpus), tmp=tmp_path, env=env)
    assert bad.returncode == 2 and "not one of" in bad.stderr and not corpus.exists()
    done = agenthub("troubleshoot", "capture", execution_id[:13], "--category", "tool_error", "--corpus-dir", str(corpus),
                    "--note", "the payload had no total", tmp=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    files = list(corpus.glob("*.jsonl"))
    assert len(files) == 1 and str(files[0]) in done.stdout
    text = files[0].read_text()
    assert SECRET not in text and "eyJhbGciOiJIUzI1NiJ9" not in text and "***" in text
    (case,) = load_corpus(corpus)
    assert case.category.value == "tool_error" and case.origin == "captured" and case.note == "the payload had no total"
    assert case.signal.execution_id == execution_id and case.signal.failed_step == "sync"
    scored = json.loads(agenthub("troubleshoot", "eval", str(corpus), "--tiers", "rules", "--json", tmp=tmp_path).stdout)
    assert scored["cases"] == 1 and scored["tiers"]["rules"]["accuracy"] == 1.0
    assert len(load_corpora([DEFAULT_CORPUS, corpus])) == len(load_corpus()) + 1
    with pytest.raises(ValueError, match="nowhere"):
        load_corpora([tmp_path / "nowhere"])
    with pytest.raises(ValueError, match="is in"):
        load_corpora([corpus, corpus])


def test_calibrate_writes_a_profile_that_eval_applies(tmp_path: Path, ollama_server: LlmServer) -> None:
    labels = {c.signal.execution_id: c.category.value for c in load_corpus()}
    ollama_server.responder = scripted_model(labels, accuracy=0.4, confidence=0.7, wrong_confidence=0.95, salt="cli")
    env = {**llm_env(ollama_server, None), "AGENTHUB_TROUBLESHOOT_CALIBRATION_DIR": str(tmp_path / "profiles")}
    done = agenthub("troubleshoot", "calibrate", "--tiers", "rules,local", "--escalate-to", "none", "--concurrency", "8",
                    tmp=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    (profile_path,) = (tmp_path / "profiles").glob("ollama--gemma2_2b--*.json")
    profile = json.loads(profile_path.read_text())
    assert profile["base_url"] == ollama_server.url and profile["cases"] == len(labels) and str(profile_path) in done.stdout
    report = json.loads(agenthub("troubleshoot", "eval", "--tiers", "rules,local", "--escalate-to", "none", "--json",
                                 "--concurrency", "8", tmp=tmp_path, env=env).stdout)
    assert report["tiers"]["ollama"]["calibrated"] is True and report["cascade"]["calibrated"] == {"ollama": True}
    assert report["cascade"]["accuracy"] >= report["tiers"]["rules"]["accuracy"]
    assert report["tiers"]["ollama"]["p95_latency"] >= report["tiers"]["ollama"]["p50_latency"] > 0
    assert report["tiers"]["ollama"]["tokens_per_diagnosis"] == 160
