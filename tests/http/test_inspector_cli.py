"""A second, independent MCP client: the MCP Inspector CLI (Node) lists and calls the hub's tools
over stdio and over streamable HTTP, in both protocol eras. `scripts/install-node-tools.sh` (run by
.ci/run) installs it into .tools/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from http_support import REPO, Served

INSPECTOR = REPO / ".tools" / "node_modules" / ".bin" / "mcp-inspector"

pytestmark = pytest.mark.skipif(
    not INSPECTOR.exists(), reason="MCP Inspector not installed: run scripts/install-node-tools.sh"
)


def inspector(tmp_path: Path, *args: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "PATH": f"{INSPECTOR.parent}{os.pathsep}{os.environ.get('PATH', '')}",  # its node 22 first
        "MCP_STORAGE_DIR": str(tmp_path / "inspector"),
        "MCP_INSPECTOR_OAUTH_STATE_PATH": str(tmp_path / "inspector-oauth"),
        "HOME": str(tmp_path),
    }
    done = subprocess.run([str(INSPECTOR), "--cli", "-q", "--format", "json", *args],
                          capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, f"inspector exited {done.returncode}: {done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)["result"]


def stdio_command(served: Served) -> list[str]:
    return ["--", sys.executable, "-m", "hub.cli.main", "stdio", "--catalog", str(served.catalog),
            "--db", str(served.tmp / "stdio.db")]


def check_list(result: dict[str, Any]) -> None:
    names = {tool["name"] for tool in result["tools"]}
    assert {"echo", "failing", "hub_find_agents", "hub_execution_status"} <= names
    echo = next(t for t in result["tools"] if t["name"] == "echo")
    assert echo["inputSchema"]["required"] == ["text"]
    assert echo["outputSchema"]["properties"]["status"]


def check_call(result: dict[str, Any]) -> None:
    assert result["isError"] is False
    envelope = result["structuredContent"]
    assert envelope["status"] == "ok" and envelope["data"] == {"text": "hihi", "length": 4}
    assert [c["type"] for c in result["content"]] == ["text"]  # no resource_link on a finished call
    assert envelope["execution_id"] in result["content"][0]["text"]


def test_inspector_over_stdio(plain_server: Served, tmp_path: Path):
    check_list(inspector(tmp_path, "--method", "tools/list", *stdio_command(plain_server)))
    check_call(inspector(tmp_path, "--method", "tools/call", "--tool-name", "echo",
                         "--tool-args-json", '{"text": "hi", "times": 2}', *stdio_command(plain_server)))


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_inspector_over_http(plain_server: Served, tmp_path: Path, era: str):
    target = ["--transport", "http", "--server-url", plain_server.mcp_url, "--protocol-era", era]
    check_list(inspector(tmp_path, *target, "--method", "tools/list"))
    check_call(inspector(tmp_path, *target, "--method", "tools/call", "--tool-name", "echo",
                         "--tool-args-json", '{"text": "hi", "times": 2}'))


NULLABLE = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: nullable, description: Takes and gives nullable values.}
input:
  note: {type: [string, "null"], default: null, maxLength: 20}
  count: {type: [integer], default: 1}
output:
  type: object
  properties:
    note: {type: [string, "null"]}
workflow:
  - step: echo
    tool: {kind: noop}
    input: {note: "{{ input.note }}"}
"""


@pytest.mark.parametrize("catalog", ["bundled", "conformance", "nullable"])
def test_every_published_schema_passes_the_inspectors_portability_check(tmp_path: Path, catalog: str) -> None:
    """`--strict` lints every tool's input and output schema (type unions, schemas that constrain
    nothing, ...); the hub's own tools, the bundled catalog, the conformance fixtures and a playbook
    written with `type` arrays must all come out without a finding."""
    folder = {"bundled": REPO / "playbooks", "conformance": REPO / "playbooks" / ".conformance"}.get(catalog)
    if folder is None:
        folder = tmp_path / "catalog"
        folder.mkdir()
        (folder / "nullable.yaml").write_text(NULLABLE.lstrip())
    env = {**os.environ, "PATH": f"{INSPECTOR.parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "MCP_STORAGE_DIR": str(tmp_path / "inspector"), "HOME": str(tmp_path)}
    done = subprocess.run(
        [str(INSPECTOR), "--cli", "--strict", "--format", "json", "--method", "tools/list", "--",
         sys.executable, "-m", "hub.cli.main", "stdio", "--catalog", str(folder), "--db", str(tmp_path / "hub.db")],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    listed = json.loads(done.stdout)
    names = {tool["name"] for tool in listed["result"]["tools"]}
    assert "hub_execution_status" in names and (catalog != "nullable" or "nullable" in names)
    assert "schemaFindings" not in listed, json.dumps(listed.get("schemaFindings"), indent=1)[:3000]
    assert "Warning" not in done.stderr and "portability" not in done.stderr, done.stderr[:3000]
    if catalog == "nullable":
        tool = next(t for t in listed["result"]["tools"] if t["name"] == "nullable")
        note = tool["inputSchema"]["properties"]["note"]
        assert note["anyOf"] == [{"type": "string"}, {"type": "null"}] and note["maxLength"] == 20
        assert tool["inputSchema"]["properties"]["count"]["type"] == "integer"
