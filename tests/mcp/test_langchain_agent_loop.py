"""A LangChain agent loop (langchain-mcp-adapters, a fake chat model from langchain_core that calls
the tools) against a real `agenthub stdio`, end to end. The adapters need the 1.x `mcp` SDK, so the
loop runs in `.venv-clients/` (scripts/install-client-tools.sh) as a subprocess: a client of
another SDK generation than the hub's own tests use.

It guards what broke LangChain + OpenAI agents before: a resource_link in every result became a
file block, and converting the conversation for OpenAI failed ("does not support file URLs")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp_support import REPO

CLIENT_PYTHON = REPO / ".venv-clients" / "bin" / "python"
LOOP = Path(__file__).parent / "clients" / "langchain_agent_loop.py"


@pytest.fixture
def client_python() -> Path:
    if not CLIENT_PYTHON.exists():
        pytest.skip("no .venv-clients: run scripts/install-client-tools.sh (CI does)")
    return CLIENT_PYTHON


def test_langchain_agent_loop_calls_hub_tools_and_converts_for_openai(client_python, mcp_catalog, tmp_path):
    done = subprocess.run(
        [str(client_python), str(LOOP), sys.executable, str(mcp_catalog), str(tmp_path / "hub.db")],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    assert {"echo", "failing", "hub_execution_status"} <= set(seen["tools"])
    assert seen["final"] == "All done."
    echo, failing = seen["tool_messages"]
    assert echo["status"] == "success"
    assert [block["type"] for block in echo["content"]] == ["text"]  # no file block from a resource_link
    envelope = echo["artifact"]["structured_content"]
    assert envelope["status"] == "ok" and envelope["data"] == {"text": "hihi", "length": 4}
    assert envelope["execution_id"] in echo["content"][0]["text"]
    assert failing["status"] == "error" and "PYTHON_ERROR" in failing["content"][0]["text"]
    tool_turns = [m for m in seen["openai"] if m["role"] == "tool"]  # the OpenAI conversion went through
    assert [m["tool_call_id"] for m in tool_turns] == ["call_1", "call_2"]
    assert '"hihi"' in tool_turns[0]["content"]
