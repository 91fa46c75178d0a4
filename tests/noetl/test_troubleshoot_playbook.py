"""A NoETL-style troubleshoot playbook, unchanged NoETL syntax, served by a real `agenthub serve`:
it fetches a failed execution's events over HTTP from the hub's own REST API (the query string
written in its url reaches the server) and classifies the failure."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))

from http_support import Served, start_server  # noqa: E402

HERE = Path(__file__).parent / "troubleshoot"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    catalog = tmp_path / "served_catalog"
    catalog.mkdir()
    for file in HERE.glob("*.yaml"):
        shutil.copy(file, catalog / file.name)
    server = start_server(tmp_path / "serve", catalog)
    yield server
    server.stop()


def _execute(client, path: str, arguments: dict) -> dict:
    response = client.post("/api/executions", json={"playbook": path, "arguments": arguments, "wait": True})
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_the_playbook_classifies_a_failed_execution_from_the_rest_api(served, http_server):
    http_server.script("/upstream", (503, {"error": "upstream busy"}))
    with served.client() as client:
        failed = _execute(client, "noetl/failing_fetch", {"base": http_server.url})
        assert failed["status"] == "error" and failed["error"]["code"] == "HTTP_STATUS_503"
        diagnosis = _execute(client, "automation/agents/troubleshoot/diagnose_execution",
                             {"execution_id": failed["execution_id"], "noetl_url": served.base})
        assert diagnosis["status"] == "ok", diagnosis
        data = diagnosis["data"]
        assert (data["category"], data["failed_step"], data["execution_id"]) == (
            "transient_5xx", "start", failed["execution_id"])
        assert "503" in data["root_cause"]
        events = client.get(f"/api/executions/{diagnosis['execution_id']}/events").json()["items"]
    fetched = [e for e in events if e["type"] == "step.started" and e["step"] == "fetch_events"]
    assert len(fetched) == 1
    finished = {e["step"]: e["data"].get("output") for e in events if e["type"] == "step.finished"}
    assert finished["fetch_events"]["status_code"] == 200
    items = finished["fetch_events"]["data"]["items"]
    assert items[0]["seq"] == 2 and len(items) >= 3  # `after_seq=1` written in the url reached the server


async def test_mcp_steps_reach_the_served_hub_inline_and_through_an_mcp_resource(served, hub, write_playbook):
    """`kind: mcp` with an inline `endpoint` (tools/list, and tools/call with JSON-string
    arguments), and through a NoETL `kind: Mcp` catalog resource named by its path."""
    write_playbook("servers/remote", f"""
        apiVersion: noetl.io/v2
        kind: Mcp
        metadata: {{name: remote, path: mcp/remote-hub, description: the served hub}}
        spec:
          url: {served.mcp_url}
          protocol: mcp/1.0
          tools: [{{name: nd_diagnose_execution}}]
          runtime: {{transport: http}}
        """)
    write_playbook("caller", f"""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {{name: nd_mcp_caller, path: noetl/mcp_caller}}
        workflow:
          - step: start
            tool: {{kind: mcp, endpoint: "{served.mcp_url}", method: tools/list}}
            next: {{arcs: [{{step: inline_call}}]}}
          - step: inline_call
            tool:
              kind: mcp
              endpoint: "{served.mcp_url}"
              method: tools/call
              tool: nd_diagnose_execution
              arguments: '{{"execution_id": ""}}'
              timeout_seconds: 30
            next: {{arcs: [{{step: by_resource}}]}}
          - step: by_resource
            tool:
              kind: mcp
              server: mcp/remote-hub
              tool: nd_diagnose_execution
              arguments: {{execution_id: ""}}
            next: {{arcs: [{{step: end}}]}}
          - step: end
            tool:
              kind: python
              input: {{listed: "{{{{ start.tools }}}}", inline: "{{{{ inline_call }}}}", named: "{{{{ by_resource }}}}"}}
              code: |
                result = {{"tools": sorted(t["name"] for t in listed),
                          "inline": inline["data"]["category"], "named": named["data"]["category"]}}
        """)
    h = await hub()
    assert {f: [str(p) for p in ps] for f, ps in h.catalog.problems.items() if ps} == {}
    assert h.catalog.mcp_server("mcp/remote-hub") is not None
    env = await h.engine.run("noetl/mcp_caller")
    assert env.ok, env.error
    assert env.data["inline"] == env.data["named"] == "unknown"
    assert {"nd_diagnose_execution", "nd_failing_fetch"} <= set(env.data["tools"])
