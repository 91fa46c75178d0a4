"""NoETL kinds the hub knows of but cannot run: the playbook loads, `catalog validate` warns which
kind it needs (file:line), a run answers TOOL_KIND_UNAVAILABLE naming it after the steps before it
ran, and the rest of the catalog is untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hub.cli.main import main
from hub.engine.kinds.registry import StepKinds
from hub.engine.kinds.unavailable import NOETL_UNAVAILABLE
from tests.conftest import REPO
from tests.kinds.kinds_support import run

SNOWFLAKE = """
    apiVersion: noetl.io/v2
    kind: Playbook
    metadata: {name: warehouse, path: etl/warehouse, description: Loads orders into the warehouse.}
    workflow:
      - step: start
        tool: {kind: noop}
        input: {started: true}
        next: [{step: load}]
      - step: load
        tool:
          kind: snowflake
          auth: "{{ workload.sf_auth }}"
          command: "SELECT {{ undefined_name.deeper }}"
    """

PLAIN = """
    apiVersion: agenthub/v1
    kind: Playbook
    metadata: {name: plain, description: Runs nothing unusual.}
    workflow:
      - step: only
        tool: {kind: noop}
        input: {fine: true}
    """


def test_every_noetl_kind_is_known():
    kinds = StepKinds.builtin(plugins=False)
    noetl_kinds = {
        "http", "postgres", "duckdb", "ducklake", "python", "workbook", "playbook", "playbooks", "secrets",
        "iterator", "container", "script", "snowflake", "transfer", "snowflake_transfer", "gcs", "gateway",
        "nats", "agent", "mcp", "shell", "artifact", "noop", "task_sequence", "rhai", "result_fetch",
    }
    assert noetl_kinds <= set(kinds.names())
    specs = kinds.tool_specs()
    runnable = {n for n in noetl_kinds if specs[n].unavailable is None}
    assert {"http", "postgres", "duckdb", "python", "playbook", "secrets", "nats", "agent", "mcp", "shell",
            "noop"} <= runnable
    for name in noetl_kinds - runnable:
        assert specs[name].unavailable == NOETL_UNAVAILABLE[name]


async def test_loads_and_fails_at_the_step_with_a_dependency_envelope(hub, write_playbook):
    write_playbook("warehouse", SNOWFLAKE)
    write_playbook("plain", PLAIN)
    h = await hub()
    assert not h.problems
    envelope = await h.engine.run("etl/warehouse", {})
    error = envelope.error
    assert (error.kind, error.code, error.retryable) == ("agent.dependency", "TOOL_KIND_UNAVAILABLE", False)
    assert "'snowflake'" in error.message and "Snowflake account" in error.message
    assert error.step.name == "load" and error.step.kind == "snowflake"
    assert error.details == {"tool_kind": "snowflake"}
    await h.store.flush()
    events = [(e.type, e.step) for e in await h.store.events(envelope.execution_id)]
    assert ("step.finished", "start") in events
    assert (await run(hub, "plain")).data == {"fine": True}


async def test_each_unavailable_kind_loads_and_names_itself(hub, write_playbook):
    for kind in NOETL_UNAVAILABLE:
        write_playbook(f"p_{kind}", f"""
            apiVersion: noetl.io/v2
            kind: Playbook
            metadata: {{name: p_{kind}}}
            workflow:
              - step: s
                tool: {{kind: {kind}, anything: {{goes: here}}}}
            """)
    h = await hub()
    assert not h.problems
    for kind in NOETL_UNAVAILABLE:
        envelope = await h.engine.run(f"p_{kind}", {})
        assert envelope.error.code == "TOOL_KIND_UNAVAILABLE", kind
        assert f"tool kind {kind!r}" in envelope.error.message


def test_catalog_validate_warns_and_still_succeeds(tmp_path, catalog_dir, write_playbook, capsys, monkeypatch):
    monkeypatch.setenv("AGENTHUB_DB", str(tmp_path / "hub.db"))
    write_playbook("warehouse", SNOWFLAKE)
    write_playbook("plain", PLAIN)
    env = {**os.environ, "AGENTHUB_DB": str(tmp_path / "hub.db")}
    done = subprocess.run([sys.executable, "-m", "hub.cli.main", "catalog", "validate", str(catalog_dir)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    warning = next(line for line in done.stdout.splitlines() if line.startswith("warning"))
    assert "warehouse.yaml:11:" in warning
    assert "workflow[1].tool.kind" in warning and "'load'" in warning and "'snowflake'" in warning
    assert "2 playbook(s) ok, 0 problem(s) in 0 file(s), 1 warning(s)" in done.stdout
    assert main(["catalog", "validate", str(catalog_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == []
    assert [(w["line"], w["field"]) for w in report["warnings"]] == [(11, "workflow[1].tool.kind")]
