"""The parts of a step the engine reads for every tool kind: the `tool:` block itself (`kind` plus
the kind's own fields), its policy rules, NoETL-style `retry`, `output` selection, the step's
admission rules (`spec.policy.admit`), and the hub's own retry policy."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _else_rule(value: Any) -> Any:
    """`else: {then: {...}}` or `else: {do: ...}`: a rule that always matches."""
    if isinstance(value, dict) and set(value) == {"else"} and isinstance(value["else"], dict):
        body = value["else"]
        return body if "then" in body else {"then": body}
    return value


class PolicyThen(Strict):
    """What a policy rule does: `retry` the tool, `fail` the step, `continue` with the outcome as
    the step's output, or `jump` to another step; `set` writes ctx/vars first."""

    do: Literal["retry", "fail", "continue", "jump", "break"] = "continue"
    to: str | None = Field(default=None, description="The step a `jump` goes to.")
    attempts: int = Field(default=3, ge=1, le=100)
    backoff: Literal["fixed", "linear", "exponential"] | float = "exponential"
    delay: float = Field(default=0.5, ge=0, description="Seconds before the first retry.")
    set: dict[str, Any] | None = None


class PolicyRule(Strict):
    """`when` a condition on `output` (the outcome: status, data, error, http.status) holds, `then`;
    a rule written `else: {then: ...}` (or with no `when`) always matches."""

    when: str | bool | None = None
    then: PolicyThen

    @model_validator(mode="before")
    @classmethod
    def _else_form(cls, value: Any) -> Any:
        return _else_rule(value)


class ToolPolicy(BaseModel):
    model_config = ConfigDict(extra="allow")

    rules: list[PolicyRule] = Field(default_factory=list)


class ToolPolicySpec(BaseModel):
    """`tool.spec:` — `policy.rules` decide what a tool's outcome means; other keys are kept."""

    model_config = ConfigDict(extra="allow")

    policy: ToolPolicy | None = None


class OutputSelect(BaseModel):
    """`output:` of a step or tool: `select` (or NoETL's `output_select`) keeps only those keys of
    a mapping output; storage hints (`store`, `inline_max_bytes`) are kept, the hub's own store
    holds every output."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    select: list[str] | None = Field(default=None, alias="output_select")

    @model_validator(mode="before")
    @classmethod
    def _select_alias(cls, value: Any) -> Any:
        if isinstance(value, dict) and "select" in value and "output_select" not in value:
            value = {**value, "output_select": value["select"]}
            del value["select"]
        return value


class RetryPolicy(Strict):
    attempts: int = Field(default=3, ge=1, le=100, description="Total attempts, the first included.")
    backoff: float = Field(default=0.5, ge=0, description="Delay before the second attempt, seconds.")
    multiplier: float = Field(default=2.0, ge=1)
    max_delay: float = Field(default=30.0, ge=0)
    jitter: float = Field(default=0.5, ge=0, le=1, description="Random +/- fraction of each delay.")
    on: list[str] = Field(
        default_factory=lambda: ["retryable"],
        description="Error codes, kinds, or 'retryable' (any error marked retryable).",
    )


class ToolRetry(BaseModel):
    """`tool.retry` as NoETL writes it, for every kind: `max_attempts`, `retry_on_status` (HTTP
    statuses), `retry_on` (error codes, kinds, or `timeout` / `connection_error`),
    `backoff_seconds` (or `backoff`). Read into the hub's `RetryPolicy` by `policy()`."""

    model_config = ConfigDict(extra="allow")

    max_attempts: int = Field(default=3, ge=1, le=100)
    retry_on_status: list[int] | None = None
    retry_on: list[str] | None = None
    backoff_seconds: float | None = Field(default=None, ge=0)
    backoff: float | str | None = None

    def policy(self) -> RetryPolicy:
        on: list[str] = []
        for status in self.retry_on_status or []:
            on.append(f"HTTP_STATUS_{status}")
        aliases = {"timeout": ["HTTP_TIMEOUT", "STEP_TIMEOUT"], "connection_error": ["HTTP_CONNECTION_ERROR"]}
        for name in self.retry_on or []:
            on.extend(aliases.get(name, [name]))
        delay = self.backoff_seconds if self.backoff_seconds is not None else (
            float(self.backoff) if isinstance(self.backoff, (int, float)) else 0.5)
        return RetryPolicy(attempts=self.max_attempts, backoff=delay, on=on or ["retryable"])


class ToolSpec(BaseModel):
    """`tool:` of a step: a `kind` and that kind's own fields (checked by the kind's model), plus
    `spec.policy.rules` and `output` selection, which the engine reads for every kind."""

    model_config = ConfigDict(extra="allow")

    kind: str
    spec: ToolPolicySpec | None = None
    output: OutputSelect | None = None
    retry: ToolRetry | None = None
    set: dict[str, Any] | None = Field(default=None, description="Written after the tool ran (`output` is its result).")

    @property
    def config(self) -> dict[str, Any]:
        """The kind-specific fields, without `kind`."""
        return dict(self.model_extra or {})

    @property
    def rules(self) -> list[PolicyRule]:
        return self.spec.policy.rules if self.spec and self.spec.policy else []


PipelineTask = dict[str, ToolSpec]
"""One task of a tool pipeline: `{label: {kind: ..., ...}}`."""


class AdmitRule(Strict):
    when: str | bool | None = None
    then: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _else_form(cls, value: Any) -> Any:
        return _else_rule(value)

    @property
    def allows(self) -> bool:
        return bool(self.then.get("allow", True))


class Admit(Strict):
    mode: Literal["exclusive"] = Field(default="exclusive", description="The first matching rule decides.")
    rules: list[AdmitRule] = Field(default_factory=list)


class StepPolicy(BaseModel):
    model_config = ConfigDict(extra="allow")

    admit: Admit | None = Field(
        default=None, description="`admit.rules`: the first matching rule's `then.allow` decides if the step runs."
    )


class StepSpec(BaseModel):
    """`spec:` of a step: `policy.admit` gates the step; other keys (scheduling hints) are kept."""

    model_config = ConfigDict(extra="allow")

    policy: StepPolicy | None = None

    @property
    def admit_rules(self) -> list[AdmitRule]:
        admit = self.policy.admit if self.policy else None
        return list(admit.rules) if admit else []


