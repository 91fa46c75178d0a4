"""What a framework hands back to the agent kind, and how the kind turns it into the envelope.

Every framework module returns an `Outcome` or raises: `hub.contract.envelope.Failure` for a problem with a
code (configuration, dependency, agent errors), or `AgentFailed` when the failure belongs to a run
with its own id and duration (a noetl child). The kind then builds the one envelope (DESIGN.md, "The
agent envelope") for every framework the same way, so callers never learn which runtime answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.contract.envelope import Envelope, ErrorInfo
from hub.contract.errors import ErrorCode

AGENT_KIND = "agent"
"""The envelope's `framework` when the block names none the hub knows (the tool kind, as for other
non-agent steps)."""

ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode.UNKNOWN_FRAMEWORK,
    ErrorCode.INVALID_ENTRYPOINT,
    ErrorCode.INVALID_ENTRYPOINT_MODE,
    ErrorCode.INVALID_ENTRYPOINT_ARGS,
    ErrorCode.INVALID_INVOKE_KWARGS,
    ErrorCode.INVALID_INVOKE_METHOD,
    ErrorCode.AGENT_OPTION_INVALID,
    ErrorCode.PAYLOAD_MISMATCH,
    ErrorCode.INVALID_RUNTIME,
    ErrorCode.ENTRYPOINT_NOT_FOUND,
    ErrorCode.FRAMEWORK_NOT_INSTALLED,
    ErrorCode.MODULE_DEPENDENCY_MISSING,
    ErrorCode.AGENT_FACTORY_ERROR,
    ErrorCode.AGENT_ERROR,
    ErrorCode.PLAYBOOK_FAILED,
    ErrorCode.INTERNAL_ERROR,
    ErrorCode.AGENT_TIMEOUT,
    ErrorCode.DEADLINE_EXCEEDED,
    ErrorCode.CANCELLED,
)
"""Every code an agent step can answer with (docs/agents.md lists them, checked by a test)."""


@dataclass(frozen=True)
class Outcome:
    """A framework's answer: JSON-able data, and the id and duration of the run that produced it
    when that run is not the step's own execution (a noetl child)."""

    data: Any = None
    execution_id: str | None = None
    duration: float | None = None


class AgentFailed(Exception):
    """A failure that belongs to a run with its own id and duration (a noetl child)."""

    def __init__(self, error: ErrorInfo, *, execution_id: str | None = None, duration: float | None = None) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error
        self.execution_id = execution_id
        self.duration = duration


@dataclass(frozen=True)
class EnvelopeFacts:
    """The envelope fields the kind knows before the framework runs."""

    framework: str
    entrypoint: str | None
    execution_id: str

    def ok(self, outcome: Outcome, duration: float) -> Envelope:
        return Envelope(
            status="ok",
            framework=self.framework,
            entrypoint=self.entrypoint,
            data=outcome.data,
            execution_id=outcome.execution_id or self.execution_id,
            duration=round(outcome.duration if outcome.duration is not None else duration, 6),
        )

    def failed(
        self,
        error: ErrorInfo,
        duration: float,
        *,
        execution_id: str | None = None,
        run_duration: float | None = None,
    ) -> Envelope:
        """The error envelope; `error.details` also carries framework, entrypoint and duration so
        the execution's own error (which keeps only `error`) still says where it came from."""
        took = round(run_duration if run_duration is not None else duration, 6)
        details = {
            "framework": self.framework, "entrypoint": self.entrypoint, "duration": took, **(error.details or {})
        }
        return Envelope(
            status="error",
            framework=self.framework,
            entrypoint=self.entrypoint,
            data=None,
            execution_id=execution_id or self.execution_id,
            duration=took,
            error=error.model_copy(update={"details": {k: v for k, v in details.items() if v is not None}}),
        )
