"""The engine's cluster path: publishing an admitted execution as work (`hub.engine.remote`) and
waiting for its envelope on the front end, and `resume` on the worker, which runs a recorded
execution (or goes on with one whose worker died) from its event log. A part of `Engine` (a mixin),
kept apart from the embedded lifecycle in `hub.engine.executions`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hub.contract.envelope import Envelope, Failure
from hub.contract.records import EventType, ExecutionRecord, ExecutionStatus
from hub.contract.secrets import Redactor
from hub.engine.outcomes import RunHandle, brief
from hub.engine.remote import WorkOrder
from hub.engine.state import ExecutionState

if TYPE_CHECKING:
    from hub.engine.executions import Listener


class RemoteExecutions:
    """`Engine`'s cluster methods: see the module docstring."""

    async def _start_remote(
        self, record: ExecutionRecord, state: ExecutionState, started: float, listener: Listener | None
    ) -> RunHandle:
        """Record the execution as pending and publish it as work; the handle's task waits for the
        worker's envelope. A full queue finishes the execution at once (TOO_MANY_EXECUTIONS)."""
        assert self.remote is not None
        record.status = ExecutionStatus.PENDING
        await self.store.create(record)
        remaining = state.context.remaining()
        order = WorkOrder(
            execution_id=record.id, arguments=state.arguments,
            deadline_at=None if remaining is None else time.time() + remaining,
            ancestry=list(state.context.ancestry), troubleshoot_depth=state.context.troubleshoot_depth,
        )  # fmt: skip
        try:
            future = await self.remote.submit(order, listener)
        except Failure as failure:
            state.emit(EventType.EXECUTION_FINISHED, status="failed", error=brief(failure.error))
            envelope = await self._finish(record, self._envelope(record, started, error=failure.error), ExecutionStatus.FAILED, None)
            done: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
            done.set_result(envelope)
            return RunHandle(record.id, done)
        task = asyncio.create_task(self._await_remote(record.id, future), name=f"remote:{record.id}")
        self._remote_waits[record.id] = task
        if listener is not None:
            self._listeners[record.id] = listener
        task.add_done_callback(lambda _t: self._forget(record.id))
        return RunHandle(record.id, task)

    async def _await_remote(self, execution_id: str, future: asyncio.Future[Envelope]) -> Envelope:
        try:
            return await future
        except asyncio.CancelledError:  # the caller gave up on it: so does the cluster
            if self.remote is not None and not self._closing:
                await asyncio.shield(self.remote.cancel(execution_id))
            raise

    async def resume(
        self,
        record: ExecutionRecord,
        order: WorkOrder,
        *,
        listener: Listener | None = None,
        replay: dict[tuple[str, int | None], list[Any]] | None = None,
        resume_attempts: dict[tuple[str, int | None], int] | None = None,
        checkpoint: Callable[[], Awaitable[None]] | None = None,
    ) -> Envelope:
        """Run an execution another node recorded (a worker taking a `WorkOrder`), or go on with
        one whose worker died: `replay` holds the outputs of the steps its log records as finished
        (they are not run again) and `resume_attempts` the attempt the interrupted step continues
        with. `checkpoint` is awaited after each finished step (the worker flushes the store)."""
        started = time.monotonic() - max(0.0, time.time() - record.created_at)
        entry = self.catalog.get(record.playbook_path, record.playbook_version)
        try:
            state = self._prepare(
                record, entry, record.playbook_path, record.playbook_version, order.arguments, None, None, listener,
                # the caller's token scopes do not travel with the work: with auth on (a subject is
                # recorded) a resumed run acts for a caller with no scopes, never for everyone
                frozenset() if record.started_by is not None else None,
                check_limits=False,
            )
        except Failure as failure:
            self._emit_raw(record.id, listener, Redactor(), EventType.EXECUTION_FINISHED, None,
                           {"status": "failed", "error": brief(failure.error)})
            return await self._finish(record, self._envelope(record, started, error=failure.error), ExecutionStatus.FAILED, None)
        deadline = None if order.deadline_at is None else time.monotonic() + (order.deadline_at - time.time())
        state.context = dataclasses.replace(
            state.context, depth=record.depth, ancestry=tuple(order.ancestry), deadline=deadline,
            troubleshoot_depth=order.troubleshoot_depth, started_by=record.started_by,
        )  # fmt: skip
        state.replay = {key: list(outputs) for key, outputs in (replay or {}).items()}
        state.resume_attempts = dict(resume_attempts or {})
        state.checkpoint = checkpoint
        if listener is not None:
            self._listeners[record.id] = listener
        task = asyncio.create_task(self._execute(record, state, started), name=f"execution:{record.id}")
        self._running[record.id] = task
        task.add_done_callback(lambda _t: self._forget(record.id))
        self._cancel_watch.ensure()
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.wait([task])
            raise
