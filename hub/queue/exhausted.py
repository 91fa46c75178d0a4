"""Runs JetStream gave up on, failed with DELIVERY_EXHAUSTED so a caller never waits forever on a
run nobody can finish. Two ways to notice, both ending in `_fail` (fail the execution, tell the
waiting front end, remove the message):

- the max-deliveries advisory JetStream publishes when it would deliver a message once too often;
  one node of the cluster hears it (a queue group of front ends and workers alike). The server
  publishes it only when some worker asks for work, so with every worker gone it never comes;
- the sweep every node runs: a running execution whose last delivery (the workers record each in
  its log) was the `max_deliver`-th, and whose lease nobody holds, will never be delivered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from hub.contract.envelope import Envelope, ErrorInfo
from hub.contract.errors import ErrorCode
from hub.contract.records import EventRecord, EventType, ExecutionStatus
from hub.contract.store import EventStore
from hub.engine.remote import WorkOrder
from hub.queue.leases import Leases
from hub.queue.settings import QueueSettings, Subjects

log = logging.getLogger("agenthub.queue")


async def watch_exhausted(nc: Any, js: Any, settings: QueueSettings, store: EventStore) -> Any:
    """Subscribe this node to the max-deliveries advisory; returns the subscription."""
    subjects = Subjects(settings.prefix)

    async def received(msg: Any) -> None:
        try:
            seq = int(json.loads(msg.data)["stream_seq"])
            raw = await js.get_msg(subjects.stream, seq)
            order = WorkOrder.model_validate_json(raw.data)
        except Exception:
            log.exception("reading an exhausted work message failed")
            return
        try:
            await _fail(nc, subjects, settings, store, order.execution_id)
        finally:
            with contextlib.suppress(Exception):
                await js.delete_msg(subjects.stream, seq)

    return await nc.subscribe(subjects.max_deliveries_advisory, queue=f"{subjects.durable}-advisories", cb=received)


async def sweep_exhausted(nc: Any, js: Any, settings: QueueSettings, store: EventStore, leases: Leases) -> None:
    """Every `ack_wait` (1 to 30 s), fail the runs whose last delivery's worker is gone; runs until
    cancelled. `leases` must be this sweep's own connection: advisory locks are re-entrant per
    session, so a worker's connection would take the lease of a run it runs itself."""
    subjects = Subjects(settings.prefix)
    every = min(max(settings.ack_wait, 1.0), 30.0)
    while True:
        await asyncio.sleep(every)
        try:
            for eid in await leases.last_deliveries(at_least=settings.max_deliver):
                if not await leases.acquire(eid):  # its worker still runs it
                    continue
                try:
                    await _fail(nc, subjects, settings, store, eid)
                    await _remove_work(js, subjects, eid)
                finally:
                    await leases.release(eid)
        except Exception:
            log.exception("sweeping for exhausted runs failed; trying again in %gs", every)


async def _remove_work(js: Any, subjects: Subjects, eid: str) -> None:
    with contextlib.suppress(Exception):  # gone already, or the advisory's node removes it
        msg = await js.get_last_msg(subjects.stream, subjects.work_for(eid))
        await js.delete_msg(subjects.stream, msg.seq)


async def _fail(nc: Any, subjects: Subjects, settings: QueueSettings, store: EventStore, eid: str) -> None:
    record = await store.get(eid)
    if record is None or record.status.finished:
        return
    error = ErrorInfo.of(
        ErrorCode.DELIVERY_EXHAUSTED,
        f"no worker finished this run in {settings.max_deliver} deliveries",
        details={"deliveries": settings.max_deliver},
    )
    envelope = Envelope(
        status="error", framework="noetl", entrypoint=record.playbook_path, execution_id=eid,
        duration=round(max(0.0, time.time() - record.created_at), 6), error=error,
    )  # fmt: skip
    store.append(EventRecord(
        execution_id=eid, type=EventType.EXECUTION_FINISHED.value, at=time.time(),
        data={"status": "failed", "error": {"code": error.code, "message": error.message}},
    ))  # fmt: skip
    await store.finish(eid, ExecutionStatus.FAILED, envelope.to_dict())
    await nc.publish(subjects.result(eid), json.dumps(envelope.to_dict()).encode())
    log.error("execution %s failed: %s", eid, error.message)
