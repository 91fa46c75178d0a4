"""The evaluation harness: scores the tiers and the cascade on a labelled corpus of failures.

Each tier is asked about every case once (the rule tier in-process; the model tiers on whatever
servers the environment names: OLLAMA_HOST, OPENAI_BASE_URL / OPENAI_API_KEY). The cascade is then
replayed from those answers with the real policy (`troubleshoot.cascade.run_cascade`), so its
figures are exactly what the cascade would have decided, without asking any model twice. A tier
whose first call finds no server (unreachable, no credentials) is reported as skipped, with why,
and is not asked again.

Figures:
- accuracy: right answers over all cases (no answer counts as wrong), per tier and cascade;
- answered: the share of cases a tier gave a valid answer for;
- escalation_rate: the share of cases where the cascade asked OpenAI;
- ece: expected calibration error over 10 equal-width confidence bins,
  sum_b (n_b / N) * |accuracy_b - mean_confidence_b| (0 is perfectly calibrated); for a tier on
  its own confidence, for the cascade on its pooled confidence;
- latency (mean and p95, seconds) and tokens in/out (totals).
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
from troubleshoot.cascade import run_cascade
from troubleshoot.categories import Category
from troubleshoot.diagnosis import Diagnosis, TierName
from troubleshoot.settings import TroubleshootSettings
from troubleshoot.signal import FailureSignal
from troubleshoot.tiers import ModelTier, ProviderFactory, RuleTier, Tier, TierAnswer, default_provider

DEFAULT_CORPUS = Path(__file__).resolve().parent / "corpus" / "failures.jsonl"
TIERS: tuple[TierName, ...] = ("rules", "ollama", "openai")
_ABSENT = {Outcome.UNREACHABLE, Outcome.NO_CREDENTIALS}
BINS = 10


class Case(BaseModel):
    """One labelled failure: the recorded signal and the category it truly is."""

    id: str
    category: Category
    origin: Literal["run", "recorded"] = "run"
    note: str | None = None
    signal: FailureSignal


def load_corpus(path: Path | str = DEFAULT_CORPUS) -> list[Case]:
    """JSON lines, one `Case` each; blank lines and `#` comments are skipped."""
    cases = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            cases.append(Case.model_validate_json(line))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not a corpus case: {exc}") from None
    return cases


class TierScore(BaseModel):
    status: Literal["ok", "skipped"] = "ok"
    reason: str | None = None
    model: str | None = None
    accuracy: float | None = None
    answered: float | None = None
    ece: float | None = None
    mean_latency: float | None = None
    p95_latency: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    outcomes: dict[str, int] = Field(default_factory=dict)
    per_category: dict[str, float] = Field(default_factory=dict, description="Accuracy by true category.")


class CascadeScore(BaseModel):
    accuracy: float
    escalation_rate: float
    ece: float
    local_rate: float = Field(description="Share of cases where the local tier was asked.")
    mean_latency: float
    p95_latency: float
    tokens_in: int
    tokens_out: int
    threshold: float
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


def _p95(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 4)


def _per_category(cases: Sequence[Case], correct: Sequence[bool]) -> dict[str, float]:
    seen: dict[str, list[bool]] = {}
    for case, ok in zip(cases, correct, strict=True):
        seen.setdefault(case.category.value, []).append(ok)
    return {k: round(sum(v) / len(v), 4) for k, v in sorted(seen.items())}


class _Replay:
    """A tier that gives back an answer recorded earlier (the cascade replay)."""

    def __init__(self, name: TierName, answer: TierAnswer) -> None:
        self.name = name
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


def _score(cases: Sequence[Case], answers: Sequence[TierAnswer]) -> TierScore:
    correct = [a.answer is not None and a.answer.category is c.category for c, a in zip(cases, answers, strict=True)]
    pairs = [(a.answer.confidence, ok) for a, ok in zip(answers, correct, strict=True) if a.answer is not None]
    latencies = [a.run.latency for a in answers]
    return TierScore(
        model=next((a.run.model for a in answers if a.run.model), None),
        accuracy=round(sum(correct) / len(cases), 4),
        answered=round(sum(a.answer is not None for a in answers) / len(cases), 4),
        ece=ece(pairs),
        mean_latency=round(sum(latencies) / len(latencies), 4),
        p95_latency=_p95(latencies),
        tokens_in=sum(a.run.tokens_in or 0 for a in answers),
        tokens_out=sum(a.run.tokens_out or 0 for a in answers),
        outcomes=dict(Counter(a.run.outcome for a in answers)),
        per_category=_per_category(cases, correct),
    )


async def evaluate(
    cases: Sequence[Case],
    settings: TroubleshootSettings | None = None,
    *,
    tiers: Iterable[str] = TIERS,
    providers: ProviderFactory = default_provider,
    timeout: float = 30.0,
    concurrency: int = 1,
) -> EvalReport:
    """Score each selected tier and the cascade (replayed over the selected tiers)."""
    if not cases:
        raise ValueError("the corpus has no cases")
    settings = settings or TroubleshootSettings(enabled=True)
    selected = set(tiers)
    unknown = selected - set(TIERS)
    if unknown or "rules" not in selected:
        raise ValueError(f"tiers are a subset of {', '.join(TIERS)} including rules (got {', '.join(sorted(selected))})")
    rule_tier = RuleTier()
    recorded: dict[str, list[TierAnswer] | None] = {"rules": [await rule_tier.ask(c.signal) for c in cases]}
    scores: dict[str, TierScore] = {"rules": _score(cases, recorded["rules"])}  # type: ignore[arg-type]
    models = {"ollama": settings.ollama_model, "openai": settings.openai_model}
    for name in ("ollama", "openai"):
        if name not in selected:
            recorded[name] = None
            scores[name] = TierScore(status="skipped", reason="not selected (--tiers)", model=models[name])
            continue
        tier = ModelTier(name, providers(name, models[name], None))  # type: ignore[arg-type]
        try:
            answers, why = await _ask_all(tier, cases, timeout, concurrency)
        finally:
            await tier.aclose()
        recorded[name] = answers
        scores[name] = TierScore(status="skipped", reason=why, model=models[name]) if answers is None else _score(cases, answers)
    diagnoses: list[Diagnosis] = []
    for i, case in enumerate(cases):
        local, remote = recorded["ollama"], recorded["openai"]
        diagnoses.append(await run_cascade(
            case.signal, settings.model_copy(update={"budget": 1e9}),
            rules=_Replay("rules", recorded["rules"][i]),  # type: ignore[index]
            local=(lambda a=local[i]: _Replay("ollama", a)) if local else None,
            remote=(lambda a=remote[i]: _Replay("openai", a)) if remote else None,
        ))
    correct = [d.category is c.category for d, c in zip(diagnoses, cases, strict=True)]
    baseline = None
    if recorded["ollama"] and recorded["openai"]:
        baseline = round(sum(
            _noetl_policy(local, remote, settings.confidence_threshold) is case.category
            for case, local, remote in zip(cases, recorded["ollama"], recorded["openai"], strict=True)
        ) / len(cases), 4)
    latencies = [sum(t.latency for t in d.tiers) for d in diagnoses]
    cascade = CascadeScore(
        accuracy=round(sum(correct) / len(cases), 4),
        escalation_rate=round(sum(d.escalated for d in diagnoses) / len(cases), 4),
        ece=ece([(d.confidence, ok) for d, ok in zip(diagnoses, correct, strict=True)]),
        local_rate=round(sum(any(t.tier == "ollama" for t in d.tiers) for d in diagnoses) / len(cases), 4),
        mean_latency=round(sum(latencies) / len(latencies), 4),
        p95_latency=_p95(latencies),
        tokens_in=sum(t.tokens_in or 0 for d in diagnoses for t in d.tiers),
        tokens_out=sum(t.tokens_out or 0 for d in diagnoses for t in d.tiers),
        threshold=settings.confidence_threshold,
        sources=dict(Counter(d.source for d in diagnoses)),
        per_category=_per_category(cases, correct),
        baseline_accuracy=baseline,
    )
    return EvalReport(tiers=scores, cascade=cascade, cases=len(cases))


def _noetl_policy(local: TierAnswer, remote: TierAnswer, threshold: float) -> Category | None:
    """NoETL's diagnose_execution: a parse failure means confidence 0; below the threshold the
    remote answer wins, even when it parsed to nothing."""
    if local.answer is not None and local.answer.confidence >= threshold:
        return local.answer.category
    return remote.answer.category if remote.answer is not None else None


def _fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return "-" if value is None else pattern.format(value)


def render_table(report: EvalReport) -> str:
    """The report for a terminal: one row per tier and the cascade, then accuracy by category."""
    head = f"{'tier':<8} {'model':<16} {'accuracy':>8} {'answered':>8} {'ECE':>6} {'mean s':>8} {'p95 s':>8} {'tok in':>8} {'tok out':>8}  note"
    lines = [f"{report.cases} cases", head, "-" * len(head)]
    for name in TIERS:
        s = report.tiers[name]
        if s.status == "skipped":
            lines.append(f"{name:<8} {(s.model or '-'):<16} {'skipped':>8} {'':>8} {'':>6} {'':>8} {'':>8} {'':>8} {'':>8}  {s.reason or ''}")
            continue
        note = ", ".join(f"{k} {v}" for k, v in sorted(s.outcomes.items()) if k != "ok")
        lines.append(
            f"{name:<8} {(s.model or '-'):<16} {_fmt(s.accuracy):>8} {_fmt(s.answered):>8} {_fmt(s.ece):>6} "
            f"{_fmt(s.mean_latency, '{:.4f}'):>8} {_fmt(s.p95_latency, '{:.4f}'):>8} {s.tokens_in:>8} {s.tokens_out:>8}  {note}"
        )
    c = report.cascade
    lines.append(
        f"{'cascade':<8} {'threshold ' + format(c.threshold, 'g'):<16} {_fmt(c.accuracy):>8} {'':>8} {_fmt(c.ece):>6} "
        f"{_fmt(c.mean_latency, '{:.4f}'):>8} {_fmt(c.p95_latency, '{:.4f}'):>8} {c.tokens_in:>8} {c.tokens_out:>8}  "
        f"escalation rate {c.escalation_rate:.3f}, local asked {c.local_rate:.3f}, kept: "
        + ", ".join(f"{k} {v}" for k, v in sorted(c.sources.items()))
    )
    if c.baseline_accuracy is not None:
        lines.append(f"{'noetl':<8} {'(baseline)':<16} {c.baseline_accuracy:>8.3f}  "
                     "local if self-confident, else remote; no rules (NoETL's policy, same answers)")
    lines.append("")
    lines.append("accuracy by category: " + "  ".join(
        f"{cat} {c.per_category.get(cat, 0):.2f}/{report.tiers['rules'].per_category.get(cat, 0):.2f}"
        for cat in c.per_category
    ) + "   (cascade/rules)")
    return "\n".join(lines)


def report_dict(report: EvalReport) -> dict[str, Any]:
    return report.model_dump(mode="json")
