"""The lean MCP-over-HTTP client of `bench/mcp.py`: raw asyncio streams, HTTP/1.1 keep-alive.

Why not httpx: it costs 1.2-1.7 ms of client CPU per call here, as much as the server under test,
so a benchmark built on it measures itself (../shared/research/mcp-performance.md). This client
builds each worker's request bytes once (only a fixed-width JSON-RPC id changes per call), reads
the status line, headers and a content-length or chunked body, and parses just the JSON body or
the SSE `data:` lines, so every reply is still checked.

The two wires (streamable HTTP, ../shared/research/mcp-python-sdk-2.md 2.9):
* 2026-07-28: every POST stands alone: `MCP-Protocol-Version`, `Mcp-Method` and, for tools/call,
  `Mcp-Name` headers; params carry `_meta` with the protocol version and client capabilities. No
  session. The SDK answers JSON (content-length) when the handler emitted no notification.
* 2025-11-25 (legacy): `initialize` once per connection, read `Mcp-Session-Id`, POST
  `notifications/initialized` (202), then every request carries the session id and the protocol
  version header; replies are SSE (`text/event-stream`, chunked). A GET with the session id opens
  the stream server-initiated notifications (list_changed) arrive on.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
ERAS = (MODERN, LEGACY)
META = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
ID_BASE = 1_000_000_000  # ids stay 10 digits wide, so a request's length never changes
READ_LIMIT = 1 << 22


class ProtocolFailure(Exception):
    """A reply that is not what a working server sends (counted as an error, with this reason)."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def messages(self) -> list[dict[str, Any]]:
        """The JSON-RPC messages in the body: one JSON object, or the SSE `data:` lines."""
        kind = self.headers.get("content-type", "")
        if kind.startswith("application/json"):
            return [json.loads(self.body)]
        if kind.startswith("text/event-stream"):
            return [json.loads(line[5:]) for line in self.body.splitlines() if line.startswith(b"data:")]
        if not self.body:
            return []
        raise ProtocolFailure(f"content-type {kind!r}")

    def response(self, request_id: int) -> dict[str, Any]:
        """The JSON-RPC response to `request_id` (SSE replies may carry notifications before it)."""
        if self.status != 200:
            raise ProtocolFailure(f"HTTP {self.status}: {self.body[:200]!r}")
        for message in self.messages():
            if message.get("id") == request_id and ("result" in message or "error" in message):
                return message
        raise ProtocolFailure("no response with the request's id")


class Template:
    """A request's bytes, built once: head + body with the id left out; `render(id)` fills it."""

    def __init__(self, host: str, path: str, method: str, params: dict[str, Any] | None,
                 headers: dict[str, str], http_method: str = "POST", notification: bool = False) -> None:
        rest = {"method": method, **({"params": params} if params is not None else {})}
        tail = json.dumps(rest, separators=(",", ":")).encode()[1:]
        if notification:
            self.before, self.after = b'{"jsonrpc":"2.0",' + tail, b""
            length = len(self.before)
        else:
            self.before, self.after = b'{"jsonrpc":"2.0","id":', b"," + tail
            length = len(self.before) + len(str(ID_BASE)) + len(self.after)
        lines = [f"{http_method} {path} HTTP/1.1", f"Host: {host}",
                 "Accept: application/json, text/event-stream", "Content-Type: application/json",
                 f"Content-Length: {length}", *(f"{k}: {v}" for k, v in headers.items())]
        self.head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.notification = notification

    def render(self, request_id: int = ID_BASE) -> bytes:
        if self.notification:
            return self.head + self.before
        return self.head + self.before + str(request_id).encode() + self.after


def era_headers(era: str, method: str, name: str | None = None, session: str | None = None) -> dict[str, str]:
    headers = {"MCP-Protocol-Version": era}
    if era == MODERN:
        headers["Mcp-Method"] = method
        if name is not None:
            headers["Mcp-Name"] = name
    if session is not None:
        headers["Mcp-Session-Id"] = session
    return headers


def era_params(era: str, params: dict[str, Any]) -> dict[str, Any]:
    return {**params, "_meta": META} if era == MODERN else params


class Connection:
    """One keep-alive HTTP/1.1 connection to an MCP endpoint (`http://127.0.0.1:PORT/mcp`); for the
    legacy era it also holds the session it opened."""

    def __init__(self, url: str, era: str) -> None:
        rest = url.split("://", 1)[1]
        self.hostport, _, path = rest.partition("/")
        self.path = "/" + path
        host, _, port = self.hostport.rpartition(":")
        self.host, self.port = host, int(port)
        self.era = era
        self.session: str | None = None
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.next_id = ID_BASE
        self.last_body_bytes = 0

    # -- transport ---------------------------------------------------------------------------

    async def connect(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=READ_LIMIT)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def roundtrip(self, raw: bytes) -> Reply:
        if self.writer is None:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        reply = await read_reply(self.reader)
        if reply.headers.get("connection", "").lower() == "close":
            self.close()
        return reply

    # -- MCP ----------------------------------------------------------------------------------

    def template(self, method: str, params: dict[str, Any] | None = None, *, name: str | None = None,
                 notification: bool = False) -> Template:
        headers = era_headers(self.era, method, name, self.session)
        full = era_params(self.era, params or {}) if (params is not None or self.era == MODERN) else None
        return Template(self.hostport, self.path, method, full, headers, notification=notification)

    async def request(self, template: Template) -> dict[str, Any]:
        """Send one request built from `template`; return its JSON-RPC response (result or error)."""
        self.next_id += 1
        reply = await self.roundtrip(template.render(self.next_id))
        self.last_body_bytes = len(reply.body)
        return reply.response(self.next_id)

    async def open(self) -> None:
        """Connect and, for the legacy era, initialize a session on this connection."""
        await self.connect()
        if self.era == LEGACY:
            await self.initialize()

    async def initialize(self) -> None:
        self.session = None
        init = Template(self.hostport, self.path, "initialize", {
            "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "bench-mcp", "version": "1"},
        }, {})
        reply = await self.roundtrip(init.render(ID_BASE))
        message = reply.response(ID_BASE)
        if "result" not in message:
            raise ProtocolFailure(f"initialize: {message}")
        self.session = reply.headers.get("mcp-session-id")
        if not self.session:
            raise ProtocolFailure("initialize: no Mcp-Session-Id")
        done = self.template("notifications/initialized", None, notification=True)
        ack = await self.roundtrip(done.render())
        if ack.status != 202:
            raise ProtocolFailure(f"notifications/initialized: HTTP {ack.status}")

    async def end_session(self) -> None:
        """DELETE the legacy session (best effort), then close the connection."""
        if self.session is not None and self.writer is not None:
            raw = (f"DELETE {self.path} HTTP/1.1\r\nHost: {self.hostport}\r\nMcp-Session-Id: {self.session}\r\n"
                   f"MCP-Protocol-Version: {LEGACY}\r\nContent-Length: 0\r\n\r\n").encode()
            try:
                await asyncio.wait_for(self.roundtrip(raw), 5)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ProtocolFailure):
                pass
        self.session = None
        self.close()

    async def list_tools(self, *, all_pages: bool) -> tuple[int, int]:
        """tools/list, following `nextCursor` to the end when `all_pages`; returns (pages, tools)."""
        cursor: str | None = None
        pages = tools = 0
        while True:
            params = {"cursor": cursor} if cursor else {}
            message = await self.request(self.template("tools/list", params))
            if "result" not in message:
                raise ProtocolFailure(f"tools/list: {message.get('error')}")
            pages += 1
            tools += len(message["result"]["tools"])
            cursor = message["result"].get("nextCursor")
            if not all_pages or not cursor:
                return pages, tools

    async def notifications(self) -> AsyncIterator[tuple[float, dict[str, Any]]]:
        """Open the legacy session's GET stream on this connection; yield (arrival time, message)
        for every SSE event until the server ends the stream."""
        assert self.session is not None
        raw = (f"GET {self.path} HTTP/1.1\r\nHost: {self.hostport}\r\nAccept: text/event-stream\r\n"
               f"Mcp-Session-Id: {self.session}\r\nMCP-Protocol-Version: {LEGACY}\r\n\r\n").encode()
        if self.writer is None:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        status, headers = await read_head(self.reader)
        if status != 200 or headers.get("transfer-encoding", "").lower() != "chunked":
            raise ProtocolFailure(f"GET stream: HTTP {status} {headers}")
        buffer = b""
        while True:
            chunk = await read_chunk(self.reader)
            if chunk is None:
                return
            buffer += chunk.replace(b"\r\n", b"\n")
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                data = [line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:")]
                if data and data[0]:
                    yield time.perf_counter(), json.loads(b"\n".join(data))


# -- HTTP/1.1 response reading ------------------------------------------------------------------


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ProtocolFailure(f"bad status line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def read_chunk(reader: asyncio.StreamReader) -> bytes | None:
    """One chunk of a chunked body; None after the last (zero) chunk and its trailer."""
    size_line = await reader.readuntil(b"\r\n")
    size = int(size_line.split(b";", 1)[0].strip(), 16)
    if size == 0:
        while (await reader.readuntil(b"\r\n")) != b"\r\n":
            pass  # trailer fields
        return None
    data = await reader.readexactly(size + 2)
    return data[:-2]


async def read_reply(reader: asyncio.StreamReader) -> Reply:
    status, headers = await read_head(reader)
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"])) if headers["content-length"] != "0" else b""
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while (chunk := await read_chunk(reader)) is not None:
            parts.append(chunk)
        body = b"".join(parts)
    elif status in (202, 204, 304) or 100 <= status < 200:
        body = b""
    else:
        raise ProtocolFailure(f"HTTP {status} without length or chunking")
    return Reply(status, headers, body)


# -- the tools/call load ------------------------------------------------------------------------


def echo_failure(message: dict[str, Any], text: str) -> str | None:
    """Why a tools/call response to echo(text) is wrong, or None if it is right. The bare server
    answers `{text, length}` as structured content; the hub its envelope with that as `data`."""
    if "error" in message:
        return f"jsonrpc error {message['error'].get('code')}"
    result = message["result"]
    if result.get("isError", False) is not False:
        return "isError"
    structured = result.get("structuredContent") or {}
    if "status" in structured:
        if structured["status"] != "ok":
            return f"envelope status {structured['status']}"
        structured = structured.get("data") or {}
    if structured.get("text") != text or structured.get("length") != len(text):
        return "wrong echo"
    return None


class LoadState:
    """Shared by the workers of one run: when to record, when to stop, and what was seen."""

    def __init__(self) -> None:
        self.recording = False
        self.stop = False
        self.latencies: list[float] = []
        self.errors = 0
        self.reasons: dict[str, int] = {}
        self.ready = 0

    def fail(self, reason: str) -> None:
        if self.recording:
            self.errors += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


async def echo_worker(url: str, era: str, index: int, state: LoadState) -> None:
    """Call echo back to back on one connection until told to stop, recording while asked to."""
    text = f"bench echo from worker {index}"
    conn = Connection(url, era)
    try:
        await conn.open()
        template = conn.template("tools/call", {"name": "echo", "arguments": {"text": text}}, name="echo")
        state.ready += 1
        perf = time.perf_counter
        while not state.stop:
            conn.next_id += 1
            raw = template.render(conn.next_id)
            started = perf()
            try:
                reply = await conn.roundtrip(raw)
                failure = echo_failure(reply.response(conn.next_id), text)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolFailure,
                    ValueError) as exc:
                failure = f"{type(exc).__name__}: {exc}"[:160]
                conn.close()
                await asyncio.sleep(0.01)
                try:
                    await conn.open()  # a new connection (and a new session for the legacy era)
                    template = conn.template("tools/call", {"name": "echo", "arguments": {"text": text}},
                                             name="echo")
                except (OSError, asyncio.IncompleteReadError, ProtocolFailure, ValueError):
                    conn.close()
            took = perf() - started
            if failure is not None:
                state.fail(failure)
            elif state.recording:
                state.latencies.append(took)
    finally:
        await conn.end_session()
