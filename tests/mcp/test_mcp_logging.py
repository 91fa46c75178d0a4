"""Step events as MCP log messages, through the official client in both eras: `logging/setLevel`
on a 2025 connection, the per-request `logLevel` opt-in on 2026."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp import Client, types
from mcp_support import ECHO, FAILING, THREE_STEPS

from hub.mcp.legacy_sessions import LegacySessions
from hub.mcp.server import HubMcpServer


class Collected:
    def __init__(self) -> None:
        self.messages: list[types.LoggingMessageNotificationParams] = []

    async def __call__(self, params: types.LoggingMessageNotificationParams) -> None:
        self.messages.append(params)

    def take(self) -> list[tuple[str, str, str]]:
        taken = [(m.level, m.data["event"], m.data["step"]) for m in self.messages]
        assert all(m.logger == "agenthub.steps" for m in self.messages)
        self.messages.clear()
        return taken


async def _catalog(hub: Any, write_playbook: Any) -> HubMcpServer:
    for name, text in (("echo", ECHO), ("failing", FAILING), ("three_steps", THREE_STEPS)):
        write_playbook(name, text)
    return HubMcpServer(await hub())


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # setLevel: deprecated in 2026, served to 2025
async def test_legacy_clients_get_step_logs_at_the_level_they_set(hub, write_playbook):
    server = await _catalog(hub, write_playbook)
    logs = Collected()
    async with Client(server.server, mode="legacy", logging_callback=logs) as client:
        assert client.server_capabilities.logging is not None
        await client.call_tool("three_steps", {})
        assert logs.take() == []  # nothing until the client asks
        await client.set_logging_level("info")
        await client.call_tool("three_steps", {})
        assert logs.take() == [("info", f"step.{verb}", step) for step in ("one", "two", "three")
                               for verb in ("started", "finished")]
        await client.set_logging_level("error")
        await client.call_tool("echo", {"text": "quiet"})
        assert logs.take() == []
        await client.call_tool("failing", {})
        failed = logs.messages[-1].data
        assert logs.take() == [("error", "step.failed", "explode")]
        assert failed["error"]["code"] == "PYTHON_ERROR" and "boom" in failed["error"]["message"]
        assert "traceback" not in str(failed)


async def test_modern_clients_get_step_logs_only_when_they_opt_in(hub, write_playbook):
    server = await _catalog(hub, write_playbook)
    logs = Collected()
    async with Client(server.server, logging_callback=logs) as client:  # 2026-07-28, no logLevel
        assert client.protocol_version == "2026-07-28"
        await client.call_tool("three_steps", {})
        assert logs.take() == []
    async with Client(server.server, logging_callback=logs, log_level="warning") as client:
        await client.call_tool("three_steps", {})
        assert logs.take() == []  # info is below warning
        await client.call_tool("failing", {})
        assert logs.take() == [("error", "step.failed", "explode")]
    async with Client(server.server, logging_callback=logs, log_level="info") as client:
        result = await client.call_tool("three_steps", {})
        taken = logs.take()
        assert ("info", "step.finished", "three") in taken and len(taken) == 6
        assert result.structured_content["status"] == "ok"


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")
async def test_a_legacy_connections_log_level_goes_when_its_session_idles_out(hub, write_playbook):
    for name, text in (("echo", ECHO),):
        write_playbook(name, text)
    server = HubMcpServer(await hub(), session_idle_timeout=0.2)
    async with Client(server.server, mode="legacy") as client:
        await client.set_logging_level("info")
        assert len(server.log_levels) == 1 and len(server.sessions) == 1
        await anyio.sleep(0.4)  # idle past the timeout: the next look at the sessions drops it
        assert len(server.sessions) == 0
        assert len(server.log_levels) == 0  # and the level it set with it (it used to stay forever)


def test_every_way_out_of_the_session_registry_drops_what_was_kept_for_it():
    dropped: list[str] = []
    now = [0.0]
    sessions = LegacySessions(max_sessions=2, idle_timeout=10, clock=lambda: now[0], on_drop=dropped.append)
    for key in ("a", "b", "c"):  # the cap evicts the oldest
        sessions.remember(key, object())
    assert dropped == ["a"]
    sessions.forget("b")  # a DELETE
    now[0] = 60.0  # idle expiry
    assert len(sessions) == 0
    assert dropped == ["a", "b", "c"]
