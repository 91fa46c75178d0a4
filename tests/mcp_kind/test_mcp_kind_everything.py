"""`tool.kind: mcp` against `@modelcontextprotocol/server-everything`, the reference MCP server from
the npm registry (TypeScript SDK), over stdio. Install it with `scripts/install-node-tools.sh`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.contract.records import EventType
from tests.mcp_kind.mcp_kind_support import mcp_playbook, server_document

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".tools" / "node_modules" / ".bin"
NODE, EVERYTHING = BIN / "node", BIN / "mcp-server-everything"

pytestmark = pytest.mark.skipif(
    not (NODE.exists() and EVERYTHING.exists()),
    reason="@modelcontextprotocol/server-everything and node@22 are not in .tools/ "
    "(run scripts/install-node-tools.sh)",
)


@pytest.fixture
def everything(write_playbook: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("EVERYTHING_GREETING", "hello-from-the-keychain")
    write_playbook("servers/everything", server_document(
        "everything",
        {"transport": "stdio", "command": str(NODE), "args": [str(EVERYTHING), "stdio"],
         "env": {"HUB_GREETING": "{{ keychain.greeting }}"}},
        keychain=[{"name": "greeting", "env": "EVERYTHING_GREETING"}],
    ))
    return "everything"


async def call(hub: Any, write_playbook: Any, tool: str, arguments: dict[str, Any] | None = None,
               **options: Any) -> Any:
    write_playbook("call", mcp_playbook("call", "everything", tool, arguments, **options))
    h = await hub()
    return await h.engine.run("call", {})


async def test_text_structured_and_other_content(hub, write_playbook, everything):
    env = await call(hub, write_playbook, "echo", {"message": "hi"})
    assert env.ok, env.error
    assert env.data == "Echo: hi"
    env = await call(hub, write_playbook, "get-structured-content", {"location": "New York"})
    assert env.ok, env.error
    assert set(env.data) == {"temperature", "conditions", "humidity"}
    env = await call(hub, write_playbook, "get-sum", {"a": 2, "b": 3})
    assert "5" in env.data


async def test_progress_and_listing(hub, write_playbook, everything):
    from bridges.mcp_client import McpKind

    env = await call(hub, write_playbook, "trigger-long-running-operation", {"duration": 0.3, "steps": 3})
    assert env.ok, env.error
    assert "completed" in env.data
    h = await hub()
    await h.store.flush()
    progress = [e.data for e in await h.store.events(env.execution_id) if e.type == EventType.STEP_PROGRESS]
    assert [(p["progress"], p["total"]) for p in progress] == [(1, 3), (2, 3), (3, 3)]
    kind = h.kinds.get("mcp")
    assert isinstance(kind, McpKind)
    names = {t.name for t in await kind.list_tools(h.catalog.mcp_server("everything"))}
    assert {"echo", "get-sum", "get-env", "trigger-long-running-operation"} <= names


async def test_env_from_the_keychain_reaches_the_server(hub, write_playbook, everything):
    env = await call(hub, write_playbook, "get-env")
    assert env.ok, env.error
    seen = json.loads(env.data)
    assert seen["HUB_GREETING"] == "***"  # it arrived; the hub redacts it from what the server says


async def test_mixed_content_and_errors(hub, write_playbook, everything):
    env = await call(hub, write_playbook, "get-tiny-image")  # text, image, text: the text is the data
    assert env.ok, env.error
    assert isinstance(env.data, str) and env.data.count("\n") == 1
    env = await call(hub, write_playbook, "no-such-tool")
    assert env.error.code == "MCP_TOOL_NOT_FOUND" and "get-sum" in env.error.message
    env = await call(hub, write_playbook, "trigger-long-running-operation", {"duration": 10, "steps": 2}, timeout=0.5)
    assert env.error.code == "MCP_TIMEOUT"
