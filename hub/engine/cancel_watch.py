"""Cancels asked for by another process: `agenthub cancel ID` (or another hub front end sharing the
store) sets a flag on the execution; the process running it polls the flags of its own running
executions and cancels their tasks. The poller runs only while something runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from hub.contract.store import EventStore

log = logging.getLogger("agenthub.engine")


class CancelWatch:
    def __init__(self, store: EventStore, running: Mapping[str, asyncio.Task[object]], interval: float) -> None:
        self._store = store
        self._running = running
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def ensure(self) -> None:
        """Start polling if it is not already (call after an execution starts)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="cancel-poller")

    async def _poll(self) -> None:
        while self._running:
            await asyncio.sleep(self._interval)
            try:
                flagged = await self._store.cancel_requested(list(self._running))
            except Exception:
                log.exception("checking cancel requests failed")
                continue
            for execution_id in flagged:
                task = self._running.get(execution_id)
                if task is not None:
                    task.cancel()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
