"""The `agenthub` command line end to end, in real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def agenthub(*args: str, db: Path, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "AGENTHUB_DB": str(db), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "hub.cli.main", *args], cwd=cwd, env=full_env,
        capture_output=True, text=True, timeout=timeout,
    )


def start_agenthub(*args: str, db: Path, cwd: Path = REPO) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hub.cli.main", *args], cwd=cwd, env={**os.environ, "AGENTHUB_DB": str(db)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for(predicate: Any, timeout: float = 60, interval: float = 0.1, proc: subprocess.Popen[str] | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"agenthub exited with {proc.returncode}: {out}\n{err}")
        time.sleep(interval)
    if proc is not None:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"condition not met in time; agenthub said: {out}\n{err}")
    raise AssertionError("condition not met in time")


SLOW = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: slow}
workflow:
  - step: warm_up
    tool: {kind: noop}
    input: {ready: true}
    next: nap
  - step: nap
    tool:
      kind: python
      code: |
        import asyncio
        async def main():
            await asyncio.sleep(120)
"""


def test_run_hello_json_then_show(tmp_path):
    db = tmp_path / "hub.db"
    done = agenthub("run", "playbooks/hello.yaml", "--set", "name=Ada", "--json", db=db)
    assert done.returncode == 0, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["status"] == "ok"
    assert envelope["data"] == {"greeting": "Hello, Ada!"}
    assert envelope["execution_id"] and envelope["duration"] > 0
    assert "error" not in envelope
    show = agenthub("executions", "show", envelope["execution_id"], db=db)
    assert show.returncode == 0, show.stderr
    assert envelope["execution_id"] in show.stdout
    assert "succeeded" in show.stdout and "greet" in show.stdout and "Hello, Ada!" in show.stdout
    listing = agenthub("executions", "list", db=db)
    assert envelope["execution_id"] in listing.stdout and "hello@1" in listing.stdout
    by_prefix = agenthub("executions", "show", envelope["execution_id"][:13], "--json", db=db)
    report = json.loads(by_prefix.stdout)
    assert [e["type"] for e in report["events"]] == ["execution.started", "step.started", "step.finished", "execution.finished"]


def test_run_by_name_with_progress_and_typed_sets(tmp_path):
    db = tmp_path / "hub.db"
    done = agenthub("run", "order_totals", "--progress", "--input-json",
                    '{"lines": [{"sku": "007", "qty": 2, "price": 10}]}', "--set", "review_above=5", db=db)
    assert done.returncode == 0, done.stderr
    assert "- price_lines[0] (python) ..." in done.stderr
    assert "+ sum ok in" in done.stderr
    assert '"decision": "review"' in done.stdout
    named = agenthub("run", "hello", "--set", "name=007", "--json", db=db)  # a string input stays a string
    assert json.loads(named.stdout)["data"] == {"greeting": "Hello, 007!"}


NOISY = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: noisy}
workflow:
  - step: talk
    tool:
      kind: python
      code: |
        import os, subprocess
        def main():
            print("PRINTED-BY-STEP")
            os.write(1, b"WRITTEN-TO-FD-1\\n")
            subprocess.run(["echo", "ECHOED-BY-CHILD"], check=True)
            return {"said": 3}
"""


def test_run_json_prints_only_the_envelope_while_the_step_prints(tmp_path):
    playbook = tmp_path / "noisy.yaml"
    playbook.write_text(textwrap.dedent(NOISY).lstrip())
    done = agenthub("run", str(playbook), "--json", db=tmp_path / "hub.db")
    assert done.returncode == 0, done.stderr
    envelope = json.loads(done.stdout)  # the whole stdout is one JSON document
    assert envelope["status"] == "ok" and envelope["data"] == {"said": 3}
    for line in ("PRINTED-BY-STEP", "WRITTEN-TO-FD-1", "ECHOED-BY-CHILD"):
        assert line in done.stderr and line not in done.stdout


def test_error_envelope_exits_non_zero(tmp_path):
    db = tmp_path / "hub.db"
    bad = agenthub("run", "order_totals", "--json", "--input-json", '{"lines": "nope"}', db=db)
    assert bad.returncode == 1
    envelope = json.loads(bad.stdout)
    assert envelope["status"] == "error" and envelope["error"]["code"] == "INPUT_INVALID"
    assert envelope["execution_id"]
    missing = agenthub("run", "no_such_playbook", db=db)
    assert missing.returncode == 2 and "no playbook 'no_such_playbook'" in missing.stderr


def test_catalog_validate_reports_file_line_field(tmp_path):
    catalog = tmp_path / "cat"
    catalog.mkdir()
    (catalog / "good.yaml").write_text((REPO / "playbooks" / "hello.yaml").read_text())
    (catalog / "broken.yaml").write_text(textwrap.dedent("""
        apiVersion: agenthub/v1
        kind: Playbook
        metadata:
          name: broken
        workflow:
          - step: s
            tool:
              kind: http
              method: GET
              urll: http://example.invalid
        """).lstrip())
    done = agenthub("catalog", "validate", str(catalog), db=tmp_path / "hub.db")
    assert done.returncode == 1
    assert "ok       good" in done.stdout
    problem_lines = [l for l in done.stdout.splitlines() if l.startswith("problem")]
    assert any("broken.yaml:10:" in l and "workflow[0].tool.urll" in l for l in problem_lines), done.stdout
    assert any("broken.yaml:" in l and "workflow[0].tool.url" in l for l in problem_lines), done.stdout
    listing = agenthub("catalog", "list", "--catalog", str(catalog), db=tmp_path / "hub.db")
    assert listing.returncode == 0 and "good@1  hello" in listing.stdout and "broken" not in listing.stdout


def test_catalog_show_and_schema(tmp_path):
    shown = agenthub("catalog", "show", "hello", "--json", db=tmp_path / "hub.db")
    info = json.loads(shown.stdout)
    assert info["name"] == "hello" and info["input_schema"]["properties"]["name"]["default"] == "World"
    out = tmp_path / "playbook.schema.json"
    done = agenthub("catalog", "schema", "-o", str(out), db=tmp_path / "hub.db")
    assert done.returncode == 0
    schema = json.loads(out.read_text())
    assert schema["$schema"].endswith("2020-12/schema")
    assert "http" in json.dumps(schema) and "playbook" in json.dumps(schema)


def _running_execution(db: Path) -> dict[str, Any] | None:
    listing = agenthub("executions", "list", "--json", "--status", "running", db=db)
    rows = json.loads(listing.stdout or "[]")
    return rows[0] if rows else None


def _events(db: Path, execution_id: str) -> list[dict[str, Any]]:
    return json.loads(agenthub("executions", "show", execution_id, "--json", db=db).stdout)["events"]


def test_kill_9_keeps_written_events_and_marks_failed(tmp_path):
    db = tmp_path / "hub.db"
    (tmp_path / "slow.yaml").write_text(SLOW)
    proc = start_agenthub("run", str(tmp_path / "slow.yaml"), db=db)
    try:
        running = wait_for(lambda: _running_execution(db), proc=proc)
        execution_id = running["id"]
        before = wait_for(lambda: (ev := _events(db, execution_id)) and any(
            e["type"] == "step.started" and e["step"] == "nap" for e in ev) and ev)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    shown = json.loads(agenthub("executions", "show", execution_id, "--json", db=db).stdout)
    assert shown["execution"]["status"] == "failed"
    assert shown["execution"]["envelope"]["error"]["code"] == "PROCESS_DIED"
    after = shown["events"]
    assert after[: len(before)] == before  # everything written before the kill is still there
    assert [e["type"] for e in before] == ["execution.started", "step.started", "step.finished", "step.started"]
    assert after[-1]["type"] == "execution.finished" and after[-1]["data"]["status"] == "failed"
    report = agenthub("executions", "show", execution_id, db=db).stdout
    assert "PROCESS_DIED" in report and "failed" in report


def test_cancel_from_another_process(tmp_path):
    db = tmp_path / "hub.db"
    (tmp_path / "slow.yaml").write_text(SLOW)
    proc = start_agenthub("run", str(tmp_path / "slow.yaml"), "--json", db=db)
    try:
        execution_id = wait_for(lambda: _running_execution(db), proc=proc)["id"]
        cancelled = agenthub("cancel", execution_id, db=db)
        assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
        assert f"{execution_id} cancelled" in cancelled.stdout
        out, _ = proc.communicate(timeout=90)  # a guard against a hang, not a speed check
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    envelope = json.loads(out)
    assert envelope["error"]["code"] == "CANCELLED" and envelope["execution_id"] == execution_id
    again = agenthub("cancel", execution_id, db=db)
    assert again.returncode == 1 and "already cancelled" in again.stdout
