"""`framework: noetl` (alias `playbook`): a catalog playbook run as an agent, as a sub-execution.

The child runs through the engine's dispatcher (`RunContext.dispatcher.run_playbook`), the same
path as `tool.kind: playbook`, so everything the engine guarantees for sub-runs holds: the child is
its own execution with the parent's id as `parent_id`; it gets only the step's `payload` (with
`invoke_kwargs` merged over it) as its arguments, validated against its input schema, and nothing
of the parent's context (NoETL copied the whole parent context into the child); the version pin
(`version:`, or `path@N`) picks the catalog version; the parent's deadline bounds the child, and
each nesting level counts towards the depth limit (a cycle ends with DEPTH_LIMIT_EXCEEDED at the
limit). The wait is asynchronous: nothing blocks the event loop.

The envelope's `execution_id` and `duration` are the child's (its whole run, not its dispatch).
A failed child is PLAYBOOK_FAILED with `details.child_execution_id` and `details.child_code`,
retryable when the child's error was; a child stopped by the shared deadline keeps
DEADLINE_EXCEEDED, a cancelled one CANCELLED (the same rule as the playbook kind). When the step's
own `timeout` is tighter than the parent's deadline it becomes the child's deadline, and a child
stopped by it is AGENT_TIMEOUT.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from bridges.agent.config import AgentConfig
from bridges.agent.outcome import AgentFailed, Outcome
from hub.contract.envelope import Envelope, ErrorInfo, Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import RunContext, StepCall

_SHARED = (ErrorCode.DEADLINE_EXCEEDED.name, ErrorCode.CANCELLED.name)


async def run_noetl(config: AgentConfig, call: StepCall) -> Outcome:
    arguments = child_arguments(config)
    parent, own_deadline = _bounded(call.context, config.timeout)
    child = await call.context.dispatcher.run_playbook(
        config.entrypoint, arguments, parent=parent, version=config.version
    )
    if child.ok:
        return Outcome(child.data, execution_id=child.execution_id, duration=child.duration)
    raise AgentFailed(_child_error(child, own_deadline), execution_id=child.execution_id, duration=child.duration)


def child_arguments(config: AgentConfig) -> dict[str, Any]:
    """The child's arguments: the payload (a mapping, or nothing) with invoke_kwargs over it."""
    payload = config.payload
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise Failure.of(
            ErrorCode.PAYLOAD_MISMATCH,
            f"framework noetl passes the payload as the playbook's arguments, so it must be a mapping, "
            f"not a {type(payload).__name__}",
        )
    return {**payload, **config.invoke_kwargs}


def _bounded(context: RunContext, timeout: float | None) -> tuple[RunContext, bool]:
    """The context to run the child under: the step's timeout as its deadline when tighter than
    the parent's. Also whether that timeout is the deadline that binds."""
    if timeout is None:
        return context, False
    own = time.monotonic() + timeout
    if context.deadline is not None and context.deadline <= own:
        return context, False
    return dataclasses.replace(context, deadline=own), True


def _child_error(child: Envelope, own_deadline: bool) -> ErrorInfo:
    """The child's failure as this step's error; the child's diagnosis (if any) rides along."""
    assert child.error is not None
    return _child_code(child, own_deadline).model_copy(update={"diagnosis": child.error.diagnosis})


def _child_code(child: Envelope, own_deadline: bool) -> ErrorInfo:
    assert child.error is not None
    details = {"child_execution_id": child.execution_id, "child_code": child.error.code}
    message = f"playbook {child.entrypoint} ({child.execution_id}) failed: {child.error.code}: {child.error.message}"
    if child.error.code == ErrorCode.DEADLINE_EXCEEDED.name and own_deadline:
        return ErrorInfo.of(
            ErrorCode.AGENT_TIMEOUT,
            f"playbook {child.entrypoint} ({child.execution_id}) did not finish within the step's timeout",
            details=details,
        )
    if child.error.code in _SHARED:
        return ErrorInfo.of(ErrorCode[child.error.code], message, details=details)
    return ErrorInfo.of(ErrorCode.PLAYBOOK_FAILED, message, retryable=child.error.retryable, details=details)
