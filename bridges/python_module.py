"""Inline python written as a module (NoETL's contract): inputs arrive as globals, the module-level
`result` is the output.

`tool: {kind: python, input: {...}, args: {...}, libs: {alias: module}, code: "result = ..."}`.
`input` (and the older `args`) are rendered like any tool field, so caller values reach the code
as data bound to names, never as code text. `libs` imports modules under an alias (`{m: math}`,
or `{dt: {from: datetime, import: datetime}}`). The code is compiled once and executed per call in
a fresh namespace, in a worker thread. If it sets no `result` but defines `main`, `main` is called
(with the step input, and the globals its signature names) as for the hub's own inline form.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import linecache
from types import CodeType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bridges.entrypoints import exception_details
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode


class FromImport(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from")
    import_: str = Field(alias="import")


Libs = dict[str, str | FromImport]


def sets_result(code: str) -> bool:
    """True when the module assigns `result` at top level (NoETL's contract)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        if any(isinstance(t, ast.Name) and t.id == "result" for t in targets):
            return True
        if isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)) and "result" in {
            n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
        }:
            return True
    return False


def compile_module(code: str) -> CodeType:
    filename = f"<inline python step {hashlib.sha256(code.encode()).hexdigest()[:12]}>"
    # tracebacks show the inline source lines (the troubleshoot agent reads them)
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        return compile(code, filename, "exec")
    except SyntaxError as exc:
        raise Failure.of(
            ErrorCode.STEP_CONFIG_INVALID, f"inline code does not load: SyntaxError: {exc}",
            details=exception_details(exc),
        ) from None


def import_libs(libs: Libs) -> dict[str, Any]:
    """`{alias: module}` as imported objects; a missing one is MODULE_DEPENDENCY_MISSING."""
    found: dict[str, Any] = {}
    for alias, spec in libs.items():
        module_name = spec if isinstance(spec, str) else spec.from_
        try:
            module = importlib.import_module(module_name)
            found[alias] = module if isinstance(spec, str) else getattr(module, spec.import_)
        except ImportError as exc:
            raise Failure.of(
                ErrorCode.MODULE_DEPENDENCY_MISSING,
                f"libs.{alias}: cannot import {module_name!r}: {exc}; install it where the hub runs",
            ) from None
        except AttributeError:
            raise Failure.of(
                ErrorCode.STEP_CONFIG_INVALID, f"libs.{alias}: {module_name!r} has no {spec.import_!r}"  # type: ignore[union-attr]
            ) from None
    return found


def run_module(code: CodeType, namespace: dict[str, Any]) -> dict[str, Any]:
    """Execute the module in `namespace` (blocking: call it from a worker thread)."""
    try:
        exec(code, namespace)
    except Exception as exc:
        raise Failure.of(
            ErrorCode.PYTHON_ERROR, f"{type(exc).__name__}: {exc}", details=exception_details(exc)
        ) from None
    return namespace
