"""The evaluation harness: scores the tiers and the cascade on a labelled corpus of failures.

Each tier is asked about every case once (the rule tier in-process; the model tiers on the servers
the settings name: provider, base URL, model — `troubleshoot.providers`). The cascade is then
replayed from those answers with the real policy (`troubleshoot.cascade.run_cascade`), weighed by
the calibration profiles found (or, with `calibrated=False`, as if none existed), so its figures
are exactly what the cascade would have decided, without asking any model twice. A tier whose
first call finds no server (unreachable, no credentials) is reported as skipped, with why, and is
not asked again. The escalation tier, when it is the local tier's model on the same server, is
one judge: its answers are the local tier's and the cascade never asks it (`reused`).

Figures:
- accuracy: right answers over all cases (no answer counts as wrong), per tier and cascade;
- answered: the share of cases a tier gave a valid answer for;
- escalation_rate: the share of cases where a request reached the escalation tier;
- ece: expected calibration error over 10 equal-width confidence bins,
  sum_b (n_b / N) * |accuracy_b - mean_confidence_b| (0 is perfectly calibrated); for a tier on
  its own stated confidence (and, when a profile exists, on its calibrated one), for the cascade
  on its pooled confidence;
- brier: mean of (confidence - right)^2 over the answers (top-label Brier score; 0 is best);
- latency p50/p95 (seconds; for the cascade, the sum of the tiers a diagnosis asked) and tokens
  per diagnosis (in and out).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from bridges.llm.base import Outcome
from troubleshoot.calibration import CalibrationProfile, Profiles, build_profile, write_profile
from troubleshoot.cascade import run_cascade
from troubleshoot.categories import Category
from troubleshoot.corpus import DEFAULT_CORPUS, Case, load_corpus
from troubleshoot.diagnosis import Diagnosis, TierName
from troubleshoot.providers import ProviderFactory, Providers, ProviderSpec, escalation_spec, local_spec
from troubleshoot.settings import TroubleshootSettings
from troubleshoot.signal import FailureSignal
from troubleshoot.tiers import ModelTier, RuleTier, Tier, TierAnswer

__all__ = ["DEFAULT_CORPUS", "Case", "load_corpus", "evaluate", "calibrate", "render_table", "TIERS", "tier_names"]


def render_table(report: EvalReport) -> str:
    """The report for a terminal (`troubleshoot.eval_table`)."""
    from troubleshoot.eval_table import render_table as render

    return render(report)

TIERS: tuple[TierName, ...] = ("rules", "ollama", "openai")
ALIASES = {"local": "ollama", "escalation": "openai"}
_ABSENT = {Outcome.UNREACHABLE, Outcome.NO_CREDENTIALS}
BINS = 10


def tier_names(text: str) -> list[TierName]:
    """`--tiers` as tier names: rules, local (or ollama), escalation (or openai); rules always."""
    names = [ALIASES.get(t.strip(), t.strip()) for t in text.split(",") if t.strip()]
    unknown = [n for n in names if n not in TIERS]
    if unknown:
        raise ValueError(f"--tiers takes rules, local, escalation (got {', '.join(unknown)})")
    return ["rules", *[n for n in TIERS[1:] if n in names]]  # type: ignore[list-item]


class TierScore(BaseModel):
    status: Literal["ok", "skipped"] = "ok"
    reason: str | None = None
    model: str | None = None
    server: str | None = Field(default=None, description="provider model @ base URL (model tiers).")
    accuracy: float | None = None
    answered: float | None = None
    ece: float | None = None
    brier: float | None = None
    calibrated: bool | None = Field(default=None, description="Whether a calibration profile was applied.")
    calibrated_ece: float | None = None
    calibrated_brier: float | None = None
    mean_latency: float | None = None
    p50_latency: float | None = None
    p95_latency: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_per_diagnosis: float | None = None
    outcomes: dict[str, int] = Field(default_factory=dict)
    per_category: dict[str, float] = Field(default_factory=dict, description="Accuracy by true category.")


class CascadeScore(BaseModel):
    accuracy: float
    rules_accuracy: float = Field(description="The rule tier alone on the same cases (the floor the cascade must keep).")
    escalation_rate: float
    ece: float
    brier: float
    local_rate: float = Field(description="Share of cases where the local tier was asked.")
    mean_latency: float
    p50_latency: float
    p95_latency: float
    tokens_in: int
    tokens_out: int
    tokens_per_diagnosis: float
    threshold: float
    calibrated: dict[str, bool] = Field(default_factory=dict, description="Per model tier: weighed by a profile?")
    sources: dict[str, int] = Field(default_factory=dict)
    per_category: dict[str, float] = Field(default_factory=dict)
    baseline_accuracy: float | None = Field(
        default=None,
        description="NoETL's policy replayed on the same model answers, for comparison: the local "
        "answer if its self-reported confidence reaches the threshold, else the remote answer "
        "whatever it is (an empty one included); no rule tier. None without both model tiers.",
    )


class EvalReport(BaseModel):
    tiers: dict[str, TierScore]
    cascade: CascadeScore
    cases: int

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False)


def ece(pairs: Sequence[tuple[float, bool]], bins: int = BINS) -> float:
    """Expected calibration error of (confidence, correct) pairs."""
    if not pairs:
        return 0.0
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [(c, ok) for c, ok in pairs if (low <= c < high) or (b == bins - 1 and c == 1.0)]
        if members:
            accuracy = sum(ok for _, ok in members) / len(members)
            confidence = sum(c for c, _ in members) / len(members)
            total += len(members) / len(pairs) * abs(accuracy - confidence)
    return round(total, 4)


def brier(pairs: Sequence[tuple[float, bool]]) -> float:
    """Mean squared gap between confidence and outcome (1 right, 0 wrong)."""
    return round(sum((c - float(ok)) ** 2 for c, ok in pairs) / len(pairs), 4) if pairs else 0.0


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(math.ceil(q * len(ordered)) - 1, 0))], 4)


def _per_category(cases: Sequence[Case], correct: Sequence[bool]) -> dict[str, float]:
    seen: dict[str, list[bool]] = {}
    for case, ok in zip(cases, correct, strict=True):
        seen.setdefault(case.category.value, []).append(ok)
    return {k: round(sum(v) / len(v), 4) for k, v in sorted(seen.items())}


class _Replay:
    """A tier that gives back an answer recorded earlier (the cascade replay)."""

    def __init__(self, name: TierName, answer: TierAnswer, judge: tuple[str, str, str] | None) -> None:
        self.name = name
        self.judge = judge
        self._answer = answer

    async def ask(self, signal: FailureSignal, *, timeout: float) -> TierAnswer:
        return self._answer


async def _ask_all(tier: Tier, cases: Sequence[Case], timeout: float, concurrency: int) -> tuple[list[TierAnswer] | None, str | None]:
    """Every case's answer from one tier, or (None, why) when the tier is not there at all."""
    first = await tier.ask(cases[0].signal, timeout=timeout)
    if first.answer is None and first.run.outcome in _ABSENT:
        return None, f"{first.run.outcome}: {first.run.detail or ''}".strip(": ")
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(case: Case) -> TierAnswer:
        async with gate:
            return await tier.ask(case.signal, timeout=timeout)

    rest = await asyncio.gather(*(one(c) for c in cases[1:]))
    return [first, *rest], None


def _score(cases: Sequence[Case], answers: Sequence[TierAnswer], profile: CalibrationProfile | None = None,
           spec: ProviderSpec | None = None) -> TierScore:
    correct = [a.answer is not None and a.answer.category is c.category for c, a in zip(cases, answers, strict=True)]
    pairs = [(a.answer.confidence, ok) for a, ok in zip(answers, correct, strict=True) if a.answer is not None]
    latencies = [a.run.latency for a in answers]
    tokens_in = sum(a.run.tokens_in or 0 for a in answers)
    tokens_out = sum(a.run.tokens_out or 0 for a in answers)
    score = TierScore(
        model=next((a.run.model for a in answers if a.run.model), spec.model if spec else None),
        server=spec.label if spec else None,
        accuracy=round(sum(correct) / len(cases), 4),
        answered=round(sum(a.answer is not None for a in answers) / len(cases), 4),
        ece=ece(pairs), brier=brier(pairs),
        mean_latency=round(sum(latencies) / len(latencies), 4),
        p50_latency=_percentile(latencies, 0.5), p95_latency=_percentile(latencies, 0.95),
        tokens_in=tokens_in, tokens_out=tokens_out,
        tokens_per_diagnosis=round((tokens_in + tokens_out) / len(cases), 1),
        outcomes=dict(Counter(a.run.outcome for a in answers)),
        per_category=_per_category(cases, correct),
    )
    if spec is not None:
        score.calibrated = profile is not None
    if profile is not None:
        calibrated = [(profile.calibrate(a.answer.confidence, a.answer.category), ok)
                      for a, ok in zip(answers, correct, strict=True) if a.answer is not None]
        score.calibrated_ece, score.calibrated_brier = ece(calibrated), brier(calibrated)
    return score


class _Asked(BaseModel):
    """One model tier's part in a run over the corpus."""

    model_config = {"arbitrary_types_allowed": True}

    spec: ProviderSpec
    answers: list[TierAnswer] | None = None
    reason: str | None = None


async def ask_corpus(
    cases: Sequence[Case],
    settings: TroubleshootSettings,
    *,
    tiers: Iterable[str] = TIERS,
    providers: ProviderFactory | None = None,
    timeout: float = 30.0,
    concurrency: int = 1,
) -> tuple[list[TierAnswer], dict[str, _Asked]]:
    """The rule tier's answers and each selected model tier's (None with why when absent). The
    escalation tier that is the local tier's judge is not asked again: it shares the answers."""
    if not cases:
        raise ValueError("the corpus has no cases")
    selected = set(tiers)
    factory = providers or Providers()
    rules = [await RuleTier().ask(c.signal) for c in cases]
    specs: dict[str, ProviderSpec | None] = {"ollama": local_spec(settings), "openai": escalation_spec(settings)}
    asked: dict[str, _Asked] = {}
    for name in ("ollama", "openai"):
        spec = specs[name]
        if name not in selected or spec is None:
            continue
        twin = next((a for a in asked.values() if a.spec.judge == spec.judge), None)
        if twin is not None:
            asked[name] = _Asked(spec=spec, answers=twin.answers, reason=twin.reason)
            continue
        if spec.api_key is None and name == "openai":
            asked[name] = _Asked(spec=spec, reason=f"{Outcome.NO_CREDENTIALS}: no API key for the escalation tier")
            continue
        tier = ModelTier(name, factory(spec), judge=spec.judge)  # type: ignore[arg-type]
        try:
            answers, why = await _ask_all(tier, cases, timeout, concurrency)
        finally:
            await tier.aclose()
        asked[name] = _Asked(spec=spec, answers=answers, reason=why)
    return rules, asked


async def evaluate(
    cases: Sequence[Case],
    settings: TroubleshootSettings | None = None,
    *,
    tiers: Iterable[str] = TIERS,
    providers: ProviderFactory | None = None,
    timeout: float = 30.0,
    concurrency: int = 1,
    profiles: Profiles | None = None,
    calibrated: bool = True,
) -> EvalReport:
    """Score each selected tier and the cascade (replayed over the selected tiers). `profiles`
    default to those of `settings.calibration_dir`; `calibrated=False` weighs every model as
    uncalibrated (to show what calibration changes)."""
    settings = settings or TroubleshootSettings(enabled=True)
    names = tier_names(",".join(tiers))
    if profiles is None:
        profiles = await asyncio.to_thread(Profiles.load, settings.calibration_dir)
    if not calibrated:
        profiles = Profiles()
    rules, asked = await ask_corpus(cases, settings, tiers=names, providers=providers, timeout=timeout, concurrency=concurrency)
    scores: dict[str, TierScore] = {"rules": _score(cases, rules)}
    models = {"ollama": settings.local_model, "openai": settings.openai_model}
    for name in ("ollama", "openai"):
        part = asked.get(name)
        if part is None:
            why = "not selected (--tiers)" if name not in names else "escalate_to is none"
            scores[name] = TierScore(status="skipped", reason=why, model=models[name])
        elif part.answers is None:
            scores[name] = TierScore(status="skipped", reason=part.reason, model=models[name], server=part.spec.label)
        else:
            scores[name] = _score(cases, part.answers, profiles.get(part.spec.judge), part.spec)
    local = asked.get("ollama")
    remote = asked.get("openai")
    local_answers = local.answers if local else None
    remote_answers = remote.answers if remote else None
    one_judge = bool(local and remote and local.spec.judge == remote.spec.judge)
    diagnoses: list[Diagnosis] = []
    for i, case in enumerate(cases):
        diagnoses.append(await run_cascade(
            case.signal, settings.model_copy(update={"budget": 1e9}),
            rules=_Replay("rules", rules[i], None),
            local=(lambda a=local_answers[i], j=local.spec.judge: _Replay("ollama", a, j)) if local and local_answers else None,  # type: ignore[misc]
            remote=(lambda a=remote_answers[i], j=remote.spec.judge: _Replay("openai", a, j)) if remote and remote_answers else None,  # type: ignore[misc]
            profiles=profiles, one_judge=one_judge,
        ))
    correct = [d.category is c.category for d, c in zip(diagnoses, cases, strict=True)]
    baseline = None
    if local_answers and remote_answers:
        baseline = round(sum(
            _noetl_policy(la, ra, settings.confidence_threshold) is case.category
            for case, la, ra in zip(cases, local_answers, remote_answers, strict=True)
        ) / len(cases), 4)
    latencies = [sum(t.latency for t in d.tiers) for d in diagnoses]
    pooled = [(d.confidence, ok) for d, ok in zip(diagnoses, correct, strict=True)]
    tokens_in = sum(t.tokens_in or 0 for d in diagnoses for t in d.tiers)
    tokens_out = sum(t.tokens_out or 0 for d in diagnoses for t in d.tiers)
    cascade = CascadeScore(
        accuracy=round(sum(correct) / len(cases), 4),
        rules_accuracy=scores["rules"].accuracy or 0.0,
        escalation_rate=round(sum(d.escalated for d in diagnoses) / len(cases), 4),
        ece=ece(pooled), brier=brier(pooled),
        local_rate=round(sum(any(t.tier == "ollama" for t in d.tiers) for d in diagnoses) / len(cases), 4),
        mean_latency=round(sum(latencies) / len(latencies), 4),
        p50_latency=_percentile(latencies, 0.5), p95_latency=_percentile(latencies, 0.95),
        tokens_in=tokens_in, tokens_out=tokens_out, tokens_per_diagnosis=round((tokens_in + tokens_out) / len(cases), 1),
        threshold=settings.confidence_threshold,
        calibrated={n: profiles.get(a.spec.judge) is not None for n, a in asked.items() if a.answers is not None},
        sources=dict(Counter(d.source for d in diagnoses)),
        per_category=_per_category(cases, correct),
        baseline_accuracy=baseline,
    )
    return EvalReport(tiers=scores, cascade=cascade, cases=len(cases))


async def calibrate(
    cases: Sequence[Case],
    settings: TroubleshootSettings,
    *,
    tiers: Iterable[str] = ("rules", "ollama", "openai"),
    providers: ProviderFactory | None = None,
    timeout: float = 30.0,
    concurrency: int = 1,
    corpus: str = "",
    directory: Path | str | None = None,
) -> list[tuple[CalibrationProfile | None, Path | None, str]]:
    """Put the corpus to each selected model tier and write its profile to `directory` (default:
    `settings.calibration_dir`). One entry per tier: (profile, path, what happened)."""
    _, asked = await ask_corpus(cases, settings, tiers=tier_names(",".join(tiers)), providers=providers,
                                timeout=timeout, concurrency=concurrency)
    done: list[tuple[CalibrationProfile | None, Path | None, str]] = []
    written: set[tuple[str, str, str]] = set()
    for name, part in asked.items():
        if part.answers is None:
            done.append((None, None, f"{name}: skipped ({part.reason})"))
            continue
        if part.spec.judge in written:
            done.append((None, None, f"{name}: same judge as the local tier (one profile)"))
            continue
        answers = [(a.answer.category, a.answer.confidence) if a.answer is not None else None for a in part.answers]
        profile = build_profile(part.spec.judge, [c.category for c in cases], answers, corpus=corpus)
        path = await asyncio.to_thread(write_profile, profile, directory or settings.calibration_dir)
        written.add(part.spec.judge)
        done.append((profile, path, f"{name}: {part.spec.label}: accuracy {profile.accuracy:.3f} on {profile.cases} cases "
                                    f"({profile.answered} answered), {len(profile.steps)} confidence steps"))
    return done


def _noetl_policy(local: TierAnswer, remote: TierAnswer, threshold: float) -> Category | None:
    """NoETL's diagnose_execution: a parse failure means confidence 0; below the threshold the
    remote answer wins, even when it parsed to nothing."""
    if local.answer is not None and local.answer.confidence >= threshold:
        return local.answer.category
    return remote.answer.category if remote.answer is not None else None


def report_dict(report: EvalReport) -> dict[str, Any]:
    return report.model_dump(mode="json")
