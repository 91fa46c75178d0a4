"""The event store interface: executions and their append-only events.

A contract module. The engine writes through `append()` without waiting (writes are batched into
one transaction by the implementation); `flush()` returns once everything appended before it is
durable. `create()` and `finish()` are durable when they return. Implementations: `hub.store.sqlite`
(embedded default); PostgreSQL for scale-out.
"""

from __future__ import annotations

from typing import Any, Protocol

from hub.contract.records import EventRecord, ExecutionRecord, ExecutionStatus


class EventStore(Protocol):
    async def open(self) -> None:
        """Create the schema if needed and recover executions whose process died (marked failed)."""

    async def close(self) -> None:
        """Flush what is pending and release the connection."""

    async def create(self, execution: ExecutionRecord) -> None:
        """Insert a new execution; durable on return. (An implementation may queue the write at
        once and hand back a future instead of a coroutine, as SQLite's does: awaiting either is
        the same to callers.)"""

    def append(self, event: EventRecord) -> None:
        """Queue an event; never blocks. The store numbers it (`seq`) when it is written."""

    async def flush(self) -> None:
        """Wait until every event appended so far is durable."""

    async def set_status(self, execution_id: str, status: ExecutionStatus) -> None:
        """Move an execution to a non-final status (pending -> running)."""

    async def finish(
        self, execution_id: str, status: ExecutionStatus, envelope: dict[str, Any]
    ) -> None:
        """Record the final status and envelope, after every queued event; durable on return."""

    async def get(self, execution_id: str) -> ExecutionRecord | None:
        """One execution, or None. A unique prefix of an id is accepted."""

    async def list(
        self,
        *,
        status: ExecutionStatus | None = None,
        parent_id: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[ExecutionRecord]:
        """Executions newest first; `before` is an id for paging."""

    async def events(
        self, execution_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[EventRecord]:
        """Events of one execution in order, those with `seq > after_seq`."""

    async def request_cancel(self, execution_id: str) -> bool:
        """Flag a running execution for cancellation; False if it is unknown or finished."""

    async def cancel_requested(self, execution_ids: list[str]) -> set[str]:
        """Which of these executions have been flagged for cancellation."""

    async def recover(self) -> list[str]:
        """Mark failed (code PROCESS_DIED) every unfinished execution whose owner process is gone."""
