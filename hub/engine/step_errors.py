"""A step's errors as the engine records and reports them: the brief form events carry, a kind
that raised instead of failing, and a failed sub-run as the parent step's error."""

from __future__ import annotations

from typing import Any

from hub.contract.envelope import Envelope, ErrorInfo
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepKind


def brief(error: ErrorInfo) -> dict[str, Any]:
    return error.model_dump(mode="json", exclude_none=True, exclude={"step", "diagnosis"})


def unexpected(kind: StepKind, exc: BaseException) -> ErrorInfo:
    return ErrorInfo.of(ErrorCode.INTERNAL_ERROR, f"step kind {kind.name!r} raised {type(exc).__name__}: {exc}")


def child_error(child: Envelope) -> ErrorInfo:
    """A failed sub-run as the parent step's error. A shared deadline or a cancel keeps its code."""
    assert child.error is not None
    details = {"child_execution_id": child.execution_id, "child_code": child.error.code}
    message = f"sub-run {child.entrypoint} ({child.execution_id}) failed: {child.error.code}: {child.error.message}"
    if child.error.code in (ErrorCode.DEADLINE_EXCEEDED.name, ErrorCode.CANCELLED.name):
        return ErrorInfo.of(ErrorCode[child.error.code], message, details=details)
    return ErrorInfo.of(ErrorCode.PLAYBOOK_FAILED, message, retryable=child.error.retryable, details=details)
