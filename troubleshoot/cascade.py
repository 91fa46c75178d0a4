"""The cascade: rules, then the local model, then OpenAI only when the pooled confidence is low.

Policy, for one failure signal and one `TroubleshootSettings`:
1. The rule tier always answers (instantly, offline).
2. The local tier (Ollama) is asked, unless the rule is decisive (a rule at >= RULES_DECISIVE and
   at or above the threshold: a cancel, bad arguments, a missing package — no model can add to
   those, and a cancel should not cost seconds).
3. If the best pooled confidence is below `confidence_threshold` (or the best answer is
   `unknown`) and `escalate_to` is `openai`, OpenAI is asked.
4. The kept answer is the best supported category over every answer received (below), worded by
   the answer that backs it most strongly — not simply the last tier's.

Confidence (why not the model's own number: small models say 0.9 about anything; NoETL trusted
that and let an empty remote answer win). Each answering tier is a vote for a category with an
evidence weight `e = trust[tier] * self_confidence` (trust: rules 1.0, ollama 0.85, openai 0.95;
the rule tier's self-confidence is its rule's expected precision). An `unknown` vote abstains, and
a vote with `e <= 1/H` is no evidence either way. The votes are pooled as independent opinions
(naive Bayes) over H = max(K_EFF, distinct categories voted + 1) hypotheses — the voted
categories plus stand-ins for the plausible others (K_EFF = 4, because a failure is rarely
plausibly more than a few categories, and a larger H would make agreement look more decisive than
it is):

    p_i(h) = e_i                  if h is tier i's category
           = (1 - e_i) / (H - 1)  otherwise
    confidence(h) = prod_i p_i(h) / sum_h' prod_i p_i(h')

So one tier alone keeps its own weight; agreement raises it (a rule at 0.9 and an Ollama vote of
e = 0.8 agreeing -> 0.99); disagreement lowers both sides (the same two disagreeing -> 0.66 for
the rule's category, 0.29 for Ollama's), which is what sends the case to OpenAI, whose vote then
settles it (rule 0.8 vs Ollama e = 0.72, then OpenAI e = 0.81 siding with the rule -> 0.94).

Budget: one deadline for the whole diagnosis. The local tier gets at most LOCAL_SHARE of what is
left when an escalation is still possible (so OpenAI keeps time), else all of it; OpenAI gets what
remains. A tier left with under MIN_TIER_SECONDS is not started and is recorded `skipped_budget`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from bridges.llm.base import Outcome
from troubleshoot.categories import Category
from troubleshoot.diagnosis import Diagnosis, ModelAnswer, TierName, TierRun
from troubleshoot.settings import TroubleshootSettings
from troubleshoot.signal import FailureSignal
from troubleshoot.tiers import ModelTier, ProviderFactory, RuleTier, Tier, TierAnswer, default_provider

TRUST: dict[str, float] = {"rules": 1.0, "ollama": 0.85, "openai": 0.95, "child": 1.0}
K_EFF = 4
RULES_DECISIVE = 0.95
LOCAL_SHARE = 0.6
MIN_TIER_SECONDS = 0.25
MAX_EVIDENCE = 0.99
UNKNOWN_CEILING = 0.3
NOT_ASKED = {Outcome.NO_CREDENTIALS, "skipped_budget", "reused"}
"""Tier outcomes that mean no request reached the escalation tier (so `escalated` stays false)."""

Vote = tuple[TierName, ModelAnswer]


def evidence(tier: str, answer: ModelAnswer) -> float:
    """A vote's weight: the tier's trust times its own confidence; `unknown` abstains (0)."""
    if answer.category is Category.UNKNOWN:
        return 0.0
    return min(max(TRUST.get(tier, 0.5) * answer.confidence, 0.0), MAX_EVIDENCE)


def pool(votes: Sequence[Vote]) -> dict[Category, float]:
    """Pooled confidence of each voted category (the formula in the module docstring)."""
    weighed = [(a.category, evidence(t, a)) for t, a in votes]
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


def choose(votes: Sequence[Vote]) -> tuple[TierName, ModelAnswer, float]:
    """(tier, answer, confidence) of the best supported category, worded by its strongest backer.

    With nothing but abstentions the answer is `unknown`, worded by the most confident abstainer,
    with a confidence capped at UNKNOWN_CEILING (an unknown is never a confident diagnosis)."""
    if not votes:
        raise ValueError("no votes")
    pooled = pool(votes)
    if not pooled:
        tier, answer = max(votes, key=lambda v: TRUST.get(v[0], 0.5) * v[1].confidence)
        return tier, answer, round(min(TRUST.get(tier, 0.5) * answer.confidence, UNKNOWN_CEILING), 4)
    best = max(pooled, key=lambda c: pooled[c])
    backers = [v for v in votes if v[1].category is best]
    tier, answer = max(backers, key=lambda v: evidence(*v))  # first (earliest tier) on ties
    return tier, answer, round(pooled[best], 4)


TierSource = Callable[[], Tier] | None
"""Makes a tier on first need (so an unneeded OpenAI client is never even created)."""


async def run_cascade(
    signal: FailureSignal,
    settings: TroubleshootSettings,
    *,
    local: TierSource = None,
    remote: TierSource = None,
    rules: Tier | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Diagnosis:
    """The policy above over the given tiers (None = that tier is not available)."""
    started = clock()
    deadline = started + settings.budget
    runs: list[TierRun] = []
    votes: list[Vote] = []

    def record(answer: TierAnswer) -> None:
        runs.append(answer.run)
        if answer.answer is not None:
            votes.append((answer.run.tier, answer.answer))

    record(await (rules or RuleTier()).ask(signal, timeout=0.0))
    can_escalate = settings.escalate_to == "openai" and remote is not None
    rule_conf = votes[0][1].confidence
    decisive = rule_conf >= RULES_DECISIVE and rule_conf >= settings.confidence_threshold
    if local is not None and not decisive:
        left = deadline - clock()
        share = left * LOCAL_SHARE if can_escalate else left
        if share < MIN_TIER_SECONDS:
            runs.append(TierRun(tier="ollama", outcome="skipped_budget", detail=f"{max(left, 0):.2f}s left"))
        else:
            record(await local().ask(signal, timeout=share))
    tier, answer, confidence = choose(votes)
    escalated = False
    unsure = confidence < settings.confidence_threshold or answer.category is Category.UNKNOWN
    if unsure and can_escalate and remote is not None:
        left = deadline - clock()
        if left < MIN_TIER_SECONDS:
            runs.append(TierRun(tier="openai", outcome="skipped_budget", detail=f"{max(left, 0):.2f}s left"))
        else:
            asked = await remote().ask(signal, timeout=left)
            record(asked)
            escalated = asked.run.outcome not in NOT_ASKED
            tier, answer, confidence = choose(votes)
    return Diagnosis(
        category=answer.category, confidence=confidence, root_cause=answer.root_cause,
        suggested_action=answer.suggested_action, source=tier, escalated=escalated, tiers=runs,
    )


async def diagnose_signal(
    signal: FailureSignal,
    settings: TroubleshootSettings,
    *,
    keychain: Mapping[str, str] | None = None,
    providers: ProviderFactory = default_provider,
) -> Diagnosis:
    """Run the cascade with real model tiers (made on first need, closed at the end).

    The OpenAI key is the keychain entry named by `openai_credential` when one is set (a missing
    entry means no credentials, not a silent fall-back to another key), else OPENAI_API_KEY."""
    made: list[ModelTier] = []

    def make(name: TierName, model: str, api_key: str | None) -> Callable[[], Tier]:
        def build() -> Tier:
            tier = ModelTier(name, providers(name, model, api_key))
            made.append(tier)
            return tier

        return build

    remote: TierSource = None
    if settings.escalate_to == "openai":
        if settings.openai_credential:
            key = (keychain or {}).get(settings.openai_credential)
            remote = make("openai", settings.openai_model, key) if key else _no_key(settings.openai_credential)
        else:
            remote = make("openai", settings.openai_model, None)
    try:
        return await run_cascade(signal, settings, local=make("ollama", settings.ollama_model, None), remote=remote)
    finally:
        for tier in made:
            try:
                await tier.aclose()
            except Exception:  # closing a client must not cost the diagnosis
                pass


def _no_key(name: str) -> Callable[[], Tier]:
    class _NoKey:
        name: TierName = "openai"

        async def ask(self, signal: FailureSignal, *, timeout: float) -> TierAnswer:
            return TierAnswer(answer=None, run=TierRun(
                tier="openai", outcome=Outcome.NO_CREDENTIALS,
                detail=f"keychain entry {name!r} (openai_credential) has no value in this run",
            ))

    return _NoKey
