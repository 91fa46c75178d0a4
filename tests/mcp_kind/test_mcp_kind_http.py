"""`tool.kind: mcp` over streamable HTTP against a second agenthub (`agenthub serve` in a
subprocess, with bearer-token auth): a playbook wraps another hub's playbook tool."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.http.auth import TokenEntry, append_token, hash_token
from tests.http.http_support import Served, start_server, write_catalog
from tests.mcp_kind.mcp_kind_support import mcp_playbook, server_document

TOKEN = "remote-hub-token-0123456789"


@pytest.fixture(scope="module")
def remote_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A second hub serving the HTTP tests' catalog (echo, failing, slow, ...), tokens required."""
    tmp = tmp_path_factory.mktemp("remote")
    tokens = tmp / "tokens.yaml"
    append_token(tokens, TokenEntry(sha256=hash_token(TOKEN), subject="hub-client", scopes=[]))
    served = start_server(tmp, write_catalog(tmp / "catalog"), "--tokens-file", str(tokens))
    yield served
    served.stop()


@pytest.fixture
def remote_server(write_playbook: Any, remote_hub: Served, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The remote hub as a catalog McpServer whose Authorization header comes from the keychain."""
    monkeypatch.setenv("REMOTE_HUB_TOKEN", TOKEN)
    return write_playbook("servers/remote", server_document(
        "remote-hub",
        {"transport": "http", "url": remote_hub.mcp_url,
         "headers": {"Authorization": "Bearer {{ keychain.token }}"}},
        keychain=[{"name": "token", "env": "REMOTE_HUB_TOKEN"}],
    ))


async def test_a_playbook_calls_another_hubs_playbook(hub, write_playbook, remote_server):
    write_playbook("wrap", mcp_playbook("wrap", "remote-hub", "echo", {"text": "{{ input.text }}", "times": 2},
                                        inputs={"text": "string"}))
    h = await hub()
    env = await h.engine.run("wrap", {"text": "ab"})
    assert env.ok, env.error
    remote = env.data  # the other hub answers with its own envelope as structured content
    assert remote["status"] == "ok" and remote["data"] == {"text": "abab", "length": 4}
    assert remote["framework"] == "noetl" and remote["execution_id"] != env.execution_id
    again = await h.engine.run("wrap", {"text": "c"})  # the same kept HTTP session
    assert again.data["data"] == {"text": "cc", "length": 2}


async def test_a_failing_remote_playbook_is_mcp_tool_error(hub, write_playbook, remote_server):
    write_playbook("wrap", mcp_playbook("wrap", "remote-hub", "failing"))
    h = await hub()
    env = await h.engine.run("wrap", {})
    assert env.error.code == "MCP_TOOL_ERROR"
    assert "boom" in env.error.message
    remote = env.error.details["structured_content"]
    assert remote["status"] == "error" and remote["error"]["code"] == "PYTHON_ERROR"


async def test_a_wrong_token_is_a_connection_error(hub, write_playbook, remote_server, monkeypatch):
    monkeypatch.setenv("REMOTE_HUB_TOKEN", "not-the-token-0000")
    write_playbook("wrap", mcp_playbook("wrap", "remote-hub", "echo", {"text": "x"}))
    h = await hub()
    env = await h.engine.run("wrap", {})
    assert env.error.code == "MCP_CONNECTION_ERROR"
    assert "(HTTP 401)" in env.error.message
    assert "not-the-token-0000" not in env.error.message  # the header value never shows


async def test_a_hub_that_is_gone(hub, write_playbook):
    write_playbook("servers/gone", server_document("gone", {"transport": "http", "url": "http://127.0.0.1:9/mcp"}))
    write_playbook("wrap", mcp_playbook("wrap", "gone", "echo", {"text": "x"}))
    h = await hub()
    env = await h.engine.run("wrap", {})
    assert env.error.code == "MCP_CONNECTION_ERROR" and "http://127.0.0.1:9/mcp" in env.error.message
