"""`agenthub worker`: pull runs from the durable consumer and run them with the engine.

One message is one execution. The worker claims it in the store (owner = this process), rebuilds
what its event log says already happened (a redelivered run: its previous worker died), runs the
rest with `Engine.resume`, publishes the final envelope and only then acks. While it runs, an
in-progress ack every third of `ack_wait` keeps JetStream from handing it to another worker; when
a worker dies those stop and the run is redelivered after `ack_wait`.

A worker holds a lease on each run it runs (`hub.queue.leases`), so a run redelivered while its
first worker is alive but slow is handed back rather than run twice at once.

Guarantees (README "Running a cluster"): a step whose `step.finished` is in the store is never run
again (the worker flushes the store after every step); the step that was running when a worker
died runs again (at-least-once; `http` steps can send a stable `Idempotency-Key`); a run no worker
finishes in `max_deliver` deliveries fails with DELIVERY_EXHAUSTED (`hub.queue.exhausted`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from hub.contract.envelope import Envelope
from hub.contract.records import EventRecord, EventType
from hub.engine.executions import Engine
from hub.engine.remote import WorkOrder
from hub.queue.leases import Leases
from hub.queue.settings import QueueSettings, Subjects
from hub.store.postgres import PostgresEventStore

log = logging.getLogger("agenthub.queue")

Replay = dict[tuple[str, int | None], list[Any]]


def replay_from(events: list[EventRecord]) -> tuple[Replay, dict[tuple[str, int | None], int]]:
    """From a run's log: the outputs of finished step attempts, and the attempt number each
    interrupted step (started, never finished) continues with."""
    replay: Replay = {}
    attempts: dict[tuple[str, int | None], int] = {}
    for event in events:
        if event.step is None:
            continue
        key = (event.step, event.data.get("iteration"))
        if event.type == EventType.STEP_FINISHED.value:
            replay.setdefault(key, []).append(event.data.get("output"))
            attempts.pop(key, None)
        elif event.type == EventType.STEP_STARTED.value:
            attempts[key] = int(event.data.get("attempt") or 1)
        elif event.type == EventType.STEP_RETRIED.value:
            attempts[key] = int(event.data.get("attempt") or 1) + 1
    return replay, attempts


class Worker:
    def __init__(
        self,
        engine: Engine,
        store: PostgresEventStore,
        nc: Any,
        js: Any,
        settings: QueueSettings,
        *,
        max_concurrent: int = 8,
        leases: Leases,
    ) -> None:
        self.leases = leases
        self.engine = engine
        self.store = store
        self._nc = nc
        self._js = js
        self.settings = settings
        self.subjects = Subjects(settings.prefix)
        self.max_concurrent = max_concurrent
        self._tasks: set[asyncio.Task[None]] = set()
        self._holding: set[str] = set()
        self.finished = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Pull and run work until `stop` is set, then finish what runs (its messages are acked)."""
        s = self.subjects
        pull = await self._js.pull_subscribe(f"{s.work}.>", durable=s.durable, stream=s.stream)
        cancels = await self._nc.subscribe(s.cancel, cb=self._on_cancel)
        slots = asyncio.Semaphore(self.max_concurrent)
        try:
            while not stop.is_set():
                await slots.acquire()
                try:
                    messages = await pull.fetch(1, timeout=1.0)
                except Exception as exc:  # nats.errors.TimeoutError when nothing waits, or a reconnect
                    slots.release()
                    if type(exc).__name__ != "TimeoutError":
                        log.warning("fetching work failed: %r", exc)
                        await asyncio.sleep(0.5)
                    continue
                for msg in messages:
                    task = asyncio.create_task(self._handle(msg), name="work")
                    self._tasks.add(task)
                    task.add_done_callback(lambda t: (self._tasks.discard(t), slots.release()))
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            for sub in (cancels, pull):
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()

    async def _handle(self, msg: Any) -> None:
        try:
            order = WorkOrder.model_validate_json(msg.data)
        except ValueError:
            log.error("dropping a malformed work message on %s", msg.subject)
            await msg.term()
            return
        if order.execution_id in self._holding or not await self.leases.acquire(order.execution_id):
            # redelivered while the worker that has it still runs it (it was silent too long)
            log.warning("execution %s still runs on another worker; handing it back", order.execution_id)
            await msg.nak(delay=self.settings.ack_wait)
            return
        self._holding.add(order.execution_id)  # (a session's advisory locks are re-entrant: guard here too)
        alive = asyncio.create_task(self._keep_alive(msg), name=f"in-progress:{order.execution_id}")
        try:
            envelope = await self._run(order, delivery=_delivery_number(msg))
            if envelope is not None:
                await self._nc.publish(self.subjects.result(order.execution_id), json.dumps(envelope.to_dict()).encode())
                await self._nc.flush()
            await msg.ack()
            self.finished += 1
        except Exception:
            log.exception("running %s failed; leaving it to redelivery", order.execution_id)
        finally:
            alive.cancel()
            self._holding.discard(order.execution_id)
            await self.leases.release(order.execution_id)

    async def _run(self, order: WorkOrder, *, delivery: int) -> Envelope | None:
        eid = order.execution_id
        record = await self.store.claim(eid)
        if record is None:  # finished before (its worker died before acking) or unknown
            done = await self.store.get(eid)
            return None if done is None or done.envelope is None else Envelope.model_validate(done.envelope)
        events = await self.store.events(eid)
        # durable before any step runs: how `hub.queue.exhausted` knows the queue's last delivery was made
        self.store.append(EventRecord(
            execution_id=eid, type=EventType.EXECUTION_DELIVERED.value, at=time.time(),
            data={"delivery": delivery, "max_deliver": self.settings.max_deliver, "worker": self.store.owner},
        ))  # fmt: skip
        await self.store.flush()
        replay, attempts = replay_from(events)
        if replay or attempts:
            log.warning("resuming %s: %d finished step(s) from its log", eid, sum(map(len, replay.values())))

        def relay(event: EventRecord) -> None:
            asyncio.get_running_loop().create_task(
                self._nc.publish(self.subjects.events(eid),
                                 event.model_dump_json().encode())
            )

        run = asyncio.create_task(
            self.engine.resume(record, order, listener=relay, replay=replay, resume_attempts=attempts,
                               checkpoint=self.store.flush)
        )  # fmt: skip
        if record.cancel_requested:  # cancelled while it waited in the queue
            await asyncio.sleep(0)
            await self.engine.cancel(eid)
        envelope = await run
        await self.store.flush()
        return envelope

    async def _keep_alive(self, msg: Any) -> None:
        every = max(self.settings.ack_wait / 3, 0.2)
        while True:
            await asyncio.sleep(every)
            try:
                await msg.in_progress()
            except Exception as exc:
                log.warning("in-progress ack failed: %r", exc)

    async def _on_cancel(self, msg: Any) -> None:
        execution_id = msg.data.decode("utf-8", "replace")
        if execution_id in self.engine.running():
            await self.engine.cancel(execution_id)


def _delivery_number(msg: Any) -> int:
    """Which delivery of its message this is (1 the first time), as JetStream counts it."""
    try:
        return int(msg.metadata.num_delivered)
    except (AttributeError, TypeError, ValueError):  # not a JetStream delivery
        return 1
