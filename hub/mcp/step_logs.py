"""Step events as MCP log messages (`notifications/message`), at the level each client asked for.

A tools/call already reports steps as progress notifications; clients that show a server's log
(the Inspector, IDE output panes) get the same events as log entries, logger `agenthub.steps`,
each with the execution id, the step and, for a failure, the error code and message (the same
redacted text the envelope carries; never a traceback).

Levels follow the protocol era:
- 2025-11-25 (handshake): `logging/setLevel` sets a connection's minimum level; until a client
  sets one, nothing is sent (as in 2026, logs are asked for, never pushed on a client that did not
  ask). Connections are told apart as `hub.mcp.server` remembers them (stdio: the process; HTTP:
  the session id).
- 2026-07-28: there is no setLevel; a request opts in with `_meta["io.modelcontextprotocol/logLevel"]`
  and the SDK drops what is below it (nothing is sent without it).
"""

from __future__ import annotations

from typing import Any, get_args

from mcp import types

from hub.contract.records import EventRecord

LOGGER = "agenthub.steps"
_ORDER: tuple[types.LoggingLevel, ...] = get_args(types.LoggingLevel)  # debug ... emergency
_EVENT_LEVELS: dict[str, types.LoggingLevel] = {
    "step.started": "info",
    "step.finished": "info",
    "step.progress": "info",
    "step.retried": "warning",
    "step.failed": "error",
}


def event_level(event: EventRecord) -> types.LoggingLevel | None:
    """The log level of a step event, None for events that are not logged."""
    return _EVENT_LEVELS.get(event.type)


def event_entry(event: EventRecord, step_name: str) -> dict[str, Any]:
    """The `data` of one log message: what happened to which step of which execution."""
    entry: dict[str, Any] = {"event": event.type, "execution_id": event.execution_id, "step": step_name}
    data = event.data
    for key in ("kind", "attempt", "duration", "message", "delay"):
        if data.get(key) is not None:
            entry[key] = data[key]
    error = data.get("error") or {}
    if error.get("code"):
        entry["error"] = {"code": error["code"], "message": error.get("message", "")}
    return entry


class LogLevels:
    """The minimum level each legacy connection asked for with `logging/setLevel`."""

    def __init__(self) -> None:
        self._levels: dict[str, types.LoggingLevel] = {}

    def set(self, connection: str | None, level: types.LoggingLevel) -> None:
        if connection is not None:
            self._levels[connection] = level

    def forget(self, connection: str) -> None:
        self._levels.pop(connection, None)

    def __len__(self) -> int:
        return len(self._levels)

    def wants(self, connection: str | None) -> bool:
        """Whether this legacy connection asked for logs at all (None, a 2026-era request: no)."""
        return connection is not None and connection in self._levels

    def allows(self, connection: str | None, level: types.LoggingLevel) -> bool:
        """Whether a message at `level` goes to this connection: not before it set a level. None
        (a 2026-era or stateless request) leaves the decision to the SDK's per-request opt-in."""
        if connection is None:
            return True
        minimum = self._levels.get(connection)
        return minimum is not None and _ORDER.index(level) >= _ORDER.index(minimum)
