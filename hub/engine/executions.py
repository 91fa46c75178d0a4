"""The engine: starts executions, owns their lifecycle, and runs sub-executions (the dispatcher).

Every run becomes an execution in the store and ends as one `Envelope`, whatever happens: a
missing playbook, bad arguments, a failing step, the deadline, a cancel or a bug all come back as
error envelopes, never as exceptions. Each execution runs in its own task so it can be cancelled
by id (`cancel()`, or a cancel flag set in the store by another process, which a poller picks up).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog.catalog import Catalog

from catalog.entries import CatalogEntry
from hub.contract.access import ExecutionAccess, strictest_scopes
from hub.contract.caller import CallerChannel
from hub.engine.cancel_watch import CancelWatch
from hub.contract.envelope import Envelope, ErrorInfo, Failure
from hub.contract.errors import ErrorCode
from hub.contract.hooks import FailedRun, FailureHook, enter_run
from hub.engine.ids import ExecutionIds
from hub.engine.sub_runs import relative_entry, step_output
from hub.engine.kinds.registry import StepKinds
from hub.contract.records import EventRecord, EventType, ExecutionRecord, ExecutionStatus
from hub.contract.secrets import Redactor
from hub.contract.steps import RunContext
from hub.contract.store import EventStore
from hub.contract.templates import Templates
from hub.engine.remote import RemoteRuns
from hub.engine.admission import Admission
from hub.engine.outcomes import RunHandle, augments, brief, json_path, recordable, status_for
from hub.engine.remote_runs import RemoteExecutions
from hub.engine.state import ExecutionState
from hub.engine.step_configs import StepConfigs
from hub.engine.workflow import DEADLINE_SAFETY_NET, StepFailed, WorkflowRun

log = logging.getLogger("agenthub.engine")

Listener = Callable[[EventRecord], None]
__all__ = ["Engine", "EngineSettings", "FailureHook", "RunHandle"]

FRAMEWORK = "noetl"  # a catalog playbook run is the `noetl` framework of the envelope


@dataclass
class EngineSettings:
    max_depth: int = 8
    """Sub-run nesting limit: a playbook at depth `max_depth` may not start another."""
    max_activations: int = 10_000
    default_timeout: float | None = None
    """The execution deadline, seconds, for playbooks that set no `timeout:`."""
    cancel_poll_interval: float = 0.5
    max_concurrent: int | None = None
    """Top-level executions allowed to run at once (sub-runs do not count); None = no limit."""
    access: ExecutionAccess = field(default_factory=ExecutionAccess)
    """Who may read or touch an execution: the faces apply it, and so do steps that act on the
    hub for their caller (the troubleshoot playbook reaches it through its dispatcher)."""


def _report_create_failure(created: asyncio.Future[None]) -> None:
    """Log a record that could not be written (the run's final write then fails too)."""
    if not created.cancelled() and created.exception() is not None:
        log.error("could not record a new execution", exc_info=created.exception())


class Engine(Admission, RemoteExecutions):
    def __init__(
        self,
        catalog: Catalog,
        store: EventStore,
        kinds: StepKinds,
        settings: EngineSettings | None = None,
        *,
        failure_hooks: list[FailureHook] | None = None,
        remote: RemoteRuns | None = None,
    ) -> None:
        self.catalog = catalog
        self.remote = remote
        """Set on a cluster node: executions (and sub-runs) are published as work, not run here."""
        self.store = store
        self.kinds = kinds
        self.settings = settings or EngineSettings()
        self.templates = Templates()
        self._configs = StepConfigs()
        self.failure_hooks = list(failure_hooks or [])
        self._ids = ExecutionIds()
        self._rng = random.Random()
        self._running: dict[str, asyncio.Task[Envelope]] = {}
        self._listeners: dict[str, Listener] = {}
        self._top_level: set[str] = set()
        self._remote_waits: dict[str, asyncio.Task[Envelope]] = {}
        self._closing = False
        self._cancel_watch = CancelWatch(store, self._running, self.settings.cancel_poll_interval)

    # -- running -------------------------------------------------------------------------------

    async def run(
        self,
        ref: str | CatalogEntry,
        arguments: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        parent: RunContext | None = None,
        listener: Listener | None = None,
        timeout: float | None = None,
        started_by: str | None = None,
        caller_scopes: frozenset[str] | None = None,
        caller: CallerChannel | None = None,
    ) -> Envelope:
        """Run a playbook to its end. If the caller is cancelled, the execution is cancelled too."""
        handle = await self.start(
            ref, arguments, version=version, parent=parent, listener=listener, timeout=timeout,
            started_by=started_by, caller_scopes=caller_scopes, caller=caller,
        )
        try:
            return await asyncio.shield(handle.task)
        except asyncio.CancelledError:
            handle.task.cancel()
            await asyncio.wait([handle.task])
            raise

    async def run_playbook(
        self, ref: str, arguments: dict[str, Any], *, parent: RunContext, version: int | None = None,
        return_step: str | None = None,
    ) -> Envelope:
        """The dispatcher the `playbook` kind (and `noetl` agents) use for sub-runs. A `./file.yaml`
        ref is a file next to the parent's; `return_step` answers with that step's output."""
        target: str | CatalogEntry = relative_entry(self.catalog, ref, parent.playbook_path) or ref
        envelope = await self.run(target, arguments, version=version, parent=parent,
                                  listener=self._listeners.get(parent.execution_id))
        if return_step is None or not envelope.ok:
            return envelope
        return await step_output(self.store, envelope, return_step)

    async def start(
        self,
        ref: str | CatalogEntry,
        arguments: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        parent: RunContext | None = None,
        listener: Listener | None = None,
        timeout: float | None = None,
        started_by: str | None = None,
        caller_scopes: frozenset[str] | None = None,
        caller: CallerChannel | None = None,
    ) -> RunHandle:
        """Create the execution and start it (`handle.durable()` waits for its record); failures
        before the first step finish it at once, so the handle's task is then already done. `started_by` and
        `caller_scopes` are the caller's token subject and scopes; sub-runs inherit their parent's.
        `caller` is the MCP client to ask (`hub.contract.caller`); a run it cannot serve (a step
        needs a capability it lacks) is refused with CLIENT_CAPABILITY_MISSING. A run published to
        the cluster's workers leaves it behind (their `elicit`/`sample` steps fail NO_MCP_CALLER).

        The record keeps the scopes a reader needs (`hub.contract.access`): the strictest of the
        version that runs, the current version of its path, and the parent chain's."""
        started = time.monotonic()
        execution_id = self._ids.new()
        entry = ref if isinstance(ref, CatalogEntry) else self.catalog.get(ref, version)
        path = entry.path if entry else (ref if isinstance(ref, str) else ref.path)
        required: list[str] | None = None
        if entry is not None:
            current = self.catalog.get(entry.path)
            required = list(strictest_scopes(
                entry.scopes, current.scopes if current else None,
                parent.required_scopes if parent else None,
            ))
        record = ExecutionRecord(
            id=execution_id,
            parent_id=parent.execution_id if parent else None,
            playbook_path=path,
            playbook_version=entry.version if entry else version,
            playbook_name=entry.name if entry else None,
            status=ExecutionStatus.RUNNING,
            depth=parent.depth + 1 if parent else 0,
            created_at=time.time(),
            started_by=parent.started_by if parent else started_by,
            required_scopes=required,
        )
        scopes = parent.caller_scopes if parent else caller_scopes
        inherited = parent.redactor if parent else Redactor()  # a sub-run masks its parent chain's secrets
        try:
            state = self._prepare(record, entry, ref, version, arguments or {}, parent, timeout, listener,
                                  scopes, inherited, caller=caller)
        except Failure as failure:
            record.arguments = recordable(arguments or {}, entry, inherited)
            envelope = self._envelope(record, started, error=failure.error)
            await self.store.create(record)
            self._emit_raw(record.id, listener, inherited, EventType.EXECUTION_FINISHED, None,
                           {"status": "failed", "error": brief(failure.error)})
            envelope = await self._finish(record, envelope, ExecutionStatus.FAILED, None)
            done: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
            done.set_result(envelope)
            return RunHandle(execution_id, done)
        if self.remote is not None:
            return await self._start_remote(record, state, started, listener)
        if parent is None:  # the slot is taken before any await, so the limit holds under a burst
            self._top_level.add(execution_id)
        # The record's write is queued, not awaited: the run starts at once and the record, its
        # events and its final write usually share a transaction. The execution's task is made
        # first, but its first step runs only on the loop's next pass, after the record's write
        # was queued here, and the store's queue is FIFO, so the record is written before any
        # event. (Made in this order, a store that queues at once, as SQLite's does, hands the
        # record over together with a short run's events and final write.) The answer waits for
        # `finish`, which commits after it, so nothing acknowledged is lost. Who hands out the id
        # before the end awaits `handle.durable()`.
        if listener is not None:
            self._listeners[execution_id] = listener
        task = asyncio.create_task(self._execute(record, state, started), name=f"execution:{execution_id}")
        created = asyncio.ensure_future(self.store.create(record))
        created.add_done_callback(_report_create_failure)
        self._running[execution_id] = task
        task.add_done_callback(lambda _t: self._forget(execution_id))
        self._cancel_watch.ensure()
        return RunHandle(execution_id, task, created)

    async def _execute(self, record: ExecutionRecord, state: ExecutionState, started: float) -> Envelope:
        entry = state.entry
        enter_run(state.context)  # this task's own context: code a step calls can see its run
        state.emit(
            EventType.EXECUTION_STARTED, playbook=entry.path, version=entry.version,
            parent_id=record.parent_id, arguments=record.arguments,
        )
        status, error, data = ExecutionStatus.SUCCEEDED, None, None
        run = WorkflowRun(
            state, self.kinds.get, self.templates.render, self.templates.truthy,
            max_activations=self.settings.max_activations, rng=self._rng, configs=self._configs,
        )
        try:
            remaining = state.context.remaining()
            if remaining is None:  # no deadline: no timer to arm
                data = await run.run()
            else:
                # a safety net only: the step that meets the deadline reports it itself first
                async with asyncio.timeout(remaining + DEADLINE_SAFETY_NET * 1.5):
                    data = await run.run()
            data = self._check_output(entry, data)
        except StepFailed as failed:
            error = failed.error
        except Failure as failure:
            error = failure.error
        except TimeoutError:
            error = ErrorInfo.of(ErrorCode.DEADLINE_EXCEEDED, "the execution's deadline passed")
        except asyncio.CancelledError:
            error = ErrorInfo.of(ErrorCode.CANCELLED, "the execution was cancelled")
        except Exception as exc:  # a bug of ours: still an envelope
            log.exception("execution %s crashed", record.id)
            error = ErrorInfo.of(ErrorCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
        if error is not None:
            status = status_for(error)
            data = None
        envelope = self._envelope(record, started, data=state.redactor(data), error=error)
        if error is not None:
            envelope = envelope.model_copy(update={"error": ErrorInfo.model_validate(state.redactor(error.model_dump()))})
        facts: dict[str, Any] = {"status": status.value, "duration": envelope.duration}
        if error is not None:
            facts["error"] = brief(error)
        state.emit(EventType.EXECUTION_FINISHED, **facts)
        return await self._finish(record, envelope, status, state)

    async def _finish(
        self, record: ExecutionRecord, envelope: Envelope, status: ExecutionStatus, state: ExecutionState | None
    ) -> Envelope:
        if envelope.error is not None and state is not None and self.failure_hooks:
            try:
                for hook in self.failure_hooks:
                    failed = FailedRun(envelope, state.context, state.entry, state.keychain, state.redactor, state.emit)
                    try:
                        changed = await hook(failed)
                    except Exception:  # a hook never changes the outcome
                        log.exception("failure hook failed for %s", record.id)
                        continue
                    if augments(envelope, changed):
                        envelope = changed
                    else:
                        log.error("failure hook %r changed more than error.diagnosis for %s; ignored", hook, record.id)
            except asyncio.CancelledError:  # cancelled while diagnosing: the run's answer stands
                await asyncio.shield(self.store.finish(record.id, status, envelope.to_dict()))
                raise
        await asyncio.shield(self.store.finish(record.id, status, envelope.to_dict()))
        return envelope

    def _envelope(
        self, record: ExecutionRecord, started: float, *, data: Any = None, error: ErrorInfo | None = None
    ) -> Envelope:
        return Envelope(
            status="error" if error else "ok",
            framework=FRAMEWORK,
            entrypoint=record.playbook_path,
            data=data,
            execution_id=record.id,
            duration=round(time.monotonic() - started, 6),
            error=error,
        )

    def _check_output(self, entry: CatalogEntry, data: Any) -> Any:
        validator = entry.output_validator
        if validator is None or validator.is_valid(data):
            return data
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            text = "; ".join(f"result{json_path(e.absolute_path)}: {e.message}" for e in errors[:5])
            raise Failure.of(ErrorCode.OUTPUT_INVALID, text)
        return data

    def _emit_raw(
        self, execution_id: str, listener: Listener | None, redactor: Redactor,
        event_type: str, step: str | None, data: dict[str, Any],
    ) -> None:
        event = EventRecord(
            execution_id=execution_id, type=str(getattr(event_type, "value", event_type)),
            at=time.time(), step=step, data=redactor({k: v for k, v in data.items() if v is not None}),
        )
        self.store.append(event)
        if listener is not None:
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed")

    # -- cancelling ----------------------------------------------------------------------------

    async def cancel(self, execution_id: str) -> bool:
        """Cancel a running execution: directly when it runs here, else through the store."""
        task = self._running.get(execution_id)
        if task is not None:
            task.cancel()
            return True
        if self.remote is not None:
            if not await self.store.request_cancel(execution_id):
                return False
            await self.remote.cancel(execution_id)
            return True
        return await self.store.request_cancel(execution_id)

    def running(self) -> list[str]:
        return list(self._running)

    async def snapshot(self, execution_id: str) -> Envelope | None:
        """The envelope of an execution as it stands: final if it ended, else status "running"."""
        record = await self.store.get(execution_id)
        if record is None:
            return None
        if record.envelope is not None:
            return Envelope.model_validate(record.envelope)
        return Envelope(
            status="running",
            framework=FRAMEWORK,
            entrypoint=record.playbook_path,
            execution_id=record.id,
            duration=round(time.time() - record.created_at, 6),
        )

    def _forget(self, execution_id: str) -> None:
        self._top_level.discard(execution_id)
        self._running.pop(execution_id, None)
        self._remote_waits.pop(execution_id, None)
        self._listeners.pop(execution_id, None)

    async def aclose(self) -> None:
        """Cancel what still runs and wait for it to be recorded."""
        self._closing = True
        waits = list(self._remote_waits.values())
        for waiting in waits:  # stop waiting; the runs go on on their workers
            waiting.cancel()
        if waits:
            await asyncio.gather(*waits, return_exceptions=True)
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._cancel_watch.aclose()
        await self.store.flush()


