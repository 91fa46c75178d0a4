"""`tool.kind: python`: call a `module:function`, or a `main` defined in inline `code`, or run
inline `code` as a module that sets `result` (NoETL's contract: see `bridges.python_module`).

The rendered step `input` becomes keyword arguments. Coroutine functions are awaited on the loop;
plain functions run in a worker thread so a slow or blocking function never stalls other runs.
Generators (sync or async) are drained into a list. Import problems are told apart: a module that
does not exist is ENTRYPOINT_NOT_FOUND, a module whose own imports are missing is
MODULE_DEPENDENCY_MISSING (naming the package to install). Importing and calling are shared with
the agent frameworks (`bridges.entrypoints`, `bridges.callables`).
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import linecache
from collections.abc import Callable
from types import CodeType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridges.callables import argument_problems, describe, signature_of
from bridges.callables import call as call_function
from bridges.entrypoints import exception_details, import_entrypoint
from bridges.python_module import Libs, compile_module, import_libs, run_module, sets_result
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall


_FITTING_KEPT = 4096
"""Checked (function, argument names) pairs kept at most; past it the set starts over."""


class PythonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    function: str | None = Field(default=None, description="`package.module:function`.")
    code: str | None = Field(
        default=None, description="Inline Python defining `main(**input)`, or setting a module-level `result`."
    )
    input: dict[str, Any] = Field(default_factory=dict, description="Globals of inline code (rendered).")
    args: dict[str, Any] = Field(default_factory=dict, description="Older name of `input`; merged into it.")
    libs: Libs = Field(default_factory=dict, description="`{alias: module}` (or `{from, import}`) made global.")

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
        self._functions: dict[str, tuple[Callable[..., Any], inspect.Signature | None]] = {}
        self._fitting: set[tuple[str, frozenset[str]]] = set()
        """(function key, argument names) calls already checked against the signature."""
        self._modules: dict[str, CodeType] = {}
        self._module_form: dict[str, bool] = {}
        """Whether inline code sets `result` (NoETL's module form), by code: parsed once."""

    async def run(self, call: StepCall) -> Any:
        config = call.config
        assert isinstance(config, PythonConfig)
        if config.code is not None and (config.input or config.args or config.libs or self._sets_result(config.code)):
            return await self._run_module(config, call)
        key = config.function or "code:" + str(config.code)
        fn, signature = self._functions.get(key) or await self._resolve(config)
        fits = (key, frozenset(call.input))
        if fits not in self._fitting:  # the same names fit the same function every time
            _check_signature(fn, signature, call.input)
            if len(self._fitting) >= _FITTING_KEPT:
                self._fitting.clear()
            self._fitting.add(fits)
        try:
            result = await call_function(fn, kwargs=call.input)
        except Failure:
            raise
        except Exception as exc:
            raise _python_error(exc) from None
        return result

    def _sets_result(self, code: str) -> bool:
        found = self._module_form.get(code)
        if found is None:
            found = self._module_form[code] = sets_result(code)
        return found

    async def _run_module(self, config: PythonConfig, call: StepCall) -> Any:
        code = self._modules.get(str(config.code))
        if code is None:
            code = self._modules[str(config.code)] = compile_module(str(config.code))
        names = {**config.args, **config.input}
        namespace = {"__name__": "agenthub_inline", **import_libs(config.libs), **names}
        namespace = await asyncio.to_thread(run_module, code, namespace)
        if "result" in namespace:
            return namespace["result"]
        main = namespace.get("main")
        if not callable(main):
            raise Failure.of(ErrorCode.STEP_CONFIG_INVALID, "inline code must set `result` or define a function `main`")
        signature = signature_of(main)
        wanted = set(signature.parameters) if signature is not None else set()
        kwargs = {**{k: v for k, v in names.items() if k in wanted}, **call.input}
        _check_signature(main, signature, kwargs)
        try:
            return await call_function(main, kwargs=kwargs)
        except Failure:
            raise
        except Exception as exc:
            raise _python_error(exc) from None

    async def _resolve(self, config: PythonConfig) -> tuple[Callable[..., Any], inspect.Signature | None]:
        """The function and its signature, imported or compiled once per hub."""
        key = config.function or "code:" + str(config.code)
        found = self._functions.get(key)
        if found is None:
            if config.function is not None:
                fn = await asyncio.to_thread(_import_function, config.function)
            else:
                fn = _compile_inline(str(config.code))
            found = self._functions[key] = (fn, signature_of(fn))
        return found


def _import_function(ref: str) -> Callable[..., Any]:
    target = import_entrypoint(ref)
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
            details=exception_details(exc),
        ) from None
    main = namespace.get("main")
    if not callable(main):
        raise Failure.of(ErrorCode.STEP_CONFIG_INVALID, "inline code must define a function `main`")
    return main


def _check_signature(fn: Callable[..., Any], signature: inspect.Signature | None, kwargs: dict[str, Any]) -> None:
    """Name every unknown and every missing argument before calling (not just the first)."""
    if signature is None:  # builtins without a signature: let the call decide
        return
    problems = argument_problems(signature, kwargs)
    if problems:
        raise Failure.of(
            ErrorCode.STEP_CONFIG_INVALID, f"step input does not fit {describe(fn, signature)}: {'; '.join(problems)}"
        )


def _python_error(exc: Exception) -> Failure:
    return Failure.of(
        ErrorCode.PYTHON_ERROR, f"{type(exc).__name__}: {exc}", details=exception_details(exc)
    )
