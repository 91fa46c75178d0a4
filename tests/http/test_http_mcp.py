"""The official `mcp` Client against a real `agenthub serve` over streamable HTTP, in both protocol
eras (legacy = 2025-11-25 with initialize and a session; auto = 2026-07-28 stateless), with and
without bearer tokens."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from http_support import PLAYBOOKS, TOKENS, Served, make_jwt, notified_client
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

ERAS = {"legacy": "2025-11-25", "auto": "2026-07-28"}
HUB_TOOLS = {"hub_find_agents", "hub_execution_status", "hub_cancel_execution", "hub_diagnose_execution"}
PLAYBOOK_TOOLS = {"echo", "failing", "slow", "searcher", "summarizer", "twice"}  # `charge` needs a scope


@pytest.fixture(params=list(ERAS))
def era(request: pytest.FixtureRequest) -> str:
    return request.param


@asynccontextmanager
async def connect(served: Served, era: str, token: str | None = None, **options: Any) -> AsyncIterator[Client]:
    """A Client on the server's /mcp, in `era`, sending `token` as a bearer token."""
    if token is None:
        async with Client(served.mcp_url, mode=era, **options) as client:
            yield client
        return
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http, \
            Client(streamable_http_client(served.mcp_url, http_client=http), mode=era, **options) as client:
        yield client


async def tool_names(client: Client) -> set[str]:
    names: set[str] = set()
    cursor = None
    while True:
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        names |= {t.name for t in page.tools}
        cursor = page.next_cursor
        if cursor is None:
            return names


async def test_list_and_call_in_both_eras(plain_server: Served, era: str):
    async with connect(plain_server, era) as client:
        assert client.protocol_version == ERAS[era]
        assert client.server_capabilities.tools is not None and client.server_capabilities.tools.list_changed
        assert await tool_names(client) == PLAYBOOK_TOOLS | HUB_TOOLS | {"charge"}  # no auth: no filtering
        result = await client.call_tool("echo", {"text": "ab", "times": 2})  # checked against the output schema
        assert result.is_error is False
        envelope = result.structured_content
        assert envelope["status"] == "ok" and envelope["data"] == {"text": "abab", "length": 4}
        links = [c for c in result.content if isinstance(c, types.ResourceLink)]
        assert links == []  # links only on `running` answers, or with AGENTHUB_EXECUTION_LINKS
        failed = await client.call_tool("failing", {})
        assert failed.is_error is True and failed.structured_content["error"]["code"] == "PYTHON_ERROR"
    with plain_server.client() as api:  # the same store answers REST
        detail = api.get(f"/api/executions/{envelope['execution_id']}").json()
        assert detail["status"] == "succeeded" and detail["envelope"]["data"] == envelope["data"]


async def test_progress_over_http(plain_server: Served, era: str):
    seen: list[tuple[float, str | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append((value, message))

    async with connect(plain_server, era) as client:
        result = await client.call_tool("twice", {}, progress_callback=progress)
        assert result.is_error is False
    values = [v for v, _ in seen]
    assert values and values == sorted(values)
    assert any("echo/echo" in (m or "") for _, m in seen)  # sub-run steps are reported too


@pytest.mark.parametrize(("token", "sees_charge"), [
    (TOKENS["reader"][0], False),
    (TOKENS["biller"][0], True),
    (make_jwt(scopes="other"), False),
    (make_jwt(scopes="billing"), True),
])
async def test_tools_list_shows_a_caller_only_what_its_scopes_allow(auth_server: Served, era: str, token: str,
                                                                   sees_charge: bool):
    async with connect(auth_server, era, token) as client:
        names = await tool_names(client)
        assert names == PLAYBOOK_TOOLS | HUB_TOOLS | ({"charge"} if sees_charge else set())
        result = await client.call_tool("echo", {"text": "x"})
        assert result.structured_content["status"] == "ok"
        with auth_server.client(token) as api:  # the run records whose token started it
            started_by = api.get(f"/api/executions/{result.structured_content['execution_id']}").json()["started_by"]
        assert started_by == ("jwt-user" if token.count(".") == 2 else next(s for s, (raw, _) in TOKENS.items() if raw == token))
        if sees_charge:
            charged = await client.call_tool("charge", {})
            assert charged.structured_content["data"] == {"charged": True}


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


async def test_mcp_with_a_bad_token_is_refused(auth_server: Served, era: str):
    """The server answers 401 (see test_http_auth); the Client surfaces it as an MCPError."""
    with pytest.raises(BaseException) as refused:
        async with connect(auth_server, era, "wrong-token") as client:
            await client.list_tools()
    assert any(isinstance(leaf, MCPError) for leaf in _leaves(refused.value)), refused.value


class Changes:
    def __init__(self) -> None:
        self.event = anyio.Event()

    async def legacy(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self.event.set()

    async def wait(self) -> None:
        with anyio.fail_after(20):
            await self.event.wait()
        self.event = anyio.Event()


async def _follow(client: Client, changes: Changes, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
    async with client.listen(tools_list_changed=True) as subscription:
        task_status.started()
        async for _ in subscription:
            changes.event.set()


async def test_list_changed_reaches_http_clients_of_both_eras(serve, era: str):
    served = serve()
    changes = Changes()
    handler = changes.legacy if era == "legacy" else None  # a 2026 client hears on its listen stream
    async with notified_client(served.mcp_url, era, message_handler=handler) as client, \
            anyio.create_task_group() as tasks:
        if era == "auto":
            await tasks.start(_follow, client, changes)
        added = served.catalog / "added.yaml"
        added.write_text(textwrap.dedent(PLAYBOOKS["echo"]).replace("name: echo", "name: added"))
        await changes.wait()
        assert "added" in await tool_names(client)
        tasks.cancel_scope.cancel()


async def test_client_cancel_over_http_is_recorded(plain_server: Served, era: str):
    """A client that gives up (its stream closes / it sends a cancel) cancels the execution."""
    async with connect(plain_server, era) as client:
        with pytest.raises(MCPError):
            await client.call_tool("slow", {"seconds": 30}, read_timeout_seconds=1.0)
    with plain_server.client() as api:
        def cancelled() -> dict[str, Any] | None:
            runs = api.get("/api/executions", params={"limit": 50}).json()["items"]
            slow = [r for r in runs if r["playbook_path"] == "slow" and r["status"] != "running"]
            return slow[0] if slow else None

        deadline = anyio.current_time() + 20
        run = cancelled()
        while run is None and anyio.current_time() < deadline:
            await anyio.sleep(0.1)
            run = cancelled()
        assert run is not None, "the execution was not stopped"
        assert run["status"] == "cancelled"
        detail = api.get(f"/api/executions/{run['id']}").json()
        assert detail["envelope"]["error"]["code"] == "CANCELLED"


async def test_long_call_over_http_answers_running(serve, era: str):
    served = serve("--call-timeout", "0.5")
    async with connect(served, era) as client:
        result = await client.call_tool("slow", {"seconds": 1.5})
        assert result.is_error is False
        envelope = result.structured_content
        assert envelope["status"] == "running" and envelope["data"] is None
        status = await client.call_tool("hub_execution_status", {"execution_id": envelope["execution_id"], "wait": 20})
        assert status.structured_content["status"] == "succeeded"
        assert status.structured_content["envelope"]["data"] == {"slept": 1.5}
