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
