"""The shapes a diagnosis is made of: a model's answer, one tier's record, the final diagnosis.

`Diagnosis` is what rides in `error.diagnosis` and in the `diagnosis.finished` event:
`{category, confidence, root_cause, suggested_action, source, escalated, tiers}`. `confidence`
is the cascade's pooled figure (see `troubleshoot.cascade`), not any one model's self-report;
`tiers` says which tiers ran, how long they took, what they cost and how each ended.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from troubleshoot.categories import Category

TierName = Literal["rules", "ollama", "openai", "child"]
MAX_TEXT = 600
ANSWER_TEXT_LIMIT = 400
"""Characters a model may spend on `root_cause` or `suggested_action` (one sentence each)."""


def _trim(value: str) -> str:
    value = " ".join(value.split())
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 3] + "..."


class ModelAnswer(BaseModel):
    """What a model must answer. Out-of-range confidence or an unknown category is off-schema
    (no answer), never clamped or guessed into shape: a broken answer must not pass as a diagnosis."""

    model_config = ConfigDict(extra="forbid")

    category: Category
    confidence: float = Field(ge=0, le=1)
    root_cause: str = Field(min_length=1)
    suggested_action: str = Field(min_length=1)

    @field_validator("root_cause", "suggested_action")
    @classmethod
    def _short(cls, value: str) -> str:
        return _trim(value)


def answer_schema() -> dict[str, Any]:
    """The JSON Schema sent to the models (Ollama `format`, OpenAI strict `json_schema`).

    Written by hand rather than from `ModelAnswer`: OpenAI's strict mode wants every property
    required and `additionalProperties: false`, and Ollama's grammar wants the category as a
    plain string enum. The bounds are there for servers that compile the schema into a grammar
    (llama.cpp, Ollama): a bounded string cannot ramble until the output cap cuts the object in
    half. OpenAI's strict mode refuses them, so its provider sends the schema without them
    (`strict_subset`); every answer is checked against the schema (a string over `maxLength` is
    trimmed by `ModelAnswer`, not refused) and `ModelAnswer`."""
    return {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": Category.values(), "description": "The failure's category."},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1,
                           "description": "Probability, 0 to 1, that the category is right."},
            "root_cause": {"type": "string", "minLength": 1, "maxLength": ANSWER_TEXT_LIMIT,
                           "description": "One concrete sentence: what failed, where and why."},
            "suggested_action": {"type": "string", "minLength": 1, "maxLength": ANSWER_TEXT_LIMIT,
                                 "description": "One sentence the operator can act on."},
        },
        "required": ["category", "confidence", "root_cause", "suggested_action"],
        "additionalProperties": False,
    }


class TierRun(BaseModel):
    """One tier's part in a diagnosis: what it answered (if anything) and what it cost."""

    tier: TierName
    outcome: str = Field(description="ok | malformed | off_schema | unreachable | timeout | http_error | "
                                     "refused | no_credentials | error | skipped_budget | reused")
    latency: float = 0.0
    tokens_in: int | None = None
    tokens_out: int | None = None
    model: str | None = None
    category: Category | None = None
    confidence: float | None = Field(default=None, description="The tier's own figure (a model's self-report).")
    trust: float | None = Field(default=None, description="The confidence the cascade weighed: calibrated, or the "
                                                          "conservative default for an uncalibrated model.")
    calibrated: bool | None = Field(default=None, description="Whether a calibration profile gave `trust`.")
    mode: str | None = Field(default=None, description="Structured-output mode the model was asked in.")
    rule: str | None = Field(default=None, description="The rule that matched (rule tier).")
    detail: str | None = None


class Diagnosis(BaseModel):
    """The troubleshoot agent's answer for one failed execution."""

    category: Category
    confidence: float = Field(ge=0, le=1, description="Pooled over the tiers that answered (cascade formula).")
    root_cause: str
    suggested_action: str
    source: TierName = Field(description="The tier whose answer was kept.")
    escalated: bool = Field(description="Whether a request reached the escalation tier.")
    tiers: list[TierRun] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class ExecutionDiagnosis(Diagnosis):
    """A diagnosis with the execution it is about: what the CLI's `--json`, the hub MCP tool and
    the REST endpoint answer with."""

    execution_id: str


def render_diagnosis(diagnosis: Diagnosis, *, execution_id: str | None = None, playbook: str | None = None) -> str:
    """A few lines for a terminal (the CLI) or an MCP text block."""
    head = " ".join(x for x in ("diagnosis of", execution_id, f"({playbook})" if playbook else None) if x)
    lines = [
        head,
        f"category          {diagnosis.category.value}  (confidence {diagnosis.confidence:.2f}, "
        f"kept from {diagnosis.source}, escalated: {'yes' if diagnosis.escalated else 'no'})",
        f"root cause        {diagnosis.root_cause}",
        f"suggested action  {diagnosis.suggested_action}",
        "tiers:",
    ]
    for run in diagnosis.tiers:
        facts = [run.outcome, f"{run.latency:.3f}s"]
        if run.model:
            facts.append(run.model)
        if run.tokens_in is not None or run.tokens_out is not None:
            facts.append(f"tokens {run.tokens_in or 0}/{run.tokens_out or 0}")
        if run.category is not None:
            facts.append(f"said {run.category.value} at {run.confidence:.2f}" + (f" ({run.rule})" if run.rule else ""))
        if run.trust is not None and run.tier != "rules":
            facts.append(f"trusted at {run.trust:.2f} ({'calibrated' if run.calibrated else 'uncalibrated'})")
        if run.detail:
            facts.append(run.detail)
        lines.append(f"  {run.tier:<7} " + ", ".join(facts))
    return "\n".join(lines)
