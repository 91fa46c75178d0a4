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
  time (spawn + handshake); then a ratio line. The Client's own CPU is in these figures (same on
  both sides), so they are larger than the server's share.
* `mcp_tools_list`: `agenthub serve` on a generated catalog of `--list-playbooks` tiny playbooks
  (its start-up time is printed: process start to the "serving on" line), against the bare server
  with as many registered tools; page size 100 on both. The start-up line also gives each
  server's CPU while idle (the hub polls its catalog directory every 0.25 s). Per era: the first
  full listing after start (`cold_full_ms`, the hub builds its descriptors then), then p50 of
  `--list-reps` full listings (following `nextCursor`) and of `--page-reps` first pages, and the
  first page's size in bytes (the hub's tools carry the envelope output schema, the bare ones
  almost nothing); then a ratio line.
* `mcp_list_changed`: a legacy session holds its GET SSE stream on the hub; a playbook file's
  description is edited (atomic replace) `--edits` times, at random phases of the hub's 0.25 s
  poll; the time from the write to `notifications/tools/list_changed` on the stream, p50 and max.
  Done on the small catalog, and once more on the generated one (`catalog_playbooks`).
* `mcp_summary`: the headline ratios (hub over bare), total errors and wall time.

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
import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# This file is named like the SDK package: with bench/ on sys.path, `import mcp` would find it. Keep
# bench/ off the path except to import the load generator next to it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(BENCH))
from mcp_load import (
    ERAS,
    LEGACY,
    MODERN,
    Connection,
    LoadState,
    ProtocolFailure,
    echo_worker,
)

sys.path.remove(str(BENCH))

SERVER_CPU, CLIENT_CPU = 1, 0
START_TIMEOUT = 120.0
STOP_TIMEOUT = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

ECHO_PLAYBOOK = """\
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: echo, description: Echoes a text with its length.}
input:
  text: {type: string, description: What to echo.}
output:
  type: object
  properties: {text: {type: string}, length: {type: integer}}
  required: [text, length]
workflow:
  - step: echo
    tool:
      kind: python
      code: |
        async def main(text):
            return {"text": text, "length": len(text)}
    input: {text: "{{ input.text }}"}
"""

WATCHED_PLAYBOOK = """\
apiVersion: agenthub/v1
kind: Playbook
metadata: {{name: {name}, description: "{description}"}}
workflow:
  - step: s
    tool: {{kind: noop}}
"""


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def note(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ratio(hub: float | None, bare: float | None) -> float | None:
    if hub is None or bare is None or bare == 0 or math.isnan(hub) or math.isnan(bare):
        return None
    return round(hub / bare, 2)


# -- subprocesses --------------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AGENTHUB_")}


@dataclass
class Served:
    """An HTTP server subprocess (bare or hub) and what it printed."""

    name: str
    proc: subprocess.Popen[bytes]
    url: str
    startup_s: float
    log: Path

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process so far (all its threads)."""
        with open(f"/proc/{self.proc.pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} server exited ({self.proc.returncode}); log {self.log}:\n"
                               + self.log.read_text(errors="replace")[-3000:])


class Processes:
    """Every subprocess this run starts, stopped on the way out whatever happens."""

    def __init__(self, pin: bool) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.pin = pin

    def start_http(self, name: str, argv: list[str], workdir: Path, marker: str, tag: str = "") -> Served:
        out, err = workdir / f"{name}{tag}.out", workdir / f"{name}{tag}.err"
        started = time.perf_counter()
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(argv, cwd=REPO, env=clean_env(), stdout=stdout, stderr=stderr,
                                    stdin=subprocess.DEVNULL)
        self.procs.append(proc)
        if self.pin:  # the interpreter is only starting: threads it makes later inherit this
            with contextlib.suppress(OSError):
                os.sched_setaffinity(proc.pid, {SERVER_CPU})
        deadline = started + START_TIMEOUT
        while time.perf_counter() < deadline:
            text = out.read_text(errors="replace")
            if marker in text:
                url = text.split(marker, 1)[1].split()[0]
                return Served(name, proc, url, time.perf_counter() - started, err)
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{err.read_text(errors='replace')[-3000:]}")
            time.sleep(0.02)
        raise RuntimeError(f"{name} did not start in {START_TIMEOUT:g} s:\n{err.read_text(errors='replace')[-3000:]}")

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.procs):
            with contextlib.suppress(Exception):
                self.stop(proc)


def bare_argv(*extra: str) -> list[str]:
    return [sys.executable, str(BENCH / "mcp_bare.py"), *extra]


def hub_argv(command: str, catalog: Path, db: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hub.cli", command, "--catalog", str(catalog), "--db", str(db), *extra]


def write_small_catalog(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "echo.yaml").write_text(ECHO_PLAYBOOK)
    (folder / "watched.yaml").write_text(WATCHED_PLAYBOOK.format(name="watched", description="rev 0"))
    return folder


def write_big_catalog(folder: Path, count: int) -> Path:
    """`count` tiny playbooks in folders of 100 (`gen_00000` ...), the last one named `watched`."""
    for i in range(count):
        sub = folder / f"g{i // 100:03d}"
        if i % 100 == 0:
            sub.mkdir(parents=True)
        name = "watched" if i == count - 1 else f"gen_{i:05d}"
        (sub / f"{name}.yaml").write_text(WATCHED_PLAYBOOK.format(name=name, description=f"Generated {i}."))
    return folder


# -- 1-4: tools/call over streamable HTTP --------------------------------------------------------


async def http_run(served: Served, era: str, concurrency: int, seconds: float, warmup: float) -> dict[str, Any]:
    served.alive()
    state = LoadState()
    tasks = [asyncio.create_task(echo_worker(served.url, era, i, state)) for i in range(concurrency)]
    deadline = time.perf_counter() + 30
    while state.ready < concurrency and time.perf_counter() < deadline:
        if any(t.done() for t in tasks):
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(warmup)
    cpu0, client0, t0 = served.cpu_seconds(), time.process_time(), time.perf_counter()
    state.recording = True
    await asyncio.sleep(seconds)
    state.recording = False
    t1, cpu1, client1 = time.perf_counter(), served.cpu_seconds(), time.process_time()
    state.stop = True
    done, pending = await asyncio.wait(tasks, timeout=30)
    for task in pending:
        task.cancel()
    failed = [t.exception() for t in done if not t.cancelled() and t.exception() is not None]
    calls = len(state.latencies)
    record: dict[str, Any] = {
        "bench": "mcp_http", "server": served.name, "era": era, "concurrency": concurrency,
        "seconds": round(t1 - t0, 2), "calls": calls,
        "calls_per_s": round(calls / (t1 - t0), 1),
        "p50_ms": ms(percentile(state.latencies, 0.50)), "p99_ms": ms(percentile(state.latencies, 0.99)),
        "server_cpu_us_per_call": round((cpu1 - cpu0) / calls * 1e6) if calls else None,
        "server_busy_pct": round((cpu1 - cpu0) / (t1 - t0) * 100),
        "client_cpu_us_per_call": round((client1 - client0) / calls * 1e6) if calls else None,
        "errors": state.errors + len(failed) + (concurrency - state.ready),
    }
    if state.reasons or failed:
        reasons = dict(state.reasons)
        for exc in failed:
            key = f"worker died: {type(exc).__name__}: {exc}"[:160]
            reasons[key] = reasons.get(key, 0) + 1
        record["error_reasons"] = dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:5])
    return record


def http_ratio(hub: dict[str, Any], bare: dict[str, Any]) -> dict[str, Any]:
    keys = ("calls_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_call")
    return {"bench": "mcp_http_ratio", "era": hub["era"], "concurrency": hub["concurrency"],
            "ratio_hub_over_bare": {k: ratio(hub[k], bare[k]) for k in keys}}


# -- 5: stdio round trips with the official Client -----------------------------------------------


def stdio_command(argv: list[str], pin: bool) -> list[str]:
    if pin and shutil.which("taskset"):
        return ["taskset", "-c", str(SERVER_CPU), *argv]
    return argv


async def stdio_run(name: str, argv: list[str], mode: str, calls: int, errlog: TextIO) -> dict[str, Any]:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=argv[0], args=argv[1:], cwd=str(REPO), env=clean_env())
    latencies: list[float] = []
    errors = 0
    reasons: dict[str, int] = {}
    started = time.perf_counter()
    async with Client(stdio_client(params, errlog=errlog), mode=mode, read_timeout_seconds=30) as client:
        startup = time.perf_counter() - started
        era = client.protocol_version
        await client.list_tools()
        for i in range(-min(50, calls), calls):  # the negative ones warm up
            text = f"stdio echo {i}"
            t0 = time.perf_counter()
            try:
                result = await client.call_tool("echo", {"text": text})
                structured = result.structured_content or {}
                if "status" in structured:
                    structured = structured.get("data") if structured["status"] == "ok" else {}
                failure = "isError" if result.is_error else (
                    None if (structured or {}).get("text") == text else "wrong echo")
            except Exception as exc:  # noqa: BLE001 - counted, the run goes on
                failure = f"{type(exc).__name__}: {exc}"[:160]
            took = time.perf_counter() - t0
            if i < 0:
                continue
            if failure:
                errors += 1
                reasons[failure] = reasons.get(failure, 0) + 1
            else:
                latencies.append(took)
    record: dict[str, Any] = {
        "bench": "mcp_stdio", "server": name, "era": era, "calls": len(latencies),
        "p50_ms": ms(percentile(latencies, 0.5)), "p99_ms": ms(percentile(latencies, 0.99)),
        "calls_per_s_sequential": round(len(latencies) / sum(latencies), 1) if latencies else None,
        "startup_s": round(startup, 3), "errors": errors,
    }
    if reasons:
        record["error_reasons"] = reasons
    return record


# -- 6: tools/list on a big catalog --------------------------------------------------------------


async def list_run(served: Served, era: str, full_reps: int, page_reps: int, expect: int,
                   catalog_size: int) -> dict[str, Any]:
    served.alive()
    conn = Connection(served.url, era)
    await conn.open()
    try:
        t0 = time.perf_counter()
        pages, tools = await conn.list_tools(all_pages=True)
        cold = time.perf_counter() - t0
        errors = 0 if tools == expect else 1
        full: list[float] = []
        for _ in range(full_reps):
            t0 = time.perf_counter()
            _, seen = await conn.list_tools(all_pages=True)
            full.append(time.perf_counter() - t0)
            errors += seen != tools
        first: list[float] = []
        for _ in range(page_reps):
            t0 = time.perf_counter()
            await conn.list_tools(all_pages=False)
            first.append(time.perf_counter() - t0)
        page_bytes = conn.last_body_bytes
    finally:
        await conn.end_session()
    return {
        "bench": "mcp_tools_list", "server": served.name, "era": era, "tools": tools, "pages": pages,
        "catalog_playbooks": catalog_size,
        "cold_full_ms": ms(cold), "full_p50_ms": ms(statistics.median(full)) if full else None,
        "full_reps": len(full), "first_page_p50_ms": ms(statistics.median(first)) if first else None,
        "first_page_reps": len(first), "first_page_bytes": page_bytes, "errors": errors,
    }


# -- 7: playbook edit -> list_changed ------------------------------------------------------------


async def list_changed_run(served: Served, playbook: Path, name: str, edits: int, catalog_size: int) -> dict[str, Any]:
    served.alive()
    control = Connection(served.url, LEGACY)
    await control.open()
    stream = Connection(served.url, LEGACY)
    stream.session = control.session
    arrivals: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()

    async def listen() -> None:
        async for arrival in stream.notifications():
            await arrivals.put(arrival)

    listener = asyncio.create_task(listen())
    delays: list[float] = []
    misses = 0
    try:
        await asyncio.sleep(0.3)  # the GET stream is open before the first edit
        if listener.done():
            listener.result()  # raises why the stream failed
        tmp = playbook.with_name(f".{playbook.name}.tmp")
        for rev in range(1, edits + 1):
            await asyncio.sleep(0.3 + random.uniform(0, 0.25))  # a random phase of the 0.25 s poll
            while not arrivals.empty():
                arrivals.get_nowait()
            tmp.write_text(WATCHED_PLAYBOOK.format(name=name, description=f"rev {rev} " + "x" * rev))
            os.replace(tmp, playbook)
            written = time.perf_counter()
            try:
                async with asyncio.timeout(10):
                    while True:
                        arrived, message = await arrivals.get()
                        if message.get("method") == "notifications/tools/list_changed":
                            delays.append(arrived - written)
                            break
            except TimeoutError:
                misses += 1
    finally:
        listener.cancel()
        with contextlib.suppress(BaseException):
            await listener
        stream.close()
        await control.end_session()
    return {
        "bench": "mcp_list_changed", "server": served.name, "era": LEGACY, "catalog_playbooks": catalog_size,
        "edits": edits, "received": len(delays),
        "p50_ms": ms(statistics.median(delays)) if delays else None,
        "max_ms": ms(max(delays)) if delays else None, "errors": misses,
    }


# -- the run -------------------------------------------------------------------------------------


@dataclass
class Totals:
    errors: int = 0
    figures: dict[str, Any] = field(default_factory=dict)
    failed_phases: list[str] = field(default_factory=list)

    def add(self, record: dict[str, Any]) -> dict[str, Any]:
        self.errors += int(record.get("errors") or 0)
        emit(record)
        return record


async def run(args: argparse.Namespace, procs: Processes, work: Path, totals: Totals) -> None:
    only = set(args.only.split(",")) if args.only else {"http", "stdio", "list", "watch"}
    concurrencies = [int(c) for c in args.concurrency.split(",")]
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
                                                            args.stdio_calls, errlog))
                line = {"bench": "mcp_stdio_ratio", "era": pair["hub"]["era"], "ratio_hub_over_bare": {
                    k: ratio(pair["hub"][k], pair["bare"][k]) for k in ("p50_ms", "p99_ms", "startup_s")}}
                emit(line)
                totals.figures[f"stdio {line['era']} p50_ms"] = line["ratio_hub_over_bare"]["p50_ms"]

    if "list" in only and args.list_playbooks > 0:
        count = args.list_playbooks
        t0 = time.perf_counter()
        big = write_big_catalog(work / "big", count)
        note(f"generated {count} playbooks in {time.perf_counter() - t0:.1f} s")
        hub = procs.start_http("hub", hub_argv("serve", big, work / "big.db", "--port", "0"), work,
                               "agenthub serving on ", "-big")
        bare = procs.start_http("bare", bare_argv("--port", "0", "--tools", str(count)), work,
                                "bare serving on ", "-big")
        emit(await startup_line(bare, hub, count))
        hub_tools = await count_tools(hub)
        for era in eras:
            b = totals.add(await list_run(bare, era, args.list_reps, args.page_reps, count, count))
            h = totals.add(await list_run(hub, era, args.list_reps, args.page_reps, hub_tools, count))
            line = {"bench": "mcp_tools_list_ratio", "era": era, "catalog_playbooks": count, "ratio_hub_over_bare": {
                k: ratio(h[k], b[k]) for k in ("cold_full_ms", "full_p50_ms", "first_page_p50_ms", "first_page_bytes")}}
            emit(line)
            totals.figures[f"tools/list {era} full_p50_ms"] = line["ratio_hub_over_bare"]["full_p50_ms"]
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
    return status


if __name__ == "__main__":
    sys.exit(main())
