"""A cluster on this machine for tests: `agenthub serve` front ends and `agenthub worker` processes
on one fresh PostgreSQL database and one NATS stream prefix of their own, and a loopback HTTP
server that counts the calls steps make."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
SERVING = "agenthub serving on "
WORKER_READY = "agenthub worker ready"

RELAY = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: relay, path: cluster/relay, description: Three http steps in a row.}
input:
  server: {type: string}
  n: {type: integer, default: 0}
workflow:
  - step: first
    tool: {kind: http, method: POST, url: "{{ server }}/first", idempotency_key: true,
           json: {execution: "{{ execution_id }}", n: "{{ n }}"}}
    next: second
  - step: second
    tool: {kind: http, method: POST, url: "{{ server }}/second", idempotency_key: true,
           json: {execution: "{{ execution_id }}", before: "{{ first.body.count }}"}}
    next: third
  - step: third
    tool: {kind: http, method: POST, url: "{{ server }}/third", idempotency_key: true,
           json: {execution: "{{ execution_id }}"}}
    result: {n: "{{ n }}", counts: ["{{ first.body.count }}", "{{ second.body.count }}", "{{ output.body.count }}"]}
"""

NESTED = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: nested, path: cluster/nested, description: Runs cluster/relay as a sub-run.}
input:
  server: {type: string}
workflow:
  - step: sub
    tool: {kind: playbook, path: cluster/relay}
    input: {server: "{{ server }}", n: 5}
    result: {child: "{{ output }}"}
"""

SLEEPER = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: sleeper, path: cluster/sleeper, description: Sleeps in a python step.}
input:
  seconds: {type: number, default: 60}
workflow:
  - step: nap
    tool:
      kind: python
      code: |
        import asyncio
        async def main(seconds):
            await asyncio.sleep(seconds)
            return {"slept": seconds}
    input: {seconds: "{{ seconds }}"}
"""


class CountingServer:
    """Answers every POST with {"count": calls so far to that path}; keeps (path, key, execution)
    of each call. `delay` seconds per answer gives a worker time to die mid-step."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                with outer.lock:
                    outer.calls.append((self.path, self.headers.get("Idempotency-Key", ""), str(body.get("execution"))))
                    count = sum(1 for p, _, _ in outer.calls if p == self.path)
                time.sleep(outer.delay)
                data = json.dumps({"count": count}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def per_step(self) -> Counter[tuple[str, str]]:
        """Calls per (execution, step path)."""
        with self.lock:
            return Counter((execution, path) for path, _, execution in self.calls)

    def keys(self) -> dict[tuple[str, str], set[str]]:
        out: dict[tuple[str, str], set[str]] = {}
        with self.lock:
            for path, key, execution in self.calls:
                out.setdefault((execution, path), set()).add(key)
        return out

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Node:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path
    url: str = ""

    def log(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url.removesuffix("/mcp"), timeout=30)


@dataclass
class Cluster:
    tmp: Path
    catalog: Path
    dsn: str
    prefix: str
    nodes: list[Node] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTHUB_")}
        env.update(AGENTHUB_DB=self.dsn, AGENTHUB_QUEUE=os.environ.get("AGENTHUB_TEST_NATS", "nats://127.0.0.1:4222"),
                   AGENTHUB_QUEUE_PREFIX=self.prefix, AGENTHUB_CATALOG=str(self.catalog))
        env.update(extra)
        return env

    def _start(self, name: str, args: list[str], ready: str, env: dict[str, str]) -> Node:
        out, err = self.tmp / f"{name}.out", self.tmp / f"{name}.err"
        with out.open("wb") as o, err.open("wb") as e:
            proc = subprocess.Popen([sys.executable, "-m", "hub.cli.main", *args], cwd=REPO, env=env, stdout=o, stderr=e)
        node = Node(proc, out, err)
        self.nodes.append(node)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = out.read_text(errors="replace")
            if ready in text:
                if ready == SERVING:
                    node.url = text.split(SERVING, 1)[1].split()[0]
                return node
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}: {node.log()}")
            time.sleep(0.05)
        raise AssertionError(f"{name} did not start: {node.log()}")

    def front_end(self, name: str = "front", *args: str, **env: str) -> Node:
        return self._start(name, ["serve", "--port", "0", "--call-timeout", "60", *args], SERVING, self.env(**env))

    def worker(self, name: str, *args: str, **env: str) -> Node:
        return self._start(name, ["worker", *args], WORKER_READY, self.env(**env))

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc.poll() is None:
                node.proc.terminate()
        for node in self.nodes:
            try:
                node.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                node.proc.kill()
                node.proc.wait()


async def delete_stream(prefix: str) -> None:
    """Remove the test's stream (and with it its consumer) from the shared NATS server."""
    import nats

    from hub.queue.settings import Subjects

    nc = await nats.connect(os.environ.get("AGENTHUB_TEST_NATS", "nats://127.0.0.1:4222"))
    try:
        try:
            await nc.jetstream().delete_stream(Subjects(prefix).stream)
        except Exception:
            pass
    finally:
        await nc.close()
