"""`tool.kind: python`: call a `module:function`, or a `main` defined in inline `code`.

The rendered step `input` becomes keyword arguments. Coroutine functions are awaited on the loop;
plain functions run in a worker thread so a slow or blocking function never stalls other runs.
Generators (sync or async) are drained into a list. Import problems are told apart: a module that
does not exist is ENTRYPOINT_NOT_FOUND, a module whose own imports are missing is
MODULE_DEPENDENCY_MISSING (naming the package to install).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
import linecache
import traceback
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.envelope import Failure
from hub.errors import ErrorCode
from hub.steps import StepCall

_TRACEBACK_LINES = 12


class PythonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    function: str | None = Field(default=None, description="`package.module:function`.")
    code: str | None = Field(default=None, description="Inline Python defining `main(**input)`.")

    @model_validator(mode="after")
    def _one_source(self) -> PythonConfig:
        if (self.function is None) == (self.code is None):
            raise ValueError("give exactly one of `function` or `code`")
        if self.function is not None and ":" not in self.function:
            raise ValueError("`function` must look like 'package.module:function'")
        return self


class PythonKind:
    name = "python"
    config_model = PythonConfig
    raw_fields = frozenset({"code"})
    default_retry = None
    deadline_aware = False

    def __init__(self) -> None:
        self._functions: dict[str, Callable[..., Any]] = {}

    async def run(self, call: StepCall) -> Any:
        config = call.config
        assert isinstance(config, PythonConfig)
        fn = await self._resolve(config)
        _check_signature(fn, call.input)
        try:
            if inspect.iscoroutinefunction(fn):
                result = await fn(**call.input)
            elif inspect.isasyncgenfunction(fn):
                result = [item async for item in fn(**call.input)]
            else:
                result = await asyncio.to_thread(_call_and_drain, fn, call.input)
            if inspect.isawaitable(result):
                result = await result
        except Failure:
            raise
        except Exception as exc:
            raise _python_error(exc) from None
        return result

    async def _resolve(self, config: PythonConfig) -> Callable[..., Any]:
        key = config.function or "code:" + hashlib.sha256(str(config.code).encode()).hexdigest()
        fn = self._functions.get(key)
        if fn is None:
            if config.function is not None:
                fn = await asyncio.to_thread(_import_function, config.function)
            else:
                fn = _compile_inline(str(config.code))
            self._functions[key] = fn
        return fn


def _call_and_drain(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    result = fn(**kwargs)
    if inspect.isgenerator(result):
        return list(result)
    return result


def _import_function(ref: str) -> Callable[..., Any]:
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == module_name or module_name.startswith(missing + "."):
            raise Failure.of(ErrorCode.ENTRYPOINT_NOT_FOUND, f"module {module_name!r} not found") from None
        package = missing.split(".")[0]
        raise Failure.of(
            ErrorCode.MODULE_DEPENDENCY_MISSING,
            f"module {module_name!r} needs {package!r}, which is not installed (pip install {package})",
            details={"package": package},
        ) from None
    except Exception as exc:
        raise Failure.of(
            ErrorCode.ENTRYPOINT_NOT_FOUND,
            f"importing {module_name!r} failed: {type(exc).__name__}: {exc}",
            details=_exception_details(exc),
        ) from None
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise Failure.of(
                ErrorCode.ENTRYPOINT_NOT_FOUND, f"module {module_name!r} has no attribute {attr!r}"
            ) from None
    if not callable(target):
        raise Failure.of(ErrorCode.ENTRYPOINT_NOT_FOUND, f"{ref!r} is not callable")
    return target


def _compile_inline(code: str) -> Callable[..., Any]:
    filename = f"<inline python step {hashlib.sha256(code.encode()).hexdigest()[:12]}>"
    # tracebacks show the inline source lines (the troubleshoot agent reads them)
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": "agenthub_inline"}
    try:
        exec(compile(code, filename, "exec"), namespace)
    except Exception as exc:
        raise Failure.of(
            ErrorCode.STEP_CONFIG_INVALID,
            f"inline code does not load: {type(exc).__name__}: {exc}",
            details=_exception_details(exc),
        ) from None
    main = namespace.get("main")
    if not callable(main):
        raise Failure.of(ErrorCode.STEP_CONFIG_INVALID, "inline code must define a function `main`")
    return main


def _check_signature(fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    """Name every unknown and every missing argument before calling (not just the first)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: let the call decide
        return
    params = signature.parameters.values()
    named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    unknown = [] if takes_any else sorted(set(kwargs) - named)
    missing = [
        p.name for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.default is p.empty and p.name not in kwargs
    ]
    positional_only = [p.name for p in params if p.kind is p.POSITIONAL_ONLY and p.default is p.empty]
    problems = [f"unknown argument {n!r}" for n in unknown]
    problems += [f"missing argument {n!r}" for n in missing + positional_only]
    if problems:
        name = getattr(fn, "__qualname__", repr(fn))
        raise Failure.of(
            ErrorCode.STEP_CONFIG_INVALID, f"step input does not fit {name}{signature}: {'; '.join(problems)}"
        )


def _exception_details(exc: BaseException) -> dict[str, Any]:
    lines = traceback.format_exception(exc)
    tail = "".join(lines).splitlines()[-_TRACEBACK_LINES:]
    return {"exception_type": type(exc).__name__, "traceback": tail}


def _python_error(exc: Exception) -> Failure:
    return Failure.of(
        ErrorCode.PYTHON_ERROR, f"{type(exc).__name__}: {exc}", details=_exception_details(exc)
    )
