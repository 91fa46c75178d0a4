"""`tool.kind: mcp` against a real external MCP server over stdio: the examples' SDK low-level
server (hub/examples/mcp_echo_server.py), run as a subprocess by the SDK's own `Client`."""

from __future__ import annotations

import os
import signal
from typing import Any

from hub.contract.records import EventType
from tests.mcp_kind.mcp_kind_support import mcp_playbook, stdio_server, wait_dead


async def call(hub: Any, write_playbook: Any, tool: str, arguments: dict[str, Any] | None = None,
               server: str = "echo", **options: Any) -> Any:
    write_playbook("call", mcp_playbook("call", server, tool, arguments, **options))
    h = await hub()
    return await h.engine.run("call", {})


async def test_structured_content_is_the_data_and_text_otherwise(hub, write_playbook):
    write_playbook("servers/echo", stdio_server())
    env = await call(hub, write_playbook, "echo", {"text": "hello"})
    assert env.ok, env.error
    assert env.data == {"text": "hello", "length": 5}
    env = await call(hub, write_playbook, "shout", {"text": "hello"})
    assert env.data == "HELLO"


async def test_the_session_is_kept_across_calls(hub, write_playbook):
    write_playbook("servers/echo", stdio_server())
    first = await call(hub, write_playbook, "whoami")
    h = await hub()
    later = [await h.engine.run("call", {}) for _ in range(3)]
    assert first.data["handshakes"] == 1
    assert {env.data["pid"] for env in later} == {first.data["pid"]}  # one server process
    assert later[-1].data["handshakes"] == 1  # and one session on it


async def test_a_killed_server_is_restarted_and_the_call_retried(hub, write_playbook):
    write_playbook("servers/echo", stdio_server())
    first = await call(hub, write_playbook, "whoami")
    pid = first.data["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_dead(pid)
    h = await hub()
    again = await h.engine.run("call", {})
    assert again.ok, again.error
    assert again.data["pid"] != pid and again.data["handshakes"] == 1


async def test_is_error_is_an_error_envelope(hub, write_playbook):
    write_playbook("servers/echo", stdio_server())
    env = await call(hub, write_playbook, "fail", {"message": "disk full on /var"})
    assert env.status == "error"
    assert env.error.kind == "agent.execution" and env.error.code == "MCP_TOOL_ERROR"
    assert env.error.message == "disk full on /var"
    assert env.error.details == {"server": "echo", "tool": "fail"}
    assert env.error.step.kind == "mcp"


async def test_a_timeout_is_agent_timeout_and_the_session_survives(hub, write_playbook):
    write_playbook("servers/echo", stdio_server())
    env = await call(hub, write_playbook, "slow", {"seconds": 5}, timeout=0.4)
    assert env.error.kind == "agent.timeout" and env.error.code == "MCP_TIMEOUT"
    assert env.error.retryable is True and "0.4s" in env.error.message
    before = await call(hub, write_playbook, "whoami")
    assert before.ok and before.data["handshakes"] == 1  # the same session goes on


async def test_the_server_default_timeout_and_the_deadline(hub, write_playbook):
    write_playbook("servers/echo", stdio_server(timeout=0.3))
    env = await call(hub, write_playbook, "slow", {"seconds": 5})
    assert env.error.code == "MCP_TIMEOUT"
    write_playbook("deadline", mcp_playbook("deadline", "echo", "slow", {"seconds": 5}).replace(
        "workflow:", "timeout: 0.3\nworkflow:"))
    h = await hub()
    env = await h.engine.run("deadline", {})
    assert env.error.code == "DEADLINE_EXCEEDED"


async def test_pagination_of_tools_list(hub, write_playbook):
    """Page size 1: the tool called last in the listing is still found, and listing reads every page."""
    from bridges.mcp_client import McpKind

    write_playbook("servers/paged", stdio_server("paged", "--page-size", "1"))
    env = await call(hub, write_playbook, "whoami", server="paged")
    assert env.ok, env.error
    h = await hub()
    kind = h.kinds.get("mcp")
    assert isinstance(kind, McpKind)
    tools = await kind.list_tools(h.catalog.mcp_server("paged"))
    assert [t.name for t in tools] == ["echo", "add", "shout", "fail", "slow", "whoami"]


async def test_unknown_tool_and_unknown_server(hub, write_playbook):
    write_playbook("servers/echo", stdio_server("echo", "--page-size", "2"))
    env = await call(hub, write_playbook, "ecko")
    assert env.error.kind == "agent.configuration" and env.error.code == "MCP_TOOL_NOT_FOUND"
    assert "no tool 'ecko'" in env.error.message
    assert "it lists: add, echo, fail, shout, slow, whoami" in env.error.message  # every page was read
    env = await call(hub, write_playbook, "echo", server="nowhere")
    assert env.error.code == "MCP_SERVER_NOT_FOUND" and "'nowhere'" in env.error.message


async def test_a_server_that_cannot_start(hub, write_playbook):
    write_playbook("servers/broken", stdio_server("broken", command="/nonexistent/mcp-server"))
    env = await call(hub, write_playbook, "echo", server="broken")
    assert env.error.code == "MCP_CONNECTION_ERROR" and env.error.retryable is True
    assert "cannot connect to MCP server 'broken'" in env.error.message
    assert "/nonexistent/mcp-server" in env.error.message


async def test_a_json_rpc_error_is_a_protocol_error(hub, write_playbook):
    write_playbook("servers/echo", stdio_server())
    env = await call(hub, write_playbook, "add", {"a": "not a number", "b": 1})  # the handler raises
    assert env.error.kind == "agent.execution" and env.error.code == "MCP_PROTOCOL_ERROR"
    assert env.error.details["mcp_code"] == -32603
    assert "answered tools/call 'add' with error -32603" in env.error.message
    again = await call(hub, write_playbook, "add", {"a": 1, "b": 2})
    assert again.data == {"sum": 3.0}  # an answer is not a transport error: the session stays


async def test_server_progress_becomes_step_progress(hub, write_playbook):
    write_playbook("servers/echo", stdio_server())
    env = await call(hub, write_playbook, "slow", {"seconds": 0.2})
    assert env.ok, env.error
    assert env.data == {"slept": 0.2}
    h = await hub()
    await h.store.flush()
    progress = [e for e in await h.store.events(env.execution_id) if e.type == EventType.STEP_PROGRESS]
    assert len(progress) == 10
    assert progress[-1].data["progress"] == 10 and progress[-1].data["total"] == 10
    assert progress[0].data["server"] == "echo" and progress[0].data["message"].startswith("slept")


async def test_an_edited_definition_opens_a_new_session(hub, write_playbook):
    write_playbook("servers/echo", stdio_server())
    first = await call(hub, write_playbook, "whoami")
    write_playbook("servers/echo", stdio_server("echo", "--page-size", "3"))
    h = await hub()
    second = await h.engine.run("call", {})
    assert second.data["pid"] != first.data["pid"]
    wait_dead(first.data["pid"])  # the old connection was closed, its server stopped


async def test_keychain_values_reach_the_server_env_and_are_redacted(hub, write_playbook, monkeypatch):
    """A stdio env value from the keychain; whatever the server says is redacted of it."""
    monkeypatch.setenv("ECHO_SECRET_FOR_TEST", "s3cret-value-42")
    write_playbook("servers/echo", stdio_server(
        "echo", env={"SECRET": "{{ keychain.secret }}"},
        keychain=[{"name": "secret", "env": "ECHO_SECRET_FOR_TEST"}]))
    env = await call(hub, write_playbook, "fail", {"message": "leaked s3cret-value-42 here"})
    assert env.error.message == "leaked *** here"
    env = await call(hub, write_playbook, "echo", {"text": "s3cret-value-42"})
    assert env.data["text"] == "***"
    monkeypatch.delenv("ECHO_SECRET_FOR_TEST")
    write_playbook("servers/echo", stdio_server(
        "echo", "--page-size", "9", env={"SECRET": "{{ keychain.secret }}"},
        keychain=[{"name": "secret", "env": "ECHO_SECRET_FOR_TEST"}]))
    env = await call(hub, write_playbook, "echo", {"text": "x"})
    assert env.error.code == "KEYCHAIN_MISSING"


async def test_closing_the_hub_stops_the_servers(tmp_path, catalog_dir, write_playbook):
    from hub.app import Hub
    from hub.config import HubConfig

    write_playbook("servers/echo", stdio_server())
    write_playbook("call", mcp_playbook("call", "echo", "whoami"))
    async with Hub(HubConfig(catalog=catalog_dir, db=tmp_path / "own.db")) as h:
        env = await h.engine.run("call", {})
        pid = env.data["pid"]
    wait_dead(pid)
