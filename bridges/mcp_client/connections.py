"""Kept MCP sessions: one live connection per server, shared by every call to it, reopened when
it drops.

Opening an MCP session costs a process start (stdio) or a handshake round trip (HTTP), so the
`mcp` kind keeps them: `McpPool` holds at most one `McpConnection` per server name, owned by the
kind instance and closed by its `aclose()`. Calls to one server share its session concurrently
(JSON-RPC requests are multiplexed). A connection is replaced when its owner task has ended (the
server exited), when it failed with a transport error, or when the server's catalog definition
changed (its digest).

Each connection lives in a task of its own because the SDK's transports hold anyio cancel scopes
that must be entered and left in the same task: the task enters `Client`, reports ready, and waits
for `close()`; calls from any step task use the client meanwhile.

The tool listing is read once per connection, following `nextCursor` through every page (NoETL
read only the first), and read again when a step names a tool it does not have (the server may
have added it).
"""

from __future__ import annotations

import asyncio
import logging
from mcp import Client, MCPError
from mcp.types import Tool

from bridges.mcp_client.servers import ServerTarget

log = logging.getLogger("agenthub.mcp")

CLOSE_TIMEOUT = 5.0
HTTP_ERROR_STAND_IN = "Server returned an error response"
"""What the SDK's HTTP transport says for a status >= 400 without a JSON-RPC error body."""
MAX_PAGES = 1000
"""tools/list pages read at most: a server whose cursors never end must not hang a step."""


class McpConnection:
    """One open client session to one server."""

    def __init__(self, target: ServerTarget) -> None:
        self.target = target
        self._client: Client | None = None
        self._ready: asyncio.Future[None] | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._tools: dict[str, Tool] | None = None
        self.broken = False
        """Set when a call on it failed with a transport error: the pool replaces it."""
        self.http_status: int | None = None
        """The last HTTP error status the server answered (http transport)."""

    @property
    def client(self) -> Client:
        assert self._client is not None, "connection not open"
        return self._client

    @property
    def usable(self) -> bool:
        return self._client is not None and not self.broken and self._task is not None and not self._task.done()

    async def open(self) -> None:
        """Start the owner task and wait until the session is initialised (or failed to be)."""
        self._ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._own(), name=f"mcp-connection:{self.target.name}")
        try:
            await self._ready
        except Exception as exc:
            await self.close()
            raise OpenFailed(self.explain(exc, opening=True)) from exc
        except BaseException:
            await self.close()
            raise

    def explain(self, exc: BaseException, *, opening: bool = False) -> str:
        """What went wrong, with the HTTP status the server answered when that is the story
        (while opening, or when the SDK only says it got an error status)."""
        text = describe_exception(exc)
        if self.http_status is not None and (opening or text == HTTP_ERROR_STAND_IN):
            text += f" (HTTP {self.http_status})"
        return text

    def _heard_http_error(self, status: int) -> None:
        self.http_status = status

    async def _own(self) -> None:
        assert self._ready is not None
        try:
            async with self.target.connect(self._heard_http_error) as client:
                self._client = client
                self._ready.set_result(None)
                await self._stop.wait()
        except BaseException as exc:  # reported to the opener; a dropped server only ends the task
            if not self._ready.done():
                self._ready.set_exception(exc if isinstance(exc, Exception) else ConnectionError("cancelled"))
            elif not isinstance(exc, asyncio.CancelledError):
                log.debug("MCP connection to %s ended: %r", self.target.name, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise

    async def tools(self, *, refresh: bool = False) -> dict[str, Tool]:
        """The server's tools by name, every page of tools/list read."""
        if self._tools is None or refresh:
            self._tools = {tool.name: tool for tool in await list_all_tools(self.client)}
        return self._tools

    async def close(self) -> None:
        """Let the owner task leave the client (stopping a stdio server), within CLOSE_TIMEOUT."""
        self._stop.set()
        task = self._task
        if task is None or task.done():
            return
        done, _ = await asyncio.wait({task}, timeout=CLOSE_TIMEOUT)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


class OpenFailed(Exception):
    """A session could not be opened; the message says why."""


def describe_exception(exc: BaseException) -> str:
    """`Type: text` of the first leaf of an exception group (anyio wraps transport failures);
    an MCP error's own message as it is."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or repr(exc)
    return text if isinstance(exc, MCPError) else f"{type(exc).__name__}: {text}"


async def list_all_tools(client: Client) -> list[Tool]:
    """Every tool the server lists, following `nextCursor` page by page (never from a cache)."""
    tools: list[Tool] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


class McpPool:
    """At most one live connection per server name."""

    def __init__(self) -> None:
        self._connections: dict[str, McpConnection] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def acquire(self, target: ServerTarget) -> McpConnection:
        """The live connection to `target`, opened (or reopened) when needed."""
        current = self._connections.get(target.name)
        if current is not None and current.usable and current.target.digest == target.digest:
            return current
        async with self._locks.setdefault(target.name, asyncio.Lock()):
            current = self._connections.get(target.name)
            if current is not None and current.usable and current.target.digest == target.digest:
                return current
            if current is not None:
                self._connections.pop(target.name, None)
                await current.close()
            connection = McpConnection(target)
            await connection.open()
            self._connections[target.name] = connection
            return connection

    async def discard(self, connection: McpConnection) -> None:
        """Forget and close a connection that failed (if it is still the current one)."""
        connection.broken = True
        if self._connections.get(connection.target.name) is connection:
            del self._connections[connection.target.name]
        await connection.close()

    async def aclose(self) -> None:
        connections, self._connections = list(self._connections.values()), {}
        await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
