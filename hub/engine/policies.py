"""What a tool's outcome means, and whether a step runs at all: policy rules, failure arcs,
admission. The same for both dialects.

- `decide`: `tool.spec.policy.rules` — the first rule whose `when` holds on the outcome
  (`output.status`, `output.data`, `output.error`, `output.http.status`) says retry, fail,
  continue or jump, and may `set` values first. A tool with `output: {envelope: true}` and no
  rules always continues with its outcome (NoETL's agent steps: a failed agent does not fail the
  step).
- `failure_route`: a failed step whose conditional arcs match the failure (`event.name ==
  'step.failed'` or `'call.error'`, `output.status == 'error'`) continues along that arc.
- `admitted`: `spec.policy.admit.rules` — the first matching rule's `then.allow`.
Template problems come out as `Failure`; the caller turns them into the step's error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalog.model import Step, ToolSpec
from hub.contract.envelope import ErrorInfo, Failure
from hub.contract.errors import ErrorCode
from hub.engine.retry import policy_delay

ENDS_THE_RUN = frozenset({ErrorCode.DEADLINE_EXCEEDED.name, ErrorCode.CANCELLED.name})
"""Errors no rule or arc continues past: the execution itself is over."""

Render = Callable[[Any, dict[str, Any], str], Any]
Truthy = Callable[[Any, dict[str, Any], str], bool]
Assign = Callable[[str, Any], None]


@dataclass(frozen=True)
class Decision:
    output: Any
    error: ErrorInfo | None
    retry_delay: float | None = None
    jump: str | None = None


def decide(
    tool: ToolSpec, data: Any, found: dict[str, Any], ctx: dict[str, Any], attempt: int, where: str,
    render: Render, truthy: Truthy, assign: Assign,
) -> Decision | None:
    """The first matching rule's decision; None when no rule matched (the kind's own handling)."""
    error = None if found["status"] == "ok" else ErrorInfo.model_validate(found["error"])
    if error is not None and error.code in ENDS_THE_RUN:
        return None
    whole = keeps_envelope(tool)
    rules = tool.rules
    if whole and not rules:  # an agent answers its own envelope (on failure too): keep it whole
        return Decision(data if _is_envelope(data) else found, None)
    ruled = {**ctx, "output": found, "attempt": attempt}
    for i, rule in enumerate(rules):
        if not truthy(rule.when, ruled, f"{where}.tool.spec.policy.rules[{i}].when"):
            continue
        then = rule.then
        for key, value in (then.set or {}).items():
            assign(key, render(value, ruled, f"{where}.tool.spec.policy.rules[{i}].then.set.{key}"))
        if then.do == "retry" and attempt < then.attempts:
            return Decision(data, error, policy_delay(then, attempt))
        if then.do in ("fail", "retry"):
            return Decision(None, error or ErrorInfo.of(ErrorCode.POLICY_FAILED, f"{where}: policy rule {i} failed the step"))
        jump = str(then.to) if then.do == "jump" else None
        if whole and _is_envelope(data):
            return Decision(data, None, jump=jump)
        return Decision(found if error is not None or whole else data, None, jump=jump)
    return None


def keeps_envelope(tool: ToolSpec) -> bool:
    """`output: {envelope: true}`: the tool's outcome is the step's output, a failure included."""
    return bool(tool.output and (tool.output.model_extra or {}).get("envelope"))


def _is_envelope(data: Any) -> bool:
    return isinstance(data, dict) and "status" in data and "framework" in data


def failure_route(step: Step, failed: dict[str, Any], context: Callable[[dict[str, Any]], dict[str, Any]],
                  truthy: Truthy) -> tuple[int, str] | None:
    """(index of the arc a failed step continues along, the event name it matched), or None (the
    failure ends the run)."""
    if step.next is None or not any(isinstance(a.when, str) for a in step.next.arcs):
        return None
    if (failed.get("error") or {}).get("code") in ENDS_THE_RUN:
        return None
    for name in ("step.failed", "call.error"):
        ctx = context({step.step: failed, "output": failed, "event": {"name": name}})
        for index, arc in enumerate(step.next.arcs):
            if not isinstance(arc.when, str):
                continue
            try:
                if truthy(arc.when, ctx, f"{step.step}.next.when"):
                    return index, name
            except Failure:
                continue  # a condition written for success (e.g. on output.data) does not match
    return None


def admitted(step: Step, ctx: dict[str, Any], truthy: Truthy) -> bool:
    assert step.spec is not None
    for i, rule in enumerate(step.spec.admit_rules):
        if truthy(rule.when, ctx, f"{step.step}.spec.policy.admit.rules[{i}].when"):
            return rule.allows
    return True
