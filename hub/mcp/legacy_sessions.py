"""The 2025-era (session) connections the hub remembers, to send them `list_changed` later.

The SDK's session manager owns the sessions themselves; the hub only keeps a reference to each
one's `ServerSession` for notifications. That reference must not outlive the session: a DELETE
forgets it at once (`forget`, called by the HTTP app after the SDK answered the DELETE), and an
entry not seen for `idle_timeout` seconds (the same idle timeout after which the SDK closes the
session) is dropped on the next `remember`. The registry is bounded by `max_sessions` too, oldest
first, like the SDK's own cap. Whatever else the hub keeps per connection (the log level a client
set) is dropped with it: `on_drop` is called with the key of every session that leaves the registry,
however it leaves (DELETE, idle expiry, the cap).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from mcp.server import ServerRequestContext
from mcp.types.version import MODERN_PROTOCOL_VERSIONS

DEFAULT_MAX_SESSIONS = 10_000
STDIO_SESSION = "stdio"


def legacy_session_key(ctx: ServerRequestContext[Any, Any]) -> str | None:
    """The connection a legacy (2025-era) request came on: "stdio" without an HTTP request (one
    connection per process), else its `mcp-session-id`; None for stateless HTTP, which has no
    channel to notify later."""
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return None
    request = ctx.request
    if request is None:
        return STDIO_SESSION
    headers = getattr(request, "headers", None)
    return headers.get("mcp-session-id") if headers is not None else None


class LegacySessions:
    """An LRU of live legacy sessions by key (the `mcp-session-id`, or "stdio")."""

    def __init__(
        self,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        idle_timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_drop: Callable[[str], None] | None = None,
    ) -> None:
        self.max_sessions = max_sessions
        self._on_drop = on_drop
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._sessions: OrderedDict[str, tuple[Any, float]] = OrderedDict()

    def remember(self, key: str, session: Any) -> None:
        """Note that `key` was just used (the newest session proxy of a connection wins)."""
        now = self._clock()
        self._sessions[key] = (session, now)
        self._sessions.move_to_end(key)
        self.expire(now)
        while len(self._sessions) > self.max_sessions:
            self._dropped(self._sessions.popitem(last=False)[0])

    def expire(self, now: float | None = None) -> None:
        """Drop the sessions idle for longer than `idle_timeout` (the least recently used first)."""
        if self.idle_timeout is None:
            return
        now = self._clock() if now is None else now
        while self._sessions:
            key, (_, seen) = next(iter(self._sessions.items()))
            if now - seen <= self.idle_timeout:
                break
            self._sessions.pop(key)
            self._dropped(key)

    def forget(self, key: str) -> None:
        self._sessions.pop(key, None)
        self._dropped(key)

    def _dropped(self, key: str) -> None:
        if self._on_drop is not None:
            self._on_drop(key)

    def get(self, key: str | None) -> Any:
        """The session remembered for `key`, or None."""
        found = self._sessions.get(key) if key is not None else None
        return found[0] if found is not None else None

    def items(self) -> list[tuple[str, Any]]:
        self.expire()
        return [(key, session) for key, (session, _) in self._sessions.items()]

    def __len__(self) -> int:
        self.expire()
        return len(self._sessions)
