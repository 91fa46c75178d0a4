"""The measured phases of `bench/mcp.py`: HTTP load per era and concurrency, stdio round trips with
the official Client, tools/list paging, and list_changed latency after a file edit. Each phase
returns its figures as a dict; `bench/mcp.py` orders the phases and prints the lines."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import statistics
import time
from pathlib import Path
from typing import Any, TextIO

from mcp_load import LEGACY, Connection, LoadState, echo_worker
from mcp_procs import (
    REPO, SERVER_CPU, WATCHED_PLAYBOOK, Served, clean_env, ms, percentile, process_cpu_seconds, ratio,
)


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


def child_pids() -> set[int]:
    """This process's children (from /proc), to find the server a stdio Client spawned."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with contextlib.suppress(OSError):
            found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


def _echo_failure(result: Any, text: str) -> str | None:
    structured = result.structured_content or {}
    if "status" in structured:
        structured = structured.get("data") if structured["status"] == "ok" else {}
    return "isError" if result.is_error else (None if (structured or {}).get("text") == text else "wrong echo")


async def stdio_run(name: str, argv: list[str], mode: str, calls: int, errlog: TextIO,
                    concurrencies: list[int], seconds: float) -> dict[str, Any]:
    """Sequential round trips (p50/p99, start-up), then for each concurrency `seconds` of calls
    kept in flight on the one stdio connection: the server process's CPU per call, from /proc."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=argv[0], args=argv[1:], cwd=str(REPO), env=clean_env())
    latencies: list[float] = []
    errors = 0
    reasons: dict[str, int] = {}
    cpu: dict[str, Any] = {}
    before = child_pids()
    started = time.perf_counter()
    async with Client(stdio_client(params, errlog=errlog), mode=mode, read_timeout_seconds=30) as client:
        startup = time.perf_counter() - started
        era = client.protocol_version
        spawned = sorted(child_pids() - before)
        await client.list_tools()
        for i in range(-min(50, calls), calls):  # the negative ones warm up
            text = f"stdio echo {i}"
            t0 = time.perf_counter()
            try:
                failure = _echo_failure(await client.call_tool("echo", {"text": text}), text)
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
        for concurrency in concurrencies if spawned else []:
            done, failed = await _stdio_window(client, spawned[-1], concurrency, seconds, reasons)
            errors += failed
            cpu.update(done)
    record: dict[str, Any] = {
        "bench": "mcp_stdio", "server": name, "era": era, "calls": len(latencies),
        "p50_ms": ms(percentile(latencies, 0.5)), "p99_ms": ms(percentile(latencies, 0.99)),
        "calls_per_s_sequential": round(len(latencies) / sum(latencies), 1) if latencies else None,
        "startup_s": round(startup, 3), **cpu, "errors": errors,
    }
    if reasons:
        record["error_reasons"] = reasons
    return record


async def _stdio_window(client: Any, pid: int, concurrency: int, seconds: float,
                        reasons: dict[str, int]) -> tuple[dict[str, Any], int]:
    """`concurrency` callers back to back for `seconds` (after a short warm-up)."""
    state = {"recording": False, "stop": False, "calls": 0, "errors": 0}

    async def caller(index: int) -> None:
        text = f"stdio load {index}"
        while not state["stop"]:
            try:
                failure = _echo_failure(await client.call_tool("echo", {"text": text}), text)
            except Exception as exc:  # noqa: BLE001 - counted, the run goes on
                failure = f"{type(exc).__name__}: {exc}"[:160]
            if not state["recording"]:
                continue
            if failure:
                state["errors"] += 1
                reasons[failure] = reasons.get(failure, 0) + 1
            else:
                state["calls"] += 1

    tasks = [asyncio.create_task(caller(i)) for i in range(concurrency)]
    await asyncio.sleep(0.3)
    cpu0, t0 = process_cpu_seconds(pid), time.perf_counter()
    state["recording"] = True
    await asyncio.sleep(seconds)
    state["recording"] = False
    cpu1, t1 = process_cpu_seconds(pid), time.perf_counter()
    state["stop"] = True
    await asyncio.wait(tasks, timeout=30)
    calls = state["calls"]
    return {f"c{concurrency}_calls_per_s": round(calls / (t1 - t0), 1),
            f"c{concurrency}_server_cpu_us_per_call": round((cpu1 - cpu0) / calls * 1e6) if calls else None,
            f"c{concurrency}_server_busy_pct": round((cpu1 - cpu0) / (t1 - t0) * 100)}, state["errors"]


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
