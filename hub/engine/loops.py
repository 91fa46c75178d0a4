"""Running a step's body once per item of its `loop.in`: in order, or side by side with at most
`max_in_flight` at a time. Each iteration sees the item under the iterator's name, `iter.<name>`
(NoETL's spelling; `set: {iter.k: ...}` writes there for that iteration only), `loop_index`, and
`loop.index/first/last/length`. The first failure stops the loop (parallel ones are cancelled)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from catalog.model import LoopSpec

RunBody = Callable[[dict[str, Any], int], Awaitable[Any]]
"""run(extra names, iteration index) -> the iteration's output."""


def iteration_names(loop: LoopSpec, index: int, item: Any, count: int) -> dict[str, Any]:
    facts = {"index": index, "first": index == 0, "last": index == count - 1, "length": count}
    scope = {loop.iterator: item, "index": index}
    return {loop.iterator: item, "loop": facts, "iter": scope, "loop_index": index}


async def run_loop(loop: LoopSpec, items: Sequence[Any], run: RunBody, failure: type[BaseException]) -> list[Any]:
    """Outputs in item order; `failure` is the exception type a failed iteration raises."""
    count = len(items)
    if loop.mode == "sequential":
        return [await run(iteration_names(loop, i, it, count), i) for i, it in enumerate(items)]
    gate = asyncio.Semaphore(loop.max_in_flight)

    async def one(i: int, item: Any) -> Any:
        async with gate:
            return await run(iteration_names(loop, i, item, count), i)

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(i, it)) for i, it in enumerate(items)]
    except* failure as failures:
        raise failures.exceptions[0] from None
    return [t.result() for t in tasks]
