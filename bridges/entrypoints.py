"""Finding the Python object a step names: `package.module:attr` (the attribute may be dotted).

Shared by `python` steps and the Python agent frameworks, so an import problem reads the same
everywhere and names what to fix: a module that does not exist, or has no such attribute, is
ENTRYPOINT_NOT_FOUND; a module that exists but whose own imports are missing is
MODULE_DEPENDENCY_MISSING, naming the package to install; any other exception while importing is
ENTRYPOINT_NOT_FOUND with the exception and the tail of its traceback (the troubleshoot agent reads
it). Importing runs module code, so callers do it off the event loop (`asyncio.to_thread`).
"""

from __future__ import annotations

import importlib
import re
import traceback
from typing import Any

from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode

ENTRYPOINT_RE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*\Z")
"""`package.module:attr` or `package.module:Class.attr`."""
TRACEBACK_LINES = 12


def is_entrypoint(ref: str) -> bool:
    return bool(ENTRYPOINT_RE.match(ref))


def import_entrypoint(ref: str) -> Any:
    """The object `ref` names; raises `Failure` (never ImportError) when it cannot be had."""
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
            details=exception_details(exc),
        ) from None
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise Failure.of(
                ErrorCode.ENTRYPOINT_NOT_FOUND, f"module {module_name!r} has no attribute {attr!r}"
            ) from None
    return target


def exception_details(exc: BaseException) -> dict[str, Any]:
    """`exception_type` and the last lines of the traceback, for `ErrorInfo.details`."""
    lines = traceback.format_exception(exc)
    tail = "".join(lines).splitlines()[-TRACEBACK_LINES:]
    return {"exception_type": type(exc).__name__, "traceback": tail}
