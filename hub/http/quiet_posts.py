"""2025-era POSTs that nothing but their response will answer get that response as plain JSON.

The SDK's stateful streamable HTTP transport answers every legacy (2025-11-25) request POST with an
SSE stream, so that progress, logs and server-to-client requests tied to the call can ride along.
That stream costs the server a priming step, an SSE writer task, a second memory stream and event
framing on every call (about a third of the server's CPU for a one-step tools/call). A request
whose `_meta` has no `progressToken`, on a session that asked for no logs (`logging/setLevel`)
and whose client cannot be asked questions (no elicitation, sampling or roots capability), can get
nothing but its response (`hub.mcp.server.HubMcpServer.wants_post_streams`; the relay is skipped
then too, `hub.mcp.progress`), so it is answered as `application/json`, which the protocol lets
a server choose per request: a 2025 client accepts both.

How: the SDK reads `is_json_response_enabled` while handling a POST (the `Accept` check, the
reply's shape, whether the request may carry server-to-client requests); here it is a property
that reads a per-POST `ContextVar` set before handing over to the SDK's own handler, so
concurrent POSTs of one session each get their own answer. The session manager builds this
transport instead of the SDK's (`QuietPostSessions`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any
from uuid import uuid4

from mcp.server.auth.middleware.bearer_auth import AuthorizationContext
from mcp.server.streamable_http import StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

log = logging.getLogger("agenthub.http")

_PROGRESS_TOKEN = b'"progressToken"'
_CANCELLED = b'"code":-32800'
_json_reply: ContextVar[bool | None] = ContextVar("agenthub_json_reply", default=None)

WantsStream = Callable[[str | None], bool]
"""Whether a session (by id) may get more than responses on its POSTs."""


class QuietPostTransport(StreamableHTTPServerTransport):
    """The SDK's transport, answering quiet request POSTs as JSON (see the module docstring)."""

    def __init__(self, *args: Any, wants_stream: WantsStream, **kwargs: Any) -> None:
        self._wants_stream = wants_stream
        self._json_always = False
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def is_json_response_enabled(self) -> bool:
        per_post = _json_reply.get()
        return self._json_always if per_post is None else per_post

    @is_json_response_enabled.setter
    def is_json_response_enabled(self, value: bool) -> None:
        self._json_always = value

    async def _handle_post_request(self, scope: Scope, request: Request, receive: Receive, send: Send) -> None:
        if self._json_always:
            await super()._handle_post_request(scope, request, receive, send)
            return
        body = await request.body()  # starlette keeps it: the SDK's read gets the same bytes
        quiet = _PROGRESS_TOKEN not in body and not self._wants_stream(self.mcp_session_id)
        token = _json_reply.set(quiet)
        try:
            await super()._handle_post_request(scope, request, receive, _cancelled_as_event(send) if quiet else send)
        finally:
            _json_reply.reset(token)


def _cancelled_as_event(send: Send) -> Send:
    """The answer to a cancelled request (REQUEST_CANCELLED, sent when the client gave up) as a
    one-event SSE body instead of JSON. A client reads it after it stopped listening; the
    official Python client's JSON path raises on that (BrokenResourceError out of its task
    group), its SSE path drops it, as it would on a stream. Other answers pass unchanged."""
    held: list[Message] = []

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start" and not held:
            held.append(message)
            return
        if held and message["type"] == "http.response.body":
            start, body = held.pop(), message.get("body", b"")
            if _CANCELLED in body and not message.get("more_body"):
                body = b"event: message\r\ndata: " + body + b"\r\n\r\n"
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-type", b"content-length")]
                start = {**start, "headers": [*headers, (b"content-type", b"text/event-stream"),
                                              (b"content-length", str(len(body)).encode())]}
                message = {**message, "body": body}
            await send(start)
        await send(message)

    return sending


class QuietPostSessions(StreamableHTTPSessionManager):
    """The SDK's stateful session manager, with `QuietPostTransport` for every new session."""

    def __init__(self, *args: Any, wants_stream: WantsStream, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wants_stream = wants_stream

    def _admit_session(self, requestor: AuthorizationContext | None) -> StreamableHTTPServerTransport | None:
        """As the SDK's: register a session for `requestor` (None at the session limit)."""
        if self.max_sessions is not None and len(self._server_instances) >= self.max_sessions:
            return None
        transport = QuietPostTransport(
            mcp_session_id=uuid4().hex,
            is_json_response_enabled=self.json_response,
            event_store=self.event_store,
            security_settings=self.security_settings,
            retry_interval=self.retry_interval,
            idle_timeout=self.session_idle_timeout,
            wants_stream=self._wants_stream,
        )
        session_id = transport.mcp_session_id
        assert session_id is not None
        if requestor is not None:
            self._session_owners[session_id] = requestor
        self._server_instances[session_id] = transport
        log.debug("new MCP session %s", session_id)
        return transport
