"""Optional client packages of the data step kinds, imported only when a step of that kind runs.

psycopg (`postgres`), duckdb (`duckdb`) and nats-py (`nats`) are extras. No module of `bridges/`
imports them at import time: a kind calls `require_extra(...)` inside `run`, so a hub without the
package loads every playbook and runs every other kind; only the step that needs it fails, with an
`agent.dependency` envelope EXTRA_NOT_INSTALLED that names the extra to install.
"""

from __future__ import annotations

import asyncio
import importlib
from types import ModuleType

from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode


def _import(module: str) -> ModuleType | None:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


async def require_extra(kind: str, module: str, package: str, extra: str) -> ModuleType:
    """The imported `module` (imported off the event loop: native clients take a moment), or an
    EXTRA_NOT_INSTALLED failure naming `pip install 'agenthub[<extra>]'`."""
    found = await asyncio.to_thread(_import, module)
    if found is None:
        install = f"pip install 'agenthub[{extra}]'"
        raise Failure.of(
            ErrorCode.EXTRA_NOT_INSTALLED,
            f"tool kind {kind!r} needs {package}, which is not installed: {install}",
            details={"package": package, "extra": extra, "install": install},
        )
    return found
