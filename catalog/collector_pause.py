"""The cyclic garbage collector paused while a catalog load builds its objects.

A load of 10,000 files allocates a few hundred objects per file and frees almost none of them
(they are the served catalog). CPython's collector runs a full collection every time the heap
has grown by a quarter, walking every object the process holds (the imported libraries too):
three of them during an empty-database load of 10,000 playbooks, ~25% of the load's time, and
they find next to nothing to free. Paused for the load, the collector runs again afterwards as
usual; the little cyclic garbage a load leaves (a broken file's exception, say) waits until then.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def collector_paused(function: Callable[P, R]) -> Callable[P, R]:
    """`function` run with the cyclic collector off (and back on after, if it was on)."""

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused
