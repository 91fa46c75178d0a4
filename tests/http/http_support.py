"""Shared pieces of the HTTP tests: the test catalog, tokens, and a real `agenthub serve` subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import jwt
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

REPO = Path(__file__).resolve().parents[2]
SERVING = "agenthub serving on "
JWT_SECRET = "test-secret-with-enough-bytes-for-hs256!"
JWT_AUDIENCE = "agenthub-test"
TOKENS: dict[str, tuple[str, list[str]]] = {  # subject: (raw token, scopes), for the tokens file
    "reader": ("reader-token-0123456789", []),
    "biller": ("biller-token-0123456789", ["billing"]),
}

PLAYBOOKS: dict[str, str] = {
    "echo": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata:
          name: echo
          title: Echo
          description: Echoes a text with its length.
          capabilities: [echo, text]
          tags: [test]
        input:
          text: {type: string, description: What to echo.}
          times: {type: integer, default: 1, minimum: 1}
        output:
          type: object
          properties:
            text: {type: string}
            length: {type: integer}
          required: [text, length]
        workflow:
          - step: echo
            tool:
              kind: python
              code: |
                def main(text, times):
                    said = text * times
                    return {"text": said, "length": len(said)}
            input: {text: "{{ input.text }}", times: "{{ input.times }}"}
    """,
    "failing": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: failing, description: Always fails., tags: [test]}
        workflow:
          - step: explode
            tool:
              kind: python
              code: |
                def main():
                    raise ValueError("boom")
    """,
    "slow": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: slow, description: Sleeps., agent: true, capabilities: [waiting], tags: [test]}
        input:
          seconds: {type: number, default: 30}
        workflow:
          - step: nap
            tool:
              kind: python
              code: |
                import asyncio
                async def main(seconds):
                    await asyncio.sleep(seconds)
                    return {"slept": seconds}
            input: {seconds: "{{ input.seconds }}"}
    """,
    "team/searcher": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata:
          name: searcher
          title: Web searcher
          description: Finds pages about a topic.
          agent: true
          capabilities: [search, web]
          tags: [research]
        workflow:
          - step: s
            tool: {kind: noop}
    """,
    "team/summarizer": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata:
          name: summarizer
          description: Summarizes a text.
          agent: true
          capabilities: [summarize, text]
          tags: [research]
        workflow:
          - step: s
            tool: {kind: noop}
    """,
    "twice": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: twice, description: Echoes twice through sub-runs.}
        workflow:
          - step: first
            tool: {kind: playbook, path: echo}
            input: {text: a}
            next: second
          - step: second
            tool: {kind: playbook, path: echo}
            input: {text: b}
            result: {done: true}
    """,
    "billing/charge": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata:
          name: charge
          description: Needs the billing scope.
          scopes: [billing]
          tags: [money]
        workflow:
          - step: s
            tool: {kind: noop}
            result: {charged: true}
    """,
}


def write_catalog(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PLAYBOOKS.items():
        file = folder / f"{name}.yaml"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


def make_jwt(*, scopes: str = "", audience: str = JWT_AUDIENCE, secret: str = JWT_SECRET,
             expires_in: float = 86400, subject: str = "jwt-user", **claims: Any) -> str:
    payload = {"sub": subject, "aud": audience, "exp": int(time.time() + expires_in), **claims}
    if scopes:
        payload["scope"] = scopes
    return jwt.encode(payload, secret, algorithm="HS256")


@dataclass
class Served:
    """A running `agenthub serve` subprocess."""

    proc: subprocess.Popen[bytes]
    mcp_url: str
    db: Path
    catalog: Path
    stdout: Path
    stderr: Path
    tmp: Path
    closed: bool = field(default=False)

    @property
    def base(self) -> str:
        return self.mcp_url.removesuffix("/mcp")

    def client(self, token: str | None = None, **options: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30, **options)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the server and wait; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"agenthub serve did not stop on {sig}: {self.log()}") from None
        self.closed = True
        return self.proc.returncode

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")


def start_server(tmp: Path, catalog: Path, *args: str, env: dict[str, str] | None = None,
                 wait: bool = True, timeout: float = 30) -> Served:
    """Start `agenthub serve --port 0` and wait for its `serving on` line."""
    tmp.mkdir(parents=True, exist_ok=True)
    stdout, stderr = tmp / "serve.out", tmp / "serve.err"
    db = tmp / "hub.db"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTHUB_")}
    full_env.update(env or {})
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli.main", "serve", "--port", "0", "--catalog", str(catalog),
             "--db", str(db), *args],
            cwd=REPO, env=full_env, stdout=out, stderr=err,
        )
    served = Served(proc, "", db, catalog, stdout, stderr, tmp)
    if not wait:
        return served
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = stdout.read_text(encoding="utf-8", errors="replace")
        if SERVING in text:
            served.mcp_url = text.split(SERVING, 1)[1].split()[0]
            return served
        if proc.poll() is not None:
            raise AssertionError(f"agenthub serve exited with {proc.returncode}: {served.log()}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"agenthub serve did not start in {timeout}s: {served.log()}")


def wait_for(predicate: Callable[[], Any], timeout: float = 60, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


@asynccontextmanager
async def notified_client(url: str, era: str, **options: Any) -> AsyncIterator[Client]:
    """A Client on the hub's /mcp in `era` that hears a catalog change made from the moment it is
    yielded. A 2025 session hears list_changed on its GET stream, which the SDK opens in the
    background after `initialize`, and the hub drops what it sends before that stream is open (it
    keeps no event store to replay from); so this waits for the GET's answer, then lists the tools
    once so the hub has remembered the session. A 2026 client needs neither: it listens with
    `subscriptions/listen`, which returns once the server acknowledged it."""
    get_stream_open = anyio.Event()

    async def answered(response: httpx2.Response) -> None:
        if response.request.method == "GET" and response.is_success:
            get_stream_open.set()

    timeout = httpx2.Timeout(30, read=300)  # the SDK's own defaults for its HTTP client
    async with httpx2.AsyncClient(timeout=timeout, event_hooks={"response": [answered]}) as http, \
            Client(streamable_http_client(url, http_client=http), mode=era, **options) as client:
        if era == "legacy":
            with anyio.fail_after(30):
                await get_stream_open.wait()
            await client.list_tools()
        yield client
