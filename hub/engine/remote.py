"""The seam between the engine and a work queue: where an execution runs when it does not run here.

Embedded, the engine runs every execution in its own process. In a cluster (`hub.queue`), a front
end's engine still validates the call and records the execution (so bad input is answered at once
and every run is in the store), then hands a `WorkOrder` to `RemoteRuns`, which publishes it; a
worker's engine picks it up and runs it with `Engine.resume`. The order carries what the worker
cannot read from the store: the arguments before redaction, the absolute deadline, the ancestry.

A contract between the engine and `hub.queue` only: the engine never imports the queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import BaseModel, Field

from hub.contract.envelope import Envelope
from hub.contract.records import EventRecord

Listener = Callable[[EventRecord], None]


class WorkOrder(BaseModel):
    """One execution to run, as published on the queue. It holds the caller's arguments as given
    (secrets included: the store only keeps them redacted), so the queue must be trusted like the
    store."""

    execution_id: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    deadline_at: float | None = Field(default=None, description="Unix time the run must end by, or None.")
    ancestry: list[str] = Field(default_factory=list, description="Playbook paths of the parents, root first.")
    troubleshoot_depth: int = 0


class RemoteRuns(Protocol):
    async def submit(self, order: WorkOrder, listener: Listener | None) -> asyncio.Future[Envelope]:
        """Publish the order; the future resolves with the run's final envelope. Raises
        `hub.contract.envelope.Failure` (TOO_MANY_EXECUTIONS) when the queue is over its depth."""

    async def cancel(self, execution_id: str) -> None:
        """Ask whichever worker runs it to cancel it (and flag it, for a run not yet picked up)."""
