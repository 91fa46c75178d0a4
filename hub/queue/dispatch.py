"""`hub.engine.remote.RemoteRuns` on JetStream: publish a run as work, hear its steps and its end.

The node that publishes (a front end holding an MCP or REST caller, or a worker starting a sub-run)
subscribes to the run's event and result subjects *before* publishing, so nothing the worker says
is missed. Core NATS subjects are fire-and-forget, so the store is the safety net: while a caller
waits, the run's record is re-read every `poll_interval` seconds and a final envelope found there
ends the wait (a result message lost to a reconnect never leaves a caller hanging).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from hub.contract.envelope import Envelope, Failure
from hub.contract.errors import ErrorCode
from hub.contract.records import EventRecord
from hub.contract.store import EventStore
from hub.engine.remote import Listener, WorkOrder
from hub.queue.settings import QueueSettings, Subjects

log = logging.getLogger("agenthub.queue")

_DEPTH_CACHE = 0.25
"""Seconds one reading of the queue depth is trusted (a burst of calls asks JetStream once)."""


class QueueDispatch:
    """Publishes executions as work and relays what their workers report (see the module docstring)."""

    def __init__(
        self, nc: Any, js: Any, settings: QueueSettings, store: EventStore, *, poll_interval: float = 2.0
    ) -> None:
        self._nc = nc
        self._js = js
        self.settings = settings
        self.subjects = Subjects(settings.prefix)
        self._store = store
        self._poll_interval = poll_interval
        self._depth: tuple[float, int] = (0.0, 0)

    async def submit(self, order: WorkOrder, listener: Listener | None) -> asyncio.Future[Envelope]:
        await self._check_depth()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Envelope] = loop.create_future()
        eid = order.execution_id

        async def on_result(msg: Any) -> None:
            if not future.done():
                future.set_result(Envelope.model_validate_json(msg.data))

        async def on_event(msg: Any) -> None:
            if listener is None:
                return
            try:
                listener(EventRecord.model_validate_json(msg.data))
            except Exception:
                log.exception("event listener failed")

        subs = [await self._nc.subscribe(self.subjects.result(eid), cb=on_result)]
        if listener is not None:
            subs.append(await self._nc.subscribe(self.subjects.events(eid), cb=on_event))
        try:
            await self._js.publish(
                self.subjects.work_for(eid), order.model_dump_json().encode(), headers={"Nats-Msg-Id": eid}
            )
        except BaseException:
            for sub in subs:
                await sub.unsubscribe()
            raise
        watch = asyncio.create_task(self._watch_store(eid, future), name=f"result-watch:{eid}")

        def done(_f: asyncio.Future[Envelope]) -> None:
            watch.cancel()
            for sub in subs:
                loop.create_task(_quietly(sub.unsubscribe()))

        future.add_done_callback(done)
        return future

    async def cancel(self, execution_id: str) -> None:
        await self._nc.publish(self.subjects.cancel, execution_id.encode())
        await self._nc.flush()

    async def _check_depth(self) -> None:
        limit = self.settings.max_queue_depth
        at, waiting = self._depth
        if time.monotonic() - at > _DEPTH_CACHE:
            info = await self._js.consumer_info(self.subjects.stream, self.subjects.durable)
            waiting = int(info.num_pending or 0)
            self._depth = (time.monotonic(), waiting)
        if waiting >= limit:
            raise Failure.of(
                ErrorCode.TOO_MANY_EXECUTIONS,
                f"{waiting} executions already wait for a worker (the queue's limit is {limit}); try again shortly",
            )

    async def _watch_store(self, execution_id: str, future: asyncio.Future[Envelope]) -> None:
        while not future.done():
            await asyncio.sleep(self._poll_interval)
            try:
                record = await self._store.get(execution_id)
            except Exception:
                log.exception("reading execution %s failed", execution_id)
                continue
            if record is not None and record.envelope is not None and record.status.finished and not future.done():
                future.set_result(Envelope.model_validate(record.envelope))


async def _quietly(coro: Any) -> None:
    with contextlib.suppress(Exception):
        await coro
