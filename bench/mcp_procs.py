"""The processes `bench/mcp.py` measures: how the bare SDK server and the hub are started, pinned,
watched and stopped, the catalogs they serve, and the small figure helpers every phase shares.
Kept apart from the phases so each file holds one idea."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

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


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


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
        return process_cpu_seconds(self.proc.pid)

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
    return [sys.executable, "-m", "hub.cli.main", command, "--catalog", str(catalog), "--db", str(db), *extra]


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
