"""The optional packages of the agent frameworks, imported only when a step needs them.

google-adk and langchain-core are extras (`pip install 'agenthub[adk]'`, `'agenthub[langchain]'`).
Nothing under `bridges.agent` imports them at module import: the kind calls `require(framework)`
when an adk or langchain step runs, and only then imports the framework's module here. A missing
package is an `agent.dependency` error FRAMEWORK_NOT_INSTALLED naming the extra to install; every
other framework, step kind and playbook works unchanged.
"""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass

from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode


@dataclass(frozen=True)
class OptionalFramework:
    framework: str
    module: str
    """The module whose import proves the package is there."""
    package: str
    extra: str

    @property
    def install(self) -> str:
        return f"pip install 'agenthub[{self.extra}]'"


OPTIONAL = {
    "adk": OptionalFramework("adk", "google.adk", "google-adk", "adk"),
    "langchain": OptionalFramework("langchain", "langchain_core", "langchain-core", "langchain"),
}


def installed(framework: str) -> bool:
    """Whether the framework's optional package imports (importing it as a side effect)."""
    needed = OPTIONAL.get(framework)
    if needed is None:
        return True
    try:
        importlib.import_module(needed.module)
    except ImportError:
        return False
    return True


async def require(framework: str) -> None:
    """Import the framework's package off the event loop (google.adk takes a while), or raise
    FRAMEWORK_NOT_INSTALLED naming the extra."""
    needed = OPTIONAL.get(framework)
    if needed is None:
        return
    if not await asyncio.to_thread(installed, framework):
        raise Failure.of(
            ErrorCode.FRAMEWORK_NOT_INSTALLED,
            f"framework {framework!r} needs {needed.package}, which is not installed: {needed.install}",
            details={"package": needed.package, "extra": needed.extra, "install": needed.install},
        )
