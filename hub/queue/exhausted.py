"""Runs JetStream gave up on: after `max_deliver` deliveries without an ack, the server publishes
an advisory; one node of the cluster (a queue group: front ends and workers alike, so it is heard
even when every worker is gone) fails the execution with DELIVERY_EXHAUSTED, tells the waiting
front end, and removes the message. A caller never waits forever on a run nobody can finish."""

from __future__ import annotations

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
