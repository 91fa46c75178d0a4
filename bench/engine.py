"""Engine overhead: a 10-step playbook through the hub versus the same functions called directly.

Prints one JSON line. The hub side is the whole path an `agenthub run` takes inside the process:
argument validation, template rendering, step dispatch, events batched into a real SQLite store
(WAL) and the final record. Figures from one run only compare with each other.

    python bench/engine.py [--runs 300] [--sync]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# bench/ goes last on the path: its mcp.py must not hide the `mcp` SDK package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(BENCH.parent))
sys.path.append(str(BENCH))

import steps  # noqa: E402  (bench/steps.py)

from hub.app import Hub  # noqa: E402
from hub.config import HubConfig  # noqa: E402


def playbook(sync: bool) -> str:
    fn = "steps:add_one" if sync else "steps:add_one_async"
    body = []
    for i in range(10):
        nxt = f"\n    next: s{i + 1}" if i < 9 else ""
        if i % 2 == 0:
            body.append(f"  - step: s{i}\n    tool: {{kind: noop}}\n    input: {{n: \"{{{{ n }}}}\"}}{nxt}")
        else:
            body.append(
                f"  - step: s{i}\n    tool: {{kind: python, function: \"{fn}\"}}\n"
                f"    input: {{n: \"{{{{ n }}}}\"}}\n    set: {{n: \"{{{{ output }}}}\"}}{nxt}"
            )
    return (
        "apiVersion: agenthub/v1\nkind: Playbook\nmetadata: {name: ten_steps}\n"
        "input:\n  n: {type: integer, default: 0}\nresult: \"{{ n }}\"\nworkflow:\n" + "\n".join(body) + "\n"
    )


async def direct(runs: int, sync: bool) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        n = 0
        for i in range(10):
            if i % 2 == 0:
                continue  # noop
            n = steps.add_one(n) if sync else await steps.add_one_async(n)
        assert n == 5
    return time.perf_counter() - started


async def through_hub(runs: int, sync: bool, workdir: Path) -> float:
    catalog = workdir / "catalog"
    catalog.mkdir()
    (catalog / "ten_steps.yaml").write_text(playbook(sync))
    async with Hub(HubConfig(catalog=catalog, db=workdir / "bench.db")) as hub:
        warm = await hub.engine.run("ten_steps", {})
        assert warm.ok and warm.data == 5, warm
        started = time.perf_counter()
        for _ in range(runs):
            env = await hub.engine.run("ten_steps", {})
            assert env.ok and env.data == 5, env
        took = time.perf_counter() - started
        await hub.store.flush()
    return took


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--sync", action="store_true", help="sync python steps (run in a worker thread)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        hub_s = await through_hub(args.runs, args.sync, Path(tmp))
    direct_s = await direct(args.runs * 20, args.sync) / 20
    print(json.dumps({
        "bench": "engine",
        "steps": 10,
        "python_steps": "sync (thread)" if args.sync else "async",
        "runs": args.runs,
        "hub_executions_per_s": round(args.runs / hub_s, 1),
        "direct_executions_per_s": round(args.runs / direct_s, 1),
        "hub_ms_per_execution": round(hub_s / args.runs * 1000, 3),
        "hub_us_per_step": round(hub_s / args.runs / 10 * 1e6, 1),
        "ratio_direct_over_hub": round(hub_s / direct_s, 1),
    }))


if __name__ == "__main__":
    asyncio.run(main())
