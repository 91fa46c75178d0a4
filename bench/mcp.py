"""MCP front-door cost: `agenthub serve` / `agenthub stdio` beside a bare `mcp` SDK echo server.

One run starts both servers side by side on 127.0.0.1 and prints one JSON line per figure:

* `mcp_http`: tools/call over streamable HTTP, for each server (`bare`, `hub`) x era (`2026-07-28`
  stateless per-request headers; `2025-11-25` legacy, one initialize + `Mcp-Session-Id` per
  connection) x concurrency (1, 16, 64 keep-alive connections, one per worker, each calling back
  to back). After `--warmup` s, `--seconds` s are recorded: `calls_per_s`, latency `p50_ms` /
  `p99_ms` (request written to reply parsed), `server_cpu_us_per_call` (the server process's user +
  system CPU over the window, from /proc, per call), `server_busy_pct` (that CPU over the window's
  wall time: near 100 at concurrency 16 and 64 means the server was the limit; well below it, the
  server was starved by something else on its core, so its calls/s mean little), and
  `client_cpu_us_per_call` (this process), and `errors`. Every reply is checked: HTTP 200, the JSON-RPC response to the request's id,
  `isError` false, and the echoed `{text, length}` (the hub's envelope: status ok, same `data`).
  The bare server and the hub run alternately for each (era, concurrency), so drift on the VM hits
  both alike, and a `mcp_http_ratio` line follows each pair: `ratio_hub_over_bare` of each figure
  (calls/s below 1 and latency or CPU above 1 mean the hub costs more).
* `mcp_stdio`: the official `mcp` Client (`StdioServerParameters`) against the bare server in stdio
  mode and against `agenthub stdio`, `--stdio-calls` sequential calls per era, p50/p99 and start-up
  time (spawn + handshake); the Client's own CPU is in these latencies (same on both sides). Then,
  on the same connection, `--seconds` of calls kept in flight for each `--stdio-concurrency`
  (1 and 16): `cN_server_cpu_us_per_call`, the server process's CPU per call from /proc (the
  process is found among this one's children). Then a ratio line.
* `mcp_tools_list`: `agenthub serve` on a generated catalog of `--list-playbooks` tiny playbooks
  (its start-up time is printed: process start to the "serving on" line), against the bare server
  with as many registered tools; page size 100 on both. The start-up line also gives each
  server's CPU while idle, and the hub's start-up again on the database the first start filled
  (`hub_restart_s`: versions known, checked documents in the parse cache). Per era: the first
  full listing after start (`cold_full_ms`, the hub builds its descriptors then), then p50 of
  `--list-reps` full listings (following `nextCursor`) and of `--page-reps` first pages, and the
  first page's size in bytes (the hub's tools carry the envelope output schema, the bare ones
  almost nothing); then a ratio line.
* `mcp_list_changed`: a legacy session holds its GET SSE stream on the hub; a playbook file's
  description is edited (atomic replace) `--edits` times, at random phases of the hub's 0.25 s
  poll; the time from the write to `notifications/tools/list_changed` on the stream, p50 and max.
  Done on the small catalog, and once more on the generated one (`catalog_playbooks`).
* `mcp_summary`: the headline ratios (hub over bare), total errors and wall time; then, on stderr,
  the table of issue 12 (hub, bare, ratio, goal) in Markdown (`bench/mcp_table.py`), as the
  README shows it.

Method. The load generator is `bench/mcp_load.py`: raw asyncio streams, request bytes built once,
only enough parsing to check each reply (httpx would cost the client more than the server costs).
With 2+ CPUs the servers are pinned to CPU 1 and this process to CPU 0 (`--no-pin` to turn it
off), so client and server do not take turns on one core. The servers `gc.freeze()` after
start-up; this process does too after its imports. The bare server is `bench/mcp_bare.py`: the
SDK's low-level `Server` with the hub's transport settings (stateful `StreamableHTTPSessionManager`,
SSE replies on the legacy leg, DNS-rebinding protection, uvicorn, `get_tool_input_schema`), so the
ratio is what the hub adds on top of the SDK: routing and middleware, argument validation, the
engine run of a one-step playbook (async python step) with its events in SQLite, the envelope.

Reading the figures: this host is a shared, noisy VM (10-25% between identical runs). Compare
figures within one run only, prefer ratios and server CPU per call over absolute calls/s, and
expect p99 at high concurrency to move most. Nothing here asserts on time; a run with errors > 0
is reported, not failed (the exit status is 1 only if a phase could not run at all).

    python bench/mcp.py                      # the default, ~2-3 minutes
    python bench/mcp.py --seconds 8 --stdio-calls 1000 --list-reps 10   # steadier, longer
    python bench/mcp.py --only http --concurrency 16 --eras 2026-07-28
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# This file is named like the SDK package: with bench/ on sys.path, `import mcp` would find it. Keep
# bench/ off the path except to import the load generator next to it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(BENCH))
from mcp_phases import http_ratio, http_run, list_changed_run, list_run, stdio_command, stdio_run
from mcp_procs import (
    CLIENT_CPU,
    emit,
    note,
    ratio,
    Served,
    Processes,
    bare_argv,
    hub_argv,
    write_small_catalog,
    write_big_catalog,
)
from mcp_table import issue_table
from mcp_load import (
    ERAS,
    MODERN,
    Connection,
    ProtocolFailure,
)

sys.path.remove(str(BENCH))

@dataclass
class Totals:
    errors: int = 0
    figures: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, Any] = field(default_factory=dict)
    """The records behind the issue-12 table (`bench/mcp_table.py`), by phase."""
    failed_phases: list[str] = field(default_factory=list)

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        self.errors += int(record.get("errors") or 0)
        emit(record)
        return record


async def run(args: argparse.Namespace, procs: Processes, work: Path, totals: Totals) -> None:
    only = set(args.only.split(",")) if args.only else {"http", "stdio", "list", "watch"}
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    stdio_concurrencies = [int(c) for c in args.stdio_concurrency.split(",") if c]
    eras = [e for e in args.eras.split(",")]
    small = write_small_catalog(work / "catalog")

    if only & {"http", "watch"}:
        bare = procs.start_http("bare", bare_argv("--port", "0"), work, "bare serving on ")
        hub = procs.start_http("hub", hub_argv("serve", small, work / "hub.db", "--port", "0"), work,
                               "agenthub serving on ")
        emit(await startup_line(bare, hub, 2))
        if "http" in only:
            for era in eras:
                for concurrency in concurrencies:
                    b = totals.add(await http_run(bare, era, concurrency, args.seconds, args.warmup))
                    h = totals.add(await http_run(hub, era, concurrency, args.seconds, args.warmup))
                    line = http_ratio(h, b)
                    emit(line)
                    totals.rows[f"http {era} c{concurrency}"] = {"hub": h, "bare": b}
                    got = line["ratio_hub_over_bare"]
                    totals.figures[f"http {era} c{concurrency}"] = {
                        k: got[k] for k in ("calls_per_s", "p50_ms", "server_cpu_us_per_call")}
        if "watch" in only and args.edits > 0:
            totals.add(await list_changed_run(hub, small / "watched.yaml", "watched", args.edits, 2))
        procs.stop(bare.proc)
        procs.stop(hub.proc)

    if "stdio" in only and args.stdio_calls > 0:
        gc.unfreeze()
        import mcp  # noqa: F401  (the Client's imports, before freezing them too)
        gc.collect()
        gc.freeze()
        with (work / "stdio.err").open("w") as errlog:
            for mode in ("auto", "legacy"):
                pair = {}
                for name, argv in (("bare", bare_argv("--stdio")),
                                   ("hub", hub_argv("stdio", small, work / "stdio.db"))):
                    pair[name] = totals.add(await stdio_run(name, stdio_command(argv, args.pin), mode,
                                                            args.stdio_calls, errlog, stdio_concurrencies,
                                                            args.seconds))
                keys = ["p50_ms", "p99_ms", "startup_s",
                        *(f"c{c}_server_cpu_us_per_call" for c in stdio_concurrencies)]
                line = {"bench": "mcp_stdio_ratio", "era": pair["hub"]["era"], "ratio_hub_over_bare": {
                    k: ratio(pair["hub"].get(k), pair["bare"].get(k)) for k in keys}}
                emit(line)
                totals.figures[f"stdio {line['era']}"] = line["ratio_hub_over_bare"]
                totals.rows[f"stdio {line['era']}"] = pair

    if "list" in only and args.list_playbooks > 0:
        count = args.list_playbooks
        t0 = time.perf_counter()
        big = write_big_catalog(work / "big", count)
        note(f"generated {count} playbooks in {time.perf_counter() - t0:.1f} s")
        hub = procs.start_http("hub", hub_argv("serve", big, work / "big.db", "--port", "0"), work,
                               "agenthub serving on ", "-big")
        bare = procs.start_http("bare", bare_argv("--port", "0", "--tools", str(count)), work,
                                "bare serving on ", "-big")
        startup = await startup_line(bare, hub, count)
        procs.stop(hub.proc)  # and again on the database it just filled: a restart
        hub = procs.start_http("hub", hub_argv("serve", big, work / "big.db", "--port", "0"), work,
                               "agenthub serving on ", "-big-restart")
        startup["hub_restart_s"] = round(hub.startup_s, 3)
        emit(startup)
        totals.rows["startup"] = startup
        hub_tools = await count_tools(hub)
        for era in eras:
            b = totals.add(await list_run(bare, era, args.list_reps, args.page_reps, count, count))
            h = totals.add(await list_run(hub, era, args.list_reps, args.page_reps, hub_tools, count))
            line = {"bench": "mcp_tools_list_ratio", "era": era, "catalog_playbooks": count, "ratio_hub_over_bare": {
                k: ratio(h[k], b[k]) for k in ("cold_full_ms", "full_p50_ms", "first_page_p50_ms", "first_page_bytes")}}
            emit(line)
            totals.figures[f"tools/list {era} full_p50_ms"] = line["ratio_hub_over_bare"]["full_p50_ms"]
            totals.rows[f"tools/list {era}"] = {"hub": h, "bare": b}
        procs.stop(bare.proc)
        if "watch" in only and args.edits > 0:
            watched = next(big.glob("*/watched.yaml"))
            totals.add(await list_changed_run(hub, watched, "watched", max(1, min(args.edits, 3)), count))
        procs.stop(hub.proc)


async def startup_line(bare: Served, hub: Served, playbooks: int) -> dict[str, Any]:
    """Start-up times, and each server's CPU while idle for a second (the hub polls its catalog)."""
    before = bare.cpu_seconds(), hub.cpu_seconds()
    t0 = time.perf_counter()
    await asyncio.sleep(1.0)
    took = time.perf_counter() - t0
    return {"bench": "mcp_startup", "catalog_playbooks": playbooks,
            "bare_s": round(bare.startup_s, 3), "hub_s": round(hub.startup_s, 3),
            "bare_idle_cpu_pct": round((bare.cpu_seconds() - before[0]) / took * 100, 1),
            "hub_idle_cpu_pct": round((hub.cpu_seconds() - before[1]) / took * 100, 1)}


async def count_tools(served: Served) -> int:
    """How many tools the hub lists (the playbooks plus its `hub_*` tools)."""
    conn = Connection(served.url, MODERN)
    await conn.open()
    try:
        return (await conn.list_tools(all_pages=True))[1]
    finally:
        conn.close()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="recorded seconds per HTTP load run (default 3)")
    parser.add_argument("--warmup", type=float, default=0.5, help="unrecorded seconds before each (default 0.5)")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated (default 1,16,64)")
    parser.add_argument("--eras", default=",".join(ERAS), help=f"comma-separated (default {','.join(ERAS)})")
    parser.add_argument("--stdio-calls", type=int, default=300, help="sequential stdio calls per server and era")
    parser.add_argument("--stdio-concurrency", default="1,16",
                        help="calls in flight on the stdio connection for the CPU windows (default 1,16)")
    parser.add_argument("--list-playbooks", type=int, default=10_000, help="generated catalog size (default 10000)")
    parser.add_argument("--list-reps", type=int, default=3, help="full paginated listings per server and era")
    parser.add_argument("--page-reps", type=int, default=20, help="first-page listings per server and era")
    parser.add_argument("--edits", type=int, default=5, help="playbook edits timed to list_changed (default 5)")
    parser.add_argument("--only", help="comma-separated phases: http,stdio,list,watch (default all)")
    parser.add_argument("--no-pin", dest="pin", action="store_false",
                        help="do not pin the servers to CPU 1 and this process to CPU 0")
    args = parser.parse_args()
    for era in args.eras.split(","):
        if era not in ERAS:
            parser.error(f"unknown era {era!r}; known: {', '.join(ERAS)}")
    if args.pin and (os.cpu_count() or 1) < 2:
        args.pin = False
    return args


def main() -> int:
    args = parse_args()
    if args.pin:
        os.sched_setaffinity(0, {CLIENT_CPU})
    gc.collect()
    gc.freeze()
    procs = Processes(args.pin)
    totals = Totals()
    started = time.perf_counter()
    status = 0
    # Ctrl-C and a kill both clean up (SIGINT too, even where it started out ignored, as it is
    # for a background job of a non-interactive shell).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.ExitStack() as stack:
        stack.callback(procs.stop_all)  # runs before the temp dir goes
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-mcp-")))
        stack.callback(procs.stop_all)
        try:
            asyncio.run(run(args, procs, work, totals))
        except KeyboardInterrupt:
            note("interrupted; stopping the servers")
            status = 130
        except (RuntimeError, OSError, ProtocolFailure) as exc:
            note(f"failed: {type(exc).__name__}: {exc}")
            status = 1
        finally:
            emit({"bench": "mcp_summary", "seconds": round(time.perf_counter() - started, 1),
                  "pinned": args.pin, "errors": totals.errors, "ratio_hub_over_bare": totals.figures,
                  "complete": status == 0})
            print(issue_table(totals.rows), file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
