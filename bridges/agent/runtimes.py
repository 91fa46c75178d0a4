"""Building the runtime a Python agent step talks to, and keeping it.

`entrypoint_mode: callable`: the entrypoint is the runtime. `factory` (the default): the
entrypoint is called with `entrypoint_args` (a class is instantiated, a function called; async
factories awaited, sync ones run in a worker thread) and what it returns is the runtime; an
entrypoint that already is a runtime of the framework (a LangChain Runnable, an ADK agent) or is
not callable at all is used as it is. The framework may then adapt it (ADK wraps an agent in a
Runner with an in-memory session service).

A built runtime is kept for the kind's life, per framework, entrypoint, mode and entrypoint_args:
a factory is a constructor, not a per-call hook. That is what lets an ADK session continue across
calls (the runner and its session service survive), and it spares rebuilding chains and agents on
every call. Concurrent first calls build once (a lock per key). A build that fails is not kept, so
the next call tries again. `aclose()` closes what the runtimes hold (ADK runners).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from bridges.agent.config import AgentConfig
from bridges.callables import argument_problems, call, describe, signature_of
from bridges.entrypoints import exception_details, import_entrypoint
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode

log = logging.getLogger("agenthub.agent")


class RuntimeAdapter(Protocol):
    """What a framework tells the cache about its runtimes."""

    def is_runtime(self, obj: Any) -> bool:
        """True for an object that already is a runtime (used as is, even in factory mode)."""
        ...

    async def adapt(self, obj: Any, config: AgentConfig) -> Any:
        """The runtime to keep for `obj` (e.g. a Runner for an agent); raises INVALID_RUNTIME."""
        ...


class Runtimes:
    """The runtimes built so far, by key; owned by one agent kind instance."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def key(config: AgentConfig) -> str:
        return json.dumps(
            [config.runtime, config.entrypoint, config.entrypoint_mode, config.entrypoint_args],
            sort_keys=True, default=repr,
        )

    async def get(self, config: AgentConfig, adapter: RuntimeAdapter) -> Any:
        key = self.key(config)
        if key in self._built:
            return self._built[key]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._built:
                target = await asyncio.to_thread(import_entrypoint, config.entrypoint)
                runtime = await self._build(target, config, adapter)
                self._built[key] = await adapter.adapt(runtime, config)
        return self._built[key]

    async def _build(self, target: Any, config: AgentConfig, adapter: RuntimeAdapter) -> Any:
        if config.entrypoint_mode == "callable" or adapter.is_runtime(target) or not callable(target):
            if config.entrypoint_args and config.entrypoint_mode == "factory":
                raise Failure.of(
                    ErrorCode.INVALID_ENTRYPOINT_ARGS,
                    f"{config.entrypoint} is not a factory (it is a {type(target).__name__}), "
                    "so entrypoint_args cannot be passed to it",
                )
            return target
        signature = signature_of(target)
        if signature is not None and (problems := argument_problems(signature, config.entrypoint_args)):
            raise Failure.of(
                ErrorCode.INVALID_ENTRYPOINT_ARGS,
                f"entrypoint_args do not fit the factory {describe(target, signature)}: {'; '.join(problems)}",
            )
        try:
            return await call(target, kwargs=config.entrypoint_args)
        except Failure:
            raise
        except Exception as exc:
            raise Failure.of(
                ErrorCode.AGENT_FACTORY_ERROR,
                f"the factory {config.entrypoint} raised {type(exc).__name__}: {exc}",
                details=exception_details(exc),
            ) from None

    async def aclose(self) -> None:
        """Close every kept runtime that can be closed (`aclose()` or `close()`, sync or async)."""
        built, self._built = list(self._built.values()), {}
        for runtime in built:
            closer: Callable[[], Any] | None = getattr(runtime, "aclose", None) or getattr(runtime, "close", None)
            if not callable(closer):
                continue
            try:
                result = closer()
                if inspect.isawaitable(result):
                    await result
            except Exception:  # closing is best effort; one bad runtime must not keep others open
                log.exception("closing agent runtime %r failed", type(runtime).__name__)


def resolve_method(runtime: Any, invoke_method: str | None, candidates: tuple[str, ...]) -> Callable[..., Any]:
    """`invoke_method` of the runtime, or the first of `candidates` it has (`__call__`: the runtime
    itself, when callable); INVALID_INVOKE_METHOD otherwise."""
    what = type(runtime).__name__
    if invoke_method is not None:
        method = getattr(runtime, invoke_method, None)
        if not callable(method):
            raise Failure.of(ErrorCode.INVALID_INVOKE_METHOD, f"the {what} runtime has no method {invoke_method!r}")
        return method
    for name in candidates:
        if name == "__call__":
            if callable(runtime):
                return runtime
            continue
        method = getattr(runtime, name, None)
        if callable(method):
            return method
    raise Failure.of(
        ErrorCode.INVALID_INVOKE_METHOD,
        f"the {what} runtime has none of the methods {', '.join(candidates)}; name one with invoke_method",
    )
