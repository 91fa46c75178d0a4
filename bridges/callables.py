"""Calling arbitrary Python callables from the engine: fitting arguments to a signature, and
running the call without stalling the event loop.

Shared by `python` steps and the agent frameworks. Two ideas live here:

- **Fitting.** `argument_problems` names every unknown and every missing argument before a call
  (not just the first, as a TypeError would). `plan_call` decides how an agent payload reaches a
  callable: a mapping whose keys fit the signature is spread as keyword arguments; otherwise the
  whole payload goes to one input-like parameter (`input`, `payload`, `state`, `request`,
  `message`, ... in that order of preference); a payload that is not a mapping may also go to the
  callable's only parameter. Anything else is a `PlanError` that says what does not fit. Keys are
  never silently dropped: a typo must not become a default. And a mapping is not passed whole
  when some of its keys name parameters (the author meant to spread it and got a key wrong), nor
  to a parameter annotated `str`.
- **Calling.** `call` awaits coroutine functions on the loop, runs plain functions in a worker
  thread (a slow or blocking agent never stalls other runs), and drains generators (sync ones in
  the thread, async ones on the loop) into a list. A sync function that returns an awaitable or an
  async generator gets it awaited or drained too.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

INPUT_LIKE = (
    "input", "payload", "state", "request", "message", "query", "inputs", "messages",
    "new_message", "new_input", "content", "prompt",
)
"""Parameter names that take a whole payload, in order of preference."""

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def signature_of(fn: Callable[..., Any]) -> inspect.Signature | None:
    """The signature, or None for callables that have none (some builtins and C extensions)."""
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def argument_problems(signature: inspect.Signature, kwargs: Mapping[str, Any]) -> list[str]:
    """Every unknown and every missing argument of a call with `kwargs` only."""
    params = signature.parameters.values()
    named = {p.name for p in params if p.kind in _NAMED}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    unknown = [] if takes_any else sorted(set(kwargs) - named)
    missing = [p.name for p in params if p.kind in _NAMED and p.default is p.empty and p.name not in kwargs]
    positional_only = [p.name for p in params if p.kind is p.POSITIONAL_ONLY and p.default is p.empty]
    problems = [f"unknown argument {n!r}" for n in unknown]
    problems += [f"missing argument {n!r}" for n in missing + positional_only]
    return problems


def describe(fn: Callable[..., Any], signature: inspect.Signature | None = None) -> str:
    """`name(signature)` for messages."""
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    return f"{name}{signature if signature is not None else '(...)'}"


class PlanError(Exception):
    """The payload does not fit the callable; the message says how."""


@dataclass(frozen=True)
class CallPlan:
    """How to call: positional and keyword arguments, and which rule chose them (for messages)."""

    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    rule: str = "spread"


def plan_call(fn: Callable[..., Any], payload: Any, extra: Mapping[str, Any] | None = None) -> CallPlan:
    """Map `payload` (plus `extra` keyword arguments, which win over payload keys) onto `fn`.

    1. No payload: `fn(**extra)`.
    2. A mapping payload whose keys (with `extra`) fit the signature: `fn(**payload, **extra)`.
    3. An input-like parameter not named by `extra`: `fn(<param>=payload, **extra)`.
    4. A non-mapping payload and exactly one parameter left to fill: that parameter.
    A callable without a signature gets `fn(payload, **extra)`.
    """
    extra = dict(extra or {})
    signature = signature_of(fn)
    if payload is None:
        if signature is not None and (problems := argument_problems(signature, extra)):
            raise PlanError(f"{describe(fn, signature)} cannot be called without a payload: {'; '.join(problems)}")
        return CallPlan(kwargs=extra, rule="no payload")
    if signature is None:
        return CallPlan(args=(payload,), kwargs=extra, rule="positional")
    spread_problems: list[str] = []
    if isinstance(payload, Mapping) and all(isinstance(k, str) for k in payload):
        merged = {**payload, **extra}
        spread_problems = argument_problems(signature, merged)
        if not spread_problems:
            return CallPlan(kwargs=merged, rule="spread")
    params = signature.parameters
    aimed = isinstance(payload, Mapping) and bool(
        {k for k in payload if k in params and k not in INPUT_LIKE}
    )
    passed_over = ""
    for name in INPUT_LIKE:
        param = params.get(name)
        if param is None or name in extra or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if aimed:
            passed_over = f"its keys name parameters, so it is not passed whole to {name!r}"
            continue
        if _wants_str(param) and not isinstance(payload, str):
            passed_over = f"{name!r} takes a str, not the whole payload"
            continue
        rule = f"whole payload as {name!r}"
        if param.kind is param.POSITIONAL_ONLY:
            plan = CallPlan(args=(payload,), kwargs=extra, rule=rule)
            problems = argument_problems(_without(signature, name), extra)
        else:
            plan = CallPlan(kwargs={name: payload, **extra}, rule=rule)
            problems = argument_problems(signature, plan.kwargs)
        if not problems:
            return plan
        raise PlanError(f"the payload goes to {name!r} of {describe(fn, signature)}, but {'; '.join(problems)}")
    if not isinstance(payload, Mapping):
        open_params = [
            p for p in params.values()
            if p.name not in extra and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
        if len(open_params) == 1:
            only = open_params[0]
            if only.kind is only.POSITIONAL_ONLY:
                return CallPlan(args=(payload,), kwargs=extra, rule=f"payload as {only.name!r}")
            return CallPlan(kwargs={only.name: payload, **extra}, rule=f"payload as {only.name!r}")
        if any(p.kind is p.VAR_POSITIONAL for p in params.values()):
            return CallPlan(args=(payload,), kwargs=extra, rule="positional")
    fit = f": {'; '.join(spread_problems)}" if spread_problems else ""
    if isinstance(payload, Mapping):
        shape = "payload keys do not fit"
    else:
        shape = f"a {type(payload).__name__} payload does not fit"
    whole = passed_over or (
        f"it has no input-like parameter ({', '.join(INPUT_LIKE[:6])}, ...) to take the whole payload"
    )
    raise PlanError(f"{shape} {describe(fn, signature)}{fit}; and {whole}")


def _wants_str(param: inspect.Parameter) -> bool:
    return param.annotation in (str, "str")


def _without(signature: inspect.Signature, name: str) -> inspect.Signature:
    return signature.replace(parameters=[p for p in signature.parameters.values() if p.name != name])


def is_async(fn: Callable[..., Any]) -> bool:
    """A coroutine function, or an object whose class's `__call__` is one."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(_dunder_call(fn))


def is_async_generator(fn: Callable[..., Any]) -> bool:
    return inspect.isasyncgenfunction(fn) or inspect.isasyncgenfunction(_dunder_call(fn))


def _dunder_call(fn: Callable[..., Any]) -> Any:
    """The `__call__` its class defines (a function for instances of Python classes)."""
    return inspect.getattr_static(type(fn), "__call__", None)


async def call(fn: Callable[..., Any], args: tuple[Any, ...] = (), kwargs: Mapping[str, Any] | None = None) -> Any:
    """Call `fn` from the event loop, sync ones in a worker thread; generators drained to lists."""
    kwargs = dict(kwargs or {})
    if inspect.iscoroutinefunction(fn):  # the common case, without looking up `__call__`
        return await settle(await fn(*args, **kwargs))
    if is_async_generator(fn):
        return [item async for item in fn(*args, **kwargs)]
    if is_async(fn):
        result = await fn(*args, **kwargs)
    else:
        result = await asyncio.to_thread(_call_and_drain, fn, args, kwargs)
    return await settle(result)


_PLAIN_RESULTS = frozenset({dict, list, str, int, float, bool, type(None)})
"""Result types that are neither awaitable nor generators (most results: no `inspect` checks)."""


async def settle(result: Any) -> Any:
    """Await an awaitable and drain an async generator a sync call handed back."""
    if type(result) in _PLAIN_RESULTS:
        return result
    if inspect.isawaitable(result):
        result = await result
    if inspect.isasyncgen(result):
        return [item async for item in result]
    return result


def _call_and_drain(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    result = fn(*args, **kwargs)
    if inspect.isgenerator(result):
        return list(result)
    return result
