"""The tiers a cascade can ask: the rule tier and the model tiers, behind one `Tier` protocol.

A tier takes the signal and a deadline and gives a `TierAnswer` (an answer or none, and its
`TierRun` record); it never raises (a provider that does anyway is caught here and recorded as
`error`). The models see the same redacted signal and an identical prompt, and they are NOT shown
the rule verdict or each other's answers: agreement between tiers only means something if each
judged on its own (NoETL fed the first pass to the second, which then mostly agreed with it).
"""

from __future__ import annotations

import time
from typing import Protocol

from pydantic import BaseModel, ValidationError

from bridges.llm.base import LlmProvider, Outcome, short
from troubleshoot.categories import Category
from troubleshoot.diagnosis import ModelAnswer, TierName, TierRun, answer_schema
from troubleshoot.rules import classify
from troubleshoot.signal import FailureSignal

SYSTEM_PROMPT = """You diagnose failed runs of an automation hub that executes YAML playbooks \
(steps that call HTTP APIs, Python code, agent frameworks and other playbooks).
You get one failure signal as JSON: the failed step and its tool kind, the error kind, code and \
message, the HTTP status, the exception type, the tail of the traceback and the last events.
Answer with one JSON object:
- category: exactly one of the categories below;
- confidence: the probability (0 to 1) that your category is right;
- root_cause: one concrete sentence naming the step and what failed;
- suggested_action: one sentence the operator can act on.
Categories:
{categories}
Judge only from the signal. Do not invent hosts, codes or values. Secrets are masked as ***; never \
guess them. If the evidence is thin, answer unknown with a confidence below 0.5."""


def system_prompt() -> str:
    return SYSTEM_PROMPT.format(categories=Category.describe())


def user_prompt(signal: FailureSignal) -> str:
    return "Failure signal:\n" + signal.prompt_json()


class TierAnswer(BaseModel):
    """A tier's answer (None when it gave none) with its record."""

    answer: ModelAnswer | None
    run: TierRun


class Tier(Protocol):
    name: TierName
    judge: tuple[str, str, str] | None
    """Who answers (provider, base URL, model) for a model tier; None for the rule tier."""

    async def ask(self, signal: FailureSignal, *, timeout: float) -> TierAnswer: ...


class RuleTier:
    """The deterministic tier, as a `Tier`. Its "no rule matched" is an answer of `unknown`."""

    name: TierName = "rules"
    judge = None

    async def ask(self, signal: FailureSignal, *, timeout: float = 0.0) -> TierAnswer:
        started = time.perf_counter()
        verdict = classify(signal)
        answer = ModelAnswer(
            category=verdict.category, confidence=verdict.confidence,
            root_cause=verdict.root_cause, suggested_action=verdict.suggested_action,
        )
        run = TierRun(
            tier="rules", outcome=Outcome.OK, latency=round(time.perf_counter() - started, 6),
            category=verdict.category, confidence=verdict.confidence, rule=verdict.rule,
        )
        return TierAnswer(answer=answer, run=run)


class ModelTier:
    """A model tier: one provider, the shared prompt and schema, and the answer check."""

    def __init__(self, name: TierName, provider: LlmProvider, judge: tuple[str, str, str] | None = None) -> None:
        self.name = name
        self.provider = provider
        self.judge = judge

    async def ask(self, signal: FailureSignal, *, timeout: float) -> TierAnswer:
        started = time.monotonic()
        try:
            result = await self.provider.complete(system_prompt(), user_prompt(signal), answer_schema(), timeout=timeout)
        except Exception as exc:  # the contract says never; a broken provider still must not break us
            run = TierRun(tier=self.name, outcome=Outcome.ERROR, latency=round(time.monotonic() - started, 4),
                          model=getattr(self.provider, "model", None), detail=short(exc))
            return TierAnswer(answer=None, run=run)
        run = TierRun(
            tier=self.name, outcome=result.outcome, latency=result.latency, tokens_in=result.tokens_in,
            tokens_out=result.tokens_out, model=result.model, detail=result.detail, mode=result.mode,
        )
        if result.answer is None:
            return TierAnswer(answer=None, run=run)
        try:
            answer = ModelAnswer.model_validate(result.answer)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "(root)"
            run = run.model_copy(update={"outcome": Outcome.OFF_SCHEMA, "detail": f"{where}: {problem['msg']}"[:300]})
            return TierAnswer(answer=None, run=run)
        run = run.model_copy(update={"category": answer.category, "confidence": answer.confidence})
        return TierAnswer(answer=answer, run=run)

    async def aclose(self) -> None:
        await self.provider.aclose()
