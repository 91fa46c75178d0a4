"""A run's step events relayed to the MCP client of the call that started it: one progress
notification per event and, where the client's log level allows, one log message.

Kept apart from the server: it is the one place that turns engine events into notifications, and
it works on whatever session the call's request came with (any era, any transport).

A relay costs a memory stream, a task group and a task per call. Most calls ask for neither
progress (no progress token) nor logs (2025: no `logging/setLevel` on the connection; 2026: no
log-level opt-in in the request's `_meta`); then nothing would ever be sent, and `needs_relay`
lets the server wait for the run without one.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import warnings
from typing import Any

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.shared.jsonrpc_dispatcher import progress_token_from_params
from mcp.types import LOG_LEVEL_META_KEY
from mcp.types.version import MODERN_PROTOCOL_VERSIONS

from hub.contract.records import EventRecord
from hub.mcp.step_logs import LOGGER, LogLevels, event_entry, event_level

log = logging.getLogger("agenthub.mcp")

PROGRESS_EVENTS = {
    "step.started": "started", "step.finished": "finished", "step.failed": "failed",
    "step.retried": "retried", "step.progress": "",
}
"""The events relayed, with the verb of their progress message ("" = the event's own message)."""
_PROGRESS_ATTRS = ("_progress_token", "progress_token", "_on_progress")


def needs_relay(ctx: ServerRequestContext[Any, Any], log_levels: LogLevels, connection: str | None) -> bool:
    """Whether anything of this call's run could reach its caller: a progress token, or logs the
    caller asked for (`connection` is the legacy connection key, None for a 2026 request)."""
    if progress_token_from_params(ctx.params) is not None or _progress_asked(ctx):
        return True
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return (ctx.meta or {}).get(LOG_LEVEL_META_KEY) is not None  # type: ignore[call-overload]
    return log_levels.wants(connection)


def _progress_asked(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether the request's dispatch context holds a way to report progress. The SDK keeps the
    token off `ctx.params` (JSON-RPC: `_progress_token`; a 2026 HTTP exchange: `progress_token`)
    and the in-process dispatcher holds the caller's callback (`_on_progress`), each maybe
    wrapped by the 2026 path's context (`_inner`); none is public, so a context that has none of
    these (an SDK change, another dispatcher) counts as asking: a relay too many costs time, one
    too few loses notifications."""
    outbound = getattr(ctx.session, "_request_outbound", None)
    for _ in range(4):  # the 2026 path wraps the dispatcher's context (`_inner`)
        outbound = getattr(outbound, "_inner", outbound)
    known = [attr for attr in _PROGRESS_ATTRS if hasattr(outbound, attr)]
    return not known or any(getattr(outbound, attr) is not None for attr in known)


class EventRelay:
    """The engine listener of one run: hands its events to the MCP call waiting on the run now.

    A run may outlive the call that started it (it answered `running`, or an input round of a
    2026 call parked it); the next call on it (the next round) attaches itself and gets the events
    from then on. Events arrive on the loop or from worker threads (sync python steps)."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._send: ObjectSendStream[EventRecord] | None = None

    def attach(self) -> ObjectReceiveStream[EventRecord]:
        """The stream of this run's events for the call now waiting on it (until `detach`)."""
        self.detach()
        send, receive = anyio.create_memory_object_stream[EventRecord](math.inf)
        self._send = send
        return receive

    def detach(self) -> None:
        """The waiting call answered: what is queued is still sent, later events only go to the store."""
        if self._send is not None:
            self._send.close()
            self._send = None

    def __call__(self, event: EventRecord) -> None:
        if event.type not in PROGRESS_EVENTS and event.type != "execution.started":
            return
        if threading.get_ident() == self._thread:
            self._push(event)
        else:
            self._loop.call_soon_threadsafe(self._push, event)

    def _push(self, event: EventRecord) -> None:
        if self._send is None:
            return
        try:
            self._send.send_nowait(event)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass


async def relay_progress(
    ctx: ServerRequestContext[Any, Any], events: ObjectReceiveStream[EventRecord], root_id: str,
    log_levels: LogLevels, connection: str | None,
) -> None:
    """One progress notification per step event, `progress` counting up (a no-op when the
    request carried no progress token), and one log message where the client's level allows
    (`hub.mcp.step_logs`; `connection` is the legacy connection's key). Sub-run steps are named
    with their playbook. Ends when `events` is closed and drained."""
    session = ctx.session
    count = 0
    sub_runs: dict[str, str] = {}
    async with events:
        async for event in events:
            if event.type == "execution.started":
                sub_runs[event.execution_id] = str(event.data.get("playbook", event.execution_id[:8]))
                continue
            count += 1
            name = event.step or "?"
            if event.data.get("iteration") is not None:
                name += f"[{event.data['iteration']}]"
            if event.execution_id != root_id:
                name = f"{sub_runs.get(event.execution_id, event.execution_id[:8])}/{name}"
            verb = PROGRESS_EVENTS[event.type] or str(event.data.get("message", "progress"))
            error = event.data.get("error") or {}
            detail = f" ({error.get('code')})" if error.get("code") else ""
            try:
                await session.report_progress(count, None, f"step {name} {verb}{detail}")
                level = event_level(event)
                if level is not None and log_levels.allows(connection, level):
                    with warnings.catch_warnings():  # deprecated in 2026, served to 2025 clients
                        warnings.simplefilter("ignore", MCPDeprecationWarning)
                        sending = session.send_log_message(level, event_entry(event, name), LOGGER,
                                                           related_request_id=ctx.request_id)
                    await sending
            except Exception as exc:  # progress and logs are best effort; the call goes on
                log.debug("progress or log notification failed: %r", exc)
