"""Long runs as MCP tasks (the tasks extension, SEP-2663), 2026-07-28 era.

A task is an execution: its id is the execution id, its result the `CallToolResult` the call
would have answered. A tools/call of a playbook with `metadata.task` `optional` or `required`,
from a client that declared `io.modelcontextprotocol/tasks` (in the request's
`clientCapabilities.extensions`), starts the run, waits until its record is durable (so an
immediate tasks/get resolves) and answers a flat `CreateTaskResult`. A client that did not declare
it gets a plain call (`optional`) or -32021 (`required`).

- tasks/get: `working`, `input_required` with the run's open questions as `inputRequests`
  (the same keyed requests an input round carries), or a terminal status: `completed` with the
  tool result inlined (an error envelope is `completed` with `isError`, as the spec wants for tool
  errors), `cancelled`, or `failed` with a JSON-RPC error when the hub could not produce a result
  at all (`PROTOCOL_FAILURES`: the hub's own bug, the process running it died, a result that
  cannot be serialised).
- tasks/update: hands answers to the waiting steps; keys naming nothing open are ignored; an
  empty ack. tasks/cancel: cancels the execution; an empty ack, also for a finished task.
- The three methods need the extension declared on the request (-32021 otherwise); an unknown
  task, and one the caller may not see (`hub.contract.access`, as for executions), is -32602.

A running task's questions live in this process (like input rounds); its status and result come
from the store once the process forgets it, so any replica answers tasks/get of a finished task.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from mcp import types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import MCP_NAME_HEADER, decode_header_value

from catalog.entries import CatalogEntry
from hub.app import Hub
from hub.contract.envelope import Envelope
from hub.contract.errors import ErrorCode
from hub.engine.outcomes import RunHandle
from hub.mcp.input_rounds import RoundCaller
from hub.mcp.task_wire import (
    TASKS_EXTENSION, CreateTaskResult, DetailedTask, TaskRequestParams, TaskStatus,
    TaskUpdateParams, declares_tasks, iso, wire,
)
from hub.mcp.tools import current_caller, envelope_result

DEFAULT_TTL_MS = 3_600_000
"""How long a finished task stays in memory (its questions, its times); its record stays longer."""
DEFAULT_POLL_INTERVAL_MS = 500
PROTOCOL_FAILURES = frozenset({
    ErrorCode.INTERNAL_ERROR.name, ErrorCode.PROCESS_DIED.name, ErrorCode.DELIVERY_EXHAUSTED.name,
    ErrorCode.OUTPUT_NOT_SERIALIZABLE.name,
})
"""Error codes that mean no tool result could be produced: the task is `failed`, not `completed`."""


@dataclass
class _LiveTask:
    handle: RunHandle
    caller: RoundCaller
    created_at: float
    updated_at: float
    status: TaskStatus = "working"
    waiting: set[str] = field(default_factory=set)


def tasks_required_error(what: str) -> MCPError:
    """-32021 naming the tasks extension as the capability the request lacks."""
    return MCPError(types.MISSING_REQUIRED_CLIENT_CAPABILITY,
                    f"{what} needs the client extension {TASKS_EXTENSION}",
                    {"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}})


class HubTasks:
    """The hub's tasks: creating them from tools/call, and the tasks/* methods."""

    def __init__(self, hub: Hub, *, ttl_ms: int = DEFAULT_TTL_MS,
                 poll_interval_ms: int = DEFAULT_POLL_INTERVAL_MS, links: bool = False) -> None:
        self.hub = hub
        self.ttl_ms = ttl_ms
        self.poll_interval_ms = poll_interval_ms
        self.links = links
        self._live: dict[str, _LiveTask] = {}

    def register(self, server: Server[Any]) -> None:
        """Advertise the extension and serve its methods on `server`."""
        server.extensions[TASKS_EXTENSION] = {}
        server.add_request_handler("tasks/get", TaskRequestParams, self.get)
        server.add_request_handler("tasks/update", TaskUpdateParams, self.update)
        server.add_request_handler("tasks/cancel", TaskRequestParams, self.cancel)

    # -- creating ------------------------------------------------------------------------------

    def mode(self, ctx: ServerRequestContext[Any, Any], entry: CatalogEntry) -> str | None:
        """How a 2026 tools/call of `entry` runs: None (a plain call), "task" (a task at once) or
        "rounds" (input rounds first, the task on the call answering them). Raises -32021 for a
        `required` tool the request did not declare the extension for."""
        options = entry.playbook.metadata.task
        if options.support == "forbidden":
            return None
        if not declares_tasks(ctx.session.client_capabilities):
            if options.support == "required":
                raise tasks_required_error(f"tool {entry.name!r}")
            return None
        return options.input

    async def create(self, entry: CatalogEntry, arguments: dict[str, Any], caller: RoundCaller) -> dict[str, Any]:
        """Start a run of `entry` as a task; its `CreateTaskResult` once the record is durable."""
        who = current_caller()
        handle = await self.hub.engine.start(entry, arguments, started_by=who.subject,
                                             caller_scopes=who.scopes, caller=caller)
        return await self.adopt(handle, caller)

    async def adopt(self, handle: RunHandle, caller: RoundCaller) -> dict[str, Any]:
        """Make a started run (e.g. one parked by an input round) a task."""
        await handle.durable()
        now = time.time()
        task = _LiveTask(handle, caller, now, now)
        self._live[handle.execution_id] = task
        loop = asyncio.get_running_loop()
        handle.task.add_done_callback(
            lambda _t: loop.call_later(self.ttl_ms / 1000, self._live.pop, handle.execution_id, None))
        await asyncio.sleep(0)  # let a run that asks at once ask before the first tasks/get
        return wire(CreateTaskResult(task_id=handle.execution_id, status=self._status(task)[0],
                                     created_at=iso(now), last_updated_at=iso(now), ttl_ms=self.ttl_ms,
                                     poll_interval_ms=self.poll_interval_ms))

    # -- the methods ---------------------------------------------------------------------------

    async def get(self, ctx: ServerRequestContext[Any, Any], params: TaskRequestParams) -> dict[str, Any]:
        """tasks/get: the task as it stands (`DetailedTask`)."""
        self._gate(ctx, "tasks/get", params.task_id)
        await self._visible(params.task_id)
        live = self._live.get(params.task_id)
        if live is not None:
            status, envelope = self._status(live)
            created, updated = live.created_at, live.updated_at
        else:
            envelope = await self.hub.engine.snapshot(params.task_id)
            assert envelope is not None  # visible above
            record = await self.hub.store.get(params.task_id)
            status = "working" if envelope.status == "running" else self._terminal(envelope)
            created = record.created_at if record else time.time()
            updated = (record.finished_at if record else None) or created
        task = DetailedTask(task_id=params.task_id, status=status, created_at=iso(created),
                            last_updated_at=iso(updated), ttl_ms=self.ttl_ms, poll_interval_ms=self.poll_interval_ms)
        if status == "input_required" and live is not None:
            task.input_requests = {key: wire(request) for key, request in live.caller.questions().items()}
        elif status == "completed" and envelope is not None:
            task.result = wire(envelope_result(envelope, link=self.links))
        elif status == "failed" and envelope is not None and envelope.error is not None:
            task.error = {"code": types.INTERNAL_ERROR, "message": f"{envelope.error.code}: {envelope.error.message}",
                          "data": {"code": envelope.error.code, "execution_id": envelope.execution_id}}
        elif status == "cancelled":
            task.status_message = "cancelled"
        return wire(task)

    async def update(self, ctx: ServerRequestContext[Any, Any], params: TaskUpdateParams) -> dict[str, Any]:
        """tasks/update: answers for the task's open questions; an empty ack."""
        self._gate(ctx, "tasks/update", params.task_id)
        await self._visible(params.task_id)
        live = self._live.get(params.task_id)
        if live is not None:
            live.caller.answer(params.input_responses)
            await asyncio.sleep(0)  # the answered steps go on before the next tasks/get
        return {}

    async def cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskRequestParams) -> dict[str, Any]:
        """tasks/cancel: stop the execution (nothing for a finished one); an empty ack."""
        self._gate(ctx, "tasks/cancel", params.task_id)
        record = await self._visible(params.task_id)
        live = self._live.get(params.task_id)
        if (live is not None and not live.handle.task.done()) or (live is None and record.finished_at is None):
            await self.hub.engine.cancel(params.task_id)
        return {}

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _gate(ctx: ServerRequestContext[Any, Any], method: str, task_id: str) -> None:
        """The extension declared, and over HTTP an `Mcp-Name` header naming the task (SEP-2663
        routing headers; the SDK checks them only for tools, prompts and resources)."""
        if not declares_tasks(ctx.session.client_capabilities):
            raise tasks_required_error(method)
        headers = getattr(ctx.request, "headers", None)  # a Starlette request on HTTP, None on stdio
        if headers is not None:
            named = headers.get(MCP_NAME_HEADER)
            if named is None or decode_header_value(named.strip(" \t")) != task_id:
                raise MCPError(types.HEADER_MISMATCH,
                               f"{MCP_NAME_HEADER} header must be the request's taskId ({method})")

    async def _visible(self, task_id: str) -> Any:
        """The task's execution record; -32602 when unknown or not the caller's to see."""
        record = await self.hub.store.get(task_id)
        if record is None or not self.hub.access.allows(record, current_caller()):
            raise MCPError(types.INVALID_PARAMS, f"unknown task: {task_id}")
        return record

    def _status(self, live: _LiveTask) -> tuple[TaskStatus, Envelope | None]:
        """A live task's status (and its envelope once ended); moves `updated_at` on a change."""
        envelope = live.handle.task.result() if live.handle.task.done() else None
        waiting = set(live.caller.questions())
        status: TaskStatus = (self._terminal(envelope) if envelope is not None
                              else "input_required" if waiting else "working")
        if status != live.status or waiting != live.waiting:
            live.status, live.waiting, live.updated_at = status, waiting, time.time()
        return status, envelope

    @staticmethod
    def _terminal(envelope: Envelope) -> TaskStatus:
        if envelope.error is None:
            return "completed"
        if envelope.error.code == ErrorCode.CANCELLED.name:
            return "cancelled"
        return "failed" if envelope.error.code in PROTOCOL_FAILURES else "completed"

