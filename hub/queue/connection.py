"""Connecting to NATS and making sure the work stream and the workers' durable consumer exist.

Every node declares them the same way on start (idempotent in JetStream), so no node has to come
first. The stream keeps a message until a worker acks it (work-queue retention); the consumer
redelivers a message whose worker went silent for `ack_wait`, at most `max_deliver` times.
"""

from __future__ import annotations

import logging
from typing import Any

from hub.queue.settings import QueueSettings, Subjects

log = logging.getLogger("agenthub.queue")


def import_nats() -> Any:
    try:
        import nats
    except ImportError:  # pragma: no cover - depends on the install
        raise RuntimeError("--queue needs nats-py: pip install 'agenthub[nats]'") from None
    return nats


async def connect(settings: QueueSettings, *, name: str) -> Any:
    nats = import_nats()
    return await nats.connect(settings.url, name=name, max_reconnect_attempts=-1, connect_timeout=5)


async def ensure_stream(js: Any, settings: QueueSettings) -> None:
    from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StreamConfig
    from nats.js.errors import BadRequestError

    subjects = Subjects(settings.prefix)
    stream = StreamConfig(
        name=subjects.stream, subjects=[f"{subjects.work}.>"], retention=RetentionPolicy.WORK_QUEUE
    )
    try:
        await js.add_stream(stream)
    except BadRequestError:  # exists with other settings: keep it, say so
        log.warning("stream %s exists with other settings; using it as it is", subjects.stream)
    consumer = ConsumerConfig(
        durable_name=subjects.durable, ack_policy=AckPolicy.EXPLICIT, ack_wait=settings.ack_wait,
        max_deliver=settings.max_deliver, filter_subject=f"{subjects.work}.>", max_ack_pending=-1,
    )  # fmt: skip
    try:
        await js.add_consumer(subjects.stream, consumer)
    except BadRequestError:
        log.warning("consumer %s exists with other settings; using it as it is", subjects.durable)
