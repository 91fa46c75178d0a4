"""The cascade: rules, then the local model, then the escalation tier only when the pooled,
calibrated confidence is low.

Policy, for one failure signal and one `TroubleshootSettings`:
1. The rule tier always answers (instantly, offline).
2. The local tier is asked, unless the rule is decisive (a rule at >= RULES_DECISIVE and at or
   above the threshold: a cancel, bad arguments, a missing package — no model can add to those,
   and a cancel should not cost seconds).
3. If the pooled confidence of the kept answer is below `confidence_threshold` (or it is
   `unknown`) and an escalation target is set, the escalation tier is asked — unless it is the
   very model the local tier already asked (same provider, base URL and model: one judge, asked
   once; recorded as `reused`).
4. The kept category is the one its single best-trusted vote backs; pooling only sets the
   confidence. So a tier never overturns an answer trusted more than its own, and a model's
   answer replaces the rules' `unknown` only when trusted at or above the threshold.

Trust (why not the model's own number: a 270M model said 0 or 1 about anything and was right half
the time). A rule's weight is its stated confidence, the rule's expected precision on the corpus.
A model's weight is its *calibrated* confidence, from a profile measured on a labelled corpus
(`troubleshoot.calibration`); a model with no profile weighs `UNCALIBRATED_TRUST` times its own
figure, so it can confirm or shake an answer but not overturn one. Weights are pooled as
independent opinions (naive Bayes) over H = max(K_EFF, distinct categories voted + 1) hypotheses:

    p_i(h) = w_i                  if h is tier i's category
           = (1 - w_i) / (H - 1)  otherwise
    confidence(h) = prod_i p_i(h) / sum_h' prod_i p_i(h')

An `unknown` vote abstains, a vote with w <= 1/H is no evidence either way, and a second vote of
the same judge is not counted (it is not independent). So one tier alone keeps its own weight;
agreement raises it; disagreement lowers it, which is what sends a case to escalation.

Budget: one deadline for the whole diagnosis. The local tier gets at most LOCAL_SHARE of what is
left when an escalation is still possible (so the escalation keeps time), else all of it; the
escalation tier gets what remains. A tier left with under MIN_TIER_SECONDS is not started and is
recorded `skipped_budget`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bridges.llm.base import Outcome
from troubleshoot.calibration import Profiles
from troubleshoot.categories import Category
from troubleshoot.diagnosis import Diagnosis, ModelAnswer, TierName, TierRun
from troubleshoot.providers import ProviderFactory, Providers, ProviderSpec, escalation_spec, local_spec
from troubleshoot.settings import TroubleshootSettings
from troubleshoot.signal import FailureSignal
from troubleshoot.tiers import ModelTier, RuleTier, Tier, TierAnswer

K_EFF = 4
RULES_DECISIVE = 0.95
LOCAL_SHARE = 0.6
MIN_TIER_SECONDS = 0.25
MAX_EVIDENCE = 0.99
UNKNOWN_CEILING = 0.3
NOT_ASKED = {Outcome.NO_CREDENTIALS, "skipped_budget", "reused"}
"""Tier outcomes that mean no request reached the escalation tier (so `escalated` stays false)."""


@dataclass(frozen=True)
class Vote:
    """One tier's answer and the weight the cascade gives it."""

    tier: TierName
    answer: ModelAnswer
    weight: float
    judge: tuple[str, str, str] | None = None

    @property
    def evidence(self) -> float:
        """0 for `unknown` (an abstention), else the weight, bounded."""
        return 0.0 if self.answer.category is Category.UNKNOWN else min(max(self.weight, 0.0), MAX_EVIDENCE)


def independent(votes: Sequence[Vote]) -> list[Vote]:
    """The votes with each judge counted once (its first vote)."""
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for vote in votes:
        if vote.judge is not None:
            if vote.judge in seen:
                continue
            seen.add(vote.judge)
        kept.append(vote)
    return kept


def pool(votes: Sequence[Vote]) -> dict[Category, float]:
    """Pooled confidence of each voted category (the formula in the module docstring)."""
    weighed = [(v.answer.category, v.evidence) for v in independent(votes)]
    categories = list(dict.fromkeys(c for c, e in weighed if e > 0))
    if not categories:
        return {}
    size = max(K_EFF, len(categories) + 1)
    others = size - len(categories)  # stand-in hypotheses, all alike
    scores = {c: 1.0 for c in categories}
    other_score = 1.0
    for category, e in weighed:
        if e <= 1.0 / size:
            continue
        spread = (1.0 - e) / (size - 1)
        for c in categories:
            scores[c] *= e if c is category else spread
        other_score *= spread
    total = sum(scores.values()) + others * other_score
    return {c: s / total for c, s in scores.items()}


def choose(votes: Sequence[Vote], threshold: float = 0.0) -> tuple[Vote, float]:
    """(kept vote, confidence): the category of the best-trusted vote, worded by that vote.

    The rules come first; a model vote replaces the kept one only when trusted more, and replaces
    an `unknown` only when trusted at or above `threshold`. With nothing but abstentions (or no
    vote strong enough) the answer is `unknown`, worded by the most trusted abstainer, with a
    confidence capped at UNKNOWN_CEILING (an unknown is never a confident diagnosis)."""
    if not votes:
        raise ValueError("no votes")
    counted = independent(votes)
    kept = counted[0]
    for vote in counted[1:]:
        if vote.evidence <= kept.evidence:
            continue
        if kept.answer.category is Category.UNKNOWN and vote.weight < threshold:
            continue
        kept = vote
    pooled = pool(counted)
    if kept.answer.category is Category.UNKNOWN or kept.answer.category not in pooled:
        abstainers = [v for v in counted if v.answer.category is Category.UNKNOWN] or [kept]
        worded = max(abstainers, key=lambda v: v.weight)
        return worded, round(min(worded.weight, UNKNOWN_CEILING), 4)
    return kept, round(pooled[kept.answer.category], 4)


TierSource = Callable[[], Tier] | None
"""Makes a tier on first need (so an unneeded OpenAI client is never even created)."""


async def run_cascade(
    signal: FailureSignal,
    settings: TroubleshootSettings,
    *,
    local: TierSource = None,
    remote: TierSource = None,
    rules: Tier | None = None,
    profiles: Profiles | None = None,
    one_judge: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> Diagnosis:
    """The policy above over the given tiers (None = that tier is not available). `one_judge`:
    the escalation tier is the local tier's model on the same server (never asked twice)."""
    started = clock()
    deadline = started + settings.budget
    trust = profiles or Profiles()
    runs: list[TierRun] = []
    votes: list[Vote] = []

    def record(tier: Tier, answer: TierAnswer) -> None:
        run = answer.run
        if answer.answer is not None:
            judge = getattr(tier, "judge", None)
            if run.tier == "rules":
                weight, calibrated = answer.answer.confidence, None
            else:
                weight, calibrated = trust.trust(judge, answer.answer.confidence, answer.answer.category)
            votes.append(Vote(run.tier, answer.answer, weight, judge))
            run = run.model_copy(update={"trust": weight, "calibrated": calibrated})
        runs.append(run)

    rule_tier = rules or RuleTier()
    record(rule_tier, await rule_tier.ask(signal, timeout=0.0))
    can_escalate = settings.escalate_to != "none" and remote is not None
    rule_conf = votes[0].answer.confidence
    decisive = rule_conf >= RULES_DECISIVE and rule_conf >= settings.confidence_threshold
    local_share = LOCAL_SHARE if can_escalate and not one_judge else 1.0
    if local is not None and not decisive:
        left = deadline - clock()
        if left * local_share < MIN_TIER_SECONDS:
            runs.append(TierRun(tier="ollama", outcome="skipped_budget", detail=f"{max(left, 0):.2f}s left"))
        else:
            tier = local()  # making a client costs time too (a TLS context): split what is left after it
            record(tier, await tier.ask(signal, timeout=(deadline - clock()) * local_share))
    kept, confidence = choose(votes, settings.confidence_threshold)
    escalated = False
    unsure = confidence < settings.confidence_threshold or kept.answer.category is Category.UNKNOWN
    if unsure and can_escalate and remote is not None:
        left = deadline - clock()
        if one_judge and any(r.tier == "ollama" for r in runs):
            runs.append(TierRun(tier="openai", outcome="reused", detail="the local tier's model on the same server: one judge, asked once"))
        elif left < MIN_TIER_SECONDS:
            runs.append(TierRun(tier="openai", outcome="skipped_budget", detail=f"{max(left, 0):.2f}s left"))
        else:
            tier = remote()
            asked = await tier.ask(signal, timeout=max(deadline - clock(), 0.0))
            record(tier, asked)
            escalated = asked.run.outcome not in NOT_ASKED
            kept, confidence = choose(votes, settings.confidence_threshold)
    return Diagnosis(
        category=kept.answer.category, confidence=confidence, root_cause=kept.answer.root_cause,
        suggested_action=kept.answer.suggested_action, source=kept.tier, escalated=escalated, tiers=runs,
    )


async def diagnose_signal(
    signal: FailureSignal,
    settings: TroubleshootSettings,
    *,
    keychain: Mapping[str, str] | None = None,
    providers: ProviderFactory | None = None,
    profiles: Profiles | None = None,
) -> Diagnosis:
    """Run the cascade with real model tiers (made on first need, closed at the end), weighed by
    the calibration profiles of `settings.calibration_dir` unless `profiles` are given."""
    factory = providers or Providers()
    made: list[ModelTier] = []
    local = local_spec(settings, keychain)
    remote = escalation_spec(settings, keychain)

    def make(spec: ProviderSpec) -> Callable[[], Tier]:
        def build() -> Tier:
            tier = ModelTier(spec.tier, factory(spec), judge=spec.judge)
            made.append(tier)
            return tier

        return build

    if profiles is None:
        profiles = await asyncio.to_thread(Profiles.load, settings.calibration_dir)
    remote_source: TierSource = None
    if remote is not None:
        remote_source = make(remote) if remote.api_key else _no_key(settings.openai_credential)
    try:
        return await run_cascade(
            signal, settings, local=make(local), remote=remote_source, profiles=profiles,
            one_judge=remote is not None and remote.judge == local.judge,
        )
    finally:
        for tier in made:
            try:
                await tier.aclose()
            except Exception:  # closing a client must not cost the diagnosis
                pass


def _no_key(credential: str | None) -> Callable[[], Tier]:
    detail = (f"keychain entry {credential!r} (openai_credential) has no value in this run" if credential
              else "no API key for the escalation tier (a keychain credential or the environment)")

    class _NoKey:
        name: TierName = "openai"
        judge = None

        async def ask(self, signal: FailureSignal, *, timeout: float) -> TierAnswer:
            return TierAnswer(answer=None, run=TierRun(tier="openai", outcome=Outcome.NO_CREDENTIALS, detail=detail))

    return _NoKey
