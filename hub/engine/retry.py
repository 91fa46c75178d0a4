"""Retry decisions: which errors a step's policy retries, and how long to wait before the next try."""

from __future__ import annotations

import random
from fnmatch import fnmatchcase

from catalog.model import PolicyThen, RetryPolicy
from hub.contract.envelope import ErrorInfo


def retries(policy: RetryPolicy, error: ErrorInfo) -> bool:
    """True when `policy.on` names this error: 'retryable', its kind, or a code (glob allowed)."""
    for pattern in policy.on:
        if pattern == "retryable" and error.retryable:
            return True
        if pattern == error.kind or fnmatchcase(error.code, pattern):
            return True
    return False


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Delay after failed attempt number `attempt` (1-based): exponential, capped, with jitter."""
    base = min(policy.backoff * policy.multiplier ** (attempt - 1), policy.max_delay)
    if policy.jitter:
        base *= 1 + rng.uniform(-policy.jitter, policy.jitter)
    return max(base, 0.0)


def policy_delay(then: PolicyThen, attempt: int) -> float:
    """Delay before the next try a policy rule's `do: retry` asks for: `delay`, grown `fixed`,
    `linear` or `exponential` (a number is a multiplier), capped at a minute."""
    if isinstance(then.backoff, (int, float)):
        factor = float(then.backoff) ** (attempt - 1)
    elif then.backoff == "linear":
        factor = float(attempt)
    elif then.backoff == "exponential":
        factor = 2.0 ** (attempt - 1)
    else:
        factor = 1.0
    return min(then.delay * factor, 60.0)
