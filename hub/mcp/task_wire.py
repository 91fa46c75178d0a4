"""The wire shapes of the MCP tasks extension (SEP-2663, `io.modelcontextprotocol/tasks`).

The `mcp` SDK 2.3.0 carries none of them (its task types are the 2025-11-25 ones, left out of its
method tables), so the hub declares its own here and registers the methods on the low-level
`Server` (`hub.mcp.tasks`). A result whose `resultType` is outside the core set ("task") passes
the SDK's result sieve untouched; the others are `resultType: "complete"`.

What SEP-2663 keeps apart and these models keep apart: a `CreateTaskResult` is flat (the task's
fields at the top, no `task` wrapper, no `result`/`error`/`inputRequests`), durations are integer
milliseconds named `ttlMs` / `pollIntervalMs`, and no task shape carries `requestState` (that is
the input-round surface, `hub.mcp.input_rounds`). tasks/result and tasks/list are gone in v2: a
finished task's result is inlined on tasks/get, and there is no listing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from mcp import types
from pydantic import BaseModel, ConfigDict, Field

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
TaskStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class TaskRequestParams(types.RequestParams):
    """Params of tasks/get and tasks/cancel."""

    task_id: str = Field(alias="taskId", min_length=1)


class TaskUpdateParams(TaskRequestParams):
    """Params of tasks/update: answers to some or all of the task's `inputRequests`, by key."""

    input_responses: dict[str, Any] = Field(alias="inputResponses")


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class Task(_Wire):
    """The fields every task shape carries."""

    task_id: str = Field(alias="taskId")
    status: TaskStatus
    status_message: str | None = Field(default=None, alias="statusMessage")
    created_at: str = Field(alias="createdAt")
    last_updated_at: str = Field(alias="lastUpdatedAt")
    ttl_ms: int = Field(alias="ttlMs", gt=0)
    poll_interval_ms: int = Field(alias="pollIntervalMs", gt=0)


class CreateTaskResult(Task):
    """tools/call's answer when it made a task."""

    result_type: Literal["task"] = Field(default="task", alias="resultType")


class DetailedTask(Task):
    """tasks/get's answer: the task, with the tool result once completed, the JSON-RPC error once
    failed, and the pending questions while input_required."""

    result_type: Literal["complete"] = Field(default="complete", alias="resultType")
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_requests: dict[str, Any] | None = Field(default=None, alias="inputRequests")


def iso(timestamp: float) -> str:
    """A unix time as the ISO-8601 UTC string the wire wants."""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat().replace("+00:00", "Z")


def wire(model: BaseModel) -> dict[str, Any]:
    """A model as the JSON the client gets (aliases, absent fields left out)."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def declares_tasks(capabilities: types.ClientCapabilities | None) -> bool:
    """Whether a request's client capabilities name the tasks extension."""
    return capabilities is not None and TASKS_EXTENSION in (capabilities.extensions or {})
