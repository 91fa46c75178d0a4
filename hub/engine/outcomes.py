"""How an execution's outcome is written down: its final status from an error, the brief error an
event keeps, what a failure hook may add to an envelope, and the arguments a record may keep
(redacted, or a note when they cannot be stored). Pure functions the engine's paths share."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from catalog.entries import CatalogEntry
from catalog.schema import secret_names
from hub.contract.envelope import Envelope, ErrorInfo
from hub.contract.plain_data import MAX_ARGUMENT_DEPTH, encoding_problem
from hub.contract.records import ExecutionStatus
from hub.contract.secrets import Redactor


@dataclass
class RunHandle:
    """A started execution: its id, the task that ends with its envelope, and the write of its
    record (None: already durable)."""

    execution_id: str
    task: asyncio.Future[Envelope]
    created: asyncio.Future[None] | None = None

    async def durable(self) -> None:
        """Wait until the execution's record is committed (before telling anyone its id)."""
        if self.created is not None:
            await asyncio.shield(self.created)

def status_for(error: ErrorInfo) -> ExecutionStatus:
    if error.kind == "agent.cancelled":
        return ExecutionStatus.CANCELLED
    if error.kind == "agent.timeout":
        return ExecutionStatus.TIMED_OUT
    return ExecutionStatus.FAILED


def augments(before: Envelope, after: object) -> bool:
    """A hook may add to the error (a diagnosis), never replace it: same status, code and message."""
    return (
        isinstance(after, Envelope) and after.error is not None and before.error is not None
        and after.status == before.status and after.execution_id == before.execution_id
        and after.error.code == before.error.code and after.error.message == before.error.message
    )


def brief(error: ErrorInfo) -> dict[str, Any]:
    return error.model_dump(mode="json", exclude_none=True, exclude={"diagnosis"})


def json_path(parts: Any) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def recordable(arguments: dict[str, Any], entry: CatalogEntry | None, redactor: Redactor) -> dict[str, Any]:
    """Refused arguments as the record keeps them: redacted, or a note when they cannot be stored."""
    problem = encoding_problem(arguments, MAX_ARGUMENT_DEPTH)
    if problem is not None:
        return {"unrecorded": problem.replace("value", "input", 1)}
    return redactor.with_secrets([] if entry is None else secret_values(entry, arguments))(arguments)


def secret_values(entry: CatalogEntry, args: dict[str, Any]) -> list[str]:
    return [str(args[name]) for name in secret_names(entry.playbook) if args.get(name) is not None]
