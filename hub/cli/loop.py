"""The event loop the `agenthub` command runs on: uvloop where installed (the `speed` extra), else
asyncio's own. uvloop's loop and httptools' parser (which uvicorn picks up by itself when installed)
take a share of the per-call CPU off the hub; `AGENTHUB_LOOP=asyncio` turns uvloop off, e.g. to
compare or to rule it out while debugging."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory when it is installed and not turned off; None means asyncio's."""
    if os.environ.get("AGENTHUB_LOOP", "auto") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the loop `loop_factory()` picks."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
