"""Executions/s and latency of a 3-step playbook: embedded vs a cluster of 1 and 2 workers.

Every setup is driven the same way, over REST (`POST /api/executions`, waiting for the envelope)
from one asyncio client with `--concurrency` calls in flight, so the only difference is where the
run happens:

- embedded: `agenthub serve` on SQLite, the run in the serving process (the default);
- cluster, 1 and 2 workers: `agenthub serve --db postgresql://... --queue nats://...` as the front
  end and `agenthub worker` processes, each setup on a fresh database and stream prefix.

The queue hop is the difference of the sequential (concurrency 1) p50 latencies, cluster with one
worker minus embedded: record as pending, publish, a worker pulls, claims, runs, flushes after
every step, publishes the result. Needs PostgreSQL and NATS (see tests/services.py). Prints a
table, then one JSON line. Figures from one run only compare with each other.

    python bench/cluster.py [--runs 200] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.cluster.cluster_support import SERVING, Cluster, delete_stream  # noqa: E402
from tests.services import postgres_database, unique  # noqa: E402

THREE_STEPS = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: three, path: bench/three, description: Three small steps.}
input: {n: {type: integer, default: 0}}
workflow:
  - step: one
    tool: {kind: noop}
    result: "{{ n + 1 }}"
    next: two
  - step: two
    tool:
      kind: python
      code: |
        async def main(x):
            return x * 2
    input: {x: "{{ n }}"}
    next: three
  - step: three
    tool: {kind: noop}
    result: {n: "{{ n }}", doubled: "{{ two }}"}
"""


async def drive(base: str, runs: int, concurrency: int) -> dict[str, float]:
    """`runs` executions with `concurrency` in flight; throughput and latency percentiles (ms)."""
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=httpx.Limits(max_connections=concurrency + 4)) as api:
        # warm up: imports, connections, the first catalog look-up
        for n in range(3):
            (await api.post("/api/executions", json={"playbook": "bench/three", "arguments": {"n": n}})).raise_for_status()

        async def one(n: int) -> None:
            async with gate:
                t0 = time.perf_counter()
                response = await api.post("/api/executions", json={"playbook": "bench/three", "arguments": {"n": n}})
                latencies.append(time.perf_counter() - t0)
            body = response.json()
            if response.status_code != 200 or body.get("status") != "ok":
                raise RuntimeError(f"run {n} failed: {response.status_code} {body}")

        t0 = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(runs)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "executions_per_s": round(runs / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
    }


async def measure(cluster: Cluster, runs: int, concurrency: int) -> dict[str, Any]:
    front = next(n for n in cluster.nodes if n.url)
    base = front.url.removesuffix("/mcp")
    return {"sequential": await drive(base, max(20, runs // 5), 1), "concurrent": await drive(base, runs, concurrency)}


async def embedded(tmp: Path, catalog: Path, runs: int, concurrency: int) -> dict[str, Any]:
    cluster = Cluster(tmp, catalog, str(tmp / "embedded.db"), "unused")
    env = {k: v for k, v in cluster.env().items() if not k.startswith("AGENTHUB_QUEUE")}
    env["AGENTHUB_DB"] = str(tmp / "embedded.db")
    try:
        await asyncio.to_thread(cluster._start, "embedded", ["serve", "--port", "0"], SERVING, env)
        return await measure(cluster, runs, concurrency)
    finally:
        cluster.stop()


async def clustered(tmp: Path, catalog: Path, workers: int, runs: int, concurrency: int) -> dict[str, Any]:
    prefix = unique("ahbench").replace("_", "-")
    async with postgres_database() as dsn:
        cluster = Cluster(tmp, catalog, dsn, prefix)
        try:
            await asyncio.to_thread(cluster.front_end, f"front{workers}")
            for i in range(workers):
                await asyncio.to_thread(cluster.worker, f"worker{workers}-{i}", "--max-concurrent", str(concurrency))
            return await measure(cluster, runs, concurrency)
        finally:
            cluster.stop()
            await delete_stream(prefix)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agenthub-bench-") as tmp_name:
        tmp = Path(tmp_name)
        catalog = tmp / "catalog"
        catalog.mkdir()
        (catalog / "three.yaml").write_text(THREE_STEPS.lstrip(), encoding="utf-8")
        results = {
            "embedded": await embedded(tmp, catalog, args.runs, args.concurrency),
            "cluster_1_worker": await clustered(tmp, catalog, 1, args.runs, args.concurrency),
            "cluster_2_workers": await clustered(tmp, catalog, 2, args.runs, args.concurrency),
        }
    hop = results["cluster_1_worker"]["sequential"]["p50_ms"] - results["embedded"]["sequential"]["p50_ms"]
    print(f"3-step playbook over REST, {args.runs} runs at concurrency {args.concurrency} "
          f"(sequential: concurrency 1)")
    print(f"{'setup':<20} {'exec/s':>8} {'p50 ms':>8} {'p99 ms':>8} | {'seq exec/s':>10} {'seq p50':>8} {'seq p99':>8}")
    for name, figures in results.items():
        c, s = figures["concurrent"], figures["sequential"]
        print(f"{name:<20} {c['executions_per_s']:>8} {c['p50_ms']:>8} {c['p99_ms']:>8} | "
              f"{s['executions_per_s']:>10} {s['p50_ms']:>8} {s['p99_ms']:>8}")
    print(f"queue hop (sequential p50, 1 worker - embedded): {hop:.1f} ms")
    print(json.dumps({"bench": "cluster", "runs": args.runs, "concurrency": args.concurrency,
                      "queue_hop_ms": round(hop, 1), **results}))


if __name__ == "__main__":
    asyncio.run(main())
