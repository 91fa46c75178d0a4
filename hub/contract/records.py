"""Execution and event records: what the event store keeps and every reader shows.

A contract module. An execution is one run of one playbook version; its events are append-only
and numbered per execution (`seq` from 1), so a reader can follow a run by asking for events
after the last `seq` it saw.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, Field


class ExecutionStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def finished(self) -> bool:
        return self not in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)


class EventType(str, Enum):
    EXECUTION_STARTED = "execution.started"
    EXECUTION_FINISHED = "execution.finished"
    STEP_STARTED = "step.started"
    STEP_FINISHED = "step.finished"
    STEP_FAILED = "step.failed"
    STEP_RETRIED = "step.retried"
    CANCEL_REQUESTED = "execution.cancel_requested"
    STEP_PROGRESS = "step.progress"
    DIAGNOSIS_FINISHED = "diagnosis.finished"
    EXECUTION_DELIVERED = "execution.delivered"
    """A cluster worker took the run from the queue (data: delivery number, worker)."""


class ExecutionRecord(BaseModel):
    """One execution as stored. Times are Unix seconds (float)."""

    id: str
    parent_id: str | None = None
    playbook_path: str
    playbook_version: int | None = None
    playbook_name: str | None = None
    status: ExecutionStatus = ExecutionStatus.PENDING
    arguments: dict[str, Any] = Field(default_factory=dict, description="Redacted.")
    depth: int = 0
    owner: str | None = Field(default=None, description="host:pid:start-time of the running process.")
    created_at: float
    finished_at: float | None = None
    envelope: dict[str, Any] | None = Field(default=None, description="The final envelope (redacted).")
    cancel_requested: bool = False
    started_by: str | None = Field(
        default=None, description="Subject of the bearer token that started it (auth on); sub-runs inherit it."
    )
    required_scopes: list[str] | None = Field(
        default=None,
        description="Scopes a token needs to read or touch it, fixed when it started (see hub.contract.access); "
        "None when unknown (an unknown playbook, or a row older than store schema 3).",
    )


class EventRecord(BaseModel):
    """One event of an execution. `seq` is given by the store on append (1, 2, ...)."""

    execution_id: str
    type: str
    at: float
    step: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    seq: int = 0
