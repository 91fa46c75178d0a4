"""The agent envelope: the one shape every run, step and tools/call answers with.

A contract module (imports nothing else of `hub/` but `hub.contract.errors`). See DESIGN.md, "The agent
envelope". `Failure` is the exception inner code raises to say "this step failed with this code";
the engine's boundaries turn it (and any other exception) into an error envelope, so no exception
ever reaches a caller.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.contract.errors import ErrorCode, ErrorKind, http_status_code


class StepRef(BaseModel):
    """The step an error happened in, and its tool kind."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str


class ErrorInfo(BaseModel):
    """`error` of an envelope: what failed, in a form a program can branch on."""

    model_config = ConfigDict(extra="forbid")

    kind: ErrorKind
    code: str = Field(description="Symbolic UPPER_SNAKE code, documented in docs/errors.md.")
    message: str
    retryable: bool = False
    step: StepRef | None = None
    details: dict[str, Any] | None = Field(
        default=None,
        description="Structured facts about the failure (HTTP status, validation path, child id).",
    )
    diagnosis: dict[str, Any] | None = Field(
        default=None, description="Added by the troubleshoot agent; never replaces code or message."
    )

    @classmethod
    def of(
        cls,
        code: ErrorCode,
        message: str,
        *,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
        step: StepRef | None = None,
    ) -> ErrorInfo:
        return cls(
            kind=code.kind,
            code=code.name,
            message=message,
            retryable=code.retryable if retryable is None else retryable,
            details=details,
            step=step,
        )

    @classmethod
    def http_status(cls, status: int, message: str, details: dict[str, Any] | None = None) -> ErrorInfo:
        code, retryable = http_status_code(status)
        return cls(
            kind=ErrorCode.HTTP_STATUS.kind,
            code=code,
            message=message,
            retryable=retryable,
            details={"http_status": status, **(details or {})},
        )


class Envelope(BaseModel):
    """The uniform answer of every run and step (DESIGN.md, "The agent envelope")."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "error", "running"] = Field(
        description='"running" only when a caller stopped waiting before the run ended (it goes on).'
    )
    framework: str = Field(description='"noetl" for a playbook run; the tool kind for a step.')
    entrypoint: str | None = Field(default=None, description="Catalog path or `pkg.module:attr`.")
    data: Any = None
    execution_id: str
    duration: float = Field(description="Seconds, measured around the whole run.")
    error: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def for_client(self) -> Envelope:
        """The envelope as it leaves the hub for a client (MCP, REST): every `traceback` in the
        error's details becomes a one-line `exception` summary ("ValueError: boom"), so clients never
        see server paths and source lines. The full traceback stays in the store and the server log,
        where the troubleshoot agent reads it."""
        if self.error is None or not self.error.details:
            return self
        details = without_tracebacks(self.error.details)
        return self.model_copy(update={"error": self.error.model_copy(update={"details": details})})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; `error` is left out on success, optional error fields when unset."""
        out = self.model_dump(mode="json", exclude={"error"})
        if self.error is not None:
            out["error"] = self.error.model_dump(mode="json", exclude_none=True)
        return out


_SUMMARY_LIMIT = 300


def without_tracebacks(value: Any) -> Any:
    """A copy of `value` with each `traceback` key (at any depth) replaced by `exception`, the
    traceback's last line. E.g. {"traceback": ["  File ...", "ValueError: boom"]} ->
    {"exception": "ValueError: boom"}."""
    if isinstance(value, list):
        return [without_tracebacks(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {key: without_tracebacks(item) for key, item in value.items() if key != "traceback"}
    if "traceback" in value and "exception" not in out:
        lines = value["traceback"]
        lines = lines.splitlines() if isinstance(lines, str) else [str(line) for line in lines or []]
        last = next((line.strip() for line in reversed(lines) if line.strip()), "")
        if last:
            out["exception"] = last[:_SUMMARY_LIMIT]
    return out


class Failure(Exception):
    """Raised inside the engine and step kinds to end a step with a given error."""

    def __init__(self, error: ErrorInfo, data: Any = None) -> None:
        super().__init__(f"{error.code}: {error.message}")
        self.error = error
        self.data = data

    @classmethod
    def of(cls, code: ErrorCode, message: str, **kwargs: Any) -> Failure:
        return cls(ErrorInfo.of(code, message, **kwargs))
