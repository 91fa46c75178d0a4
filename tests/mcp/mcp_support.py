"""Shared pieces of the MCP tests: the test playbooks and small subprocess helpers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

REPO = Path(__file__).resolve().parents[2]

ECHO = """
apiVersion: agenthub/v1
kind: Playbook
metadata:
  name: echo
  title: Echo
  description: Echoes a text with its length.
  capabilities: [echo, text]
  tags: [test]
  annotations: {readOnlyHint: true, idempotentHint: true}
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
"""

FAILING = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: failing, description: Always fails.}
workflow:
  - step: explode
    tool:
      kind: python
      code: |
        def main():
            raise ValueError("boom")
"""

THREE_STEPS = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: three_steps, agent: true, capabilities: [counting]}
workflow:
  - step: one
    tool: {kind: noop}
    input: {n: 1}
    next: two
  - step: two
    tool: {kind: noop}
    input: {n: 2}
    next: three
  - step: three
    tool: {kind: noop}
    input: {n: 3}
    result: {done: true}
"""

SLOW = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: slow, description: Sleeps., agent: true, capabilities: [waiting]}
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
"""

HIDDEN = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: hidden, expose: false}
workflow:
  - step: s
    tool: {kind: noop}
"""

PLAYBOOKS = {"echo": ECHO, "failing": FAILING, "three_steps": THREE_STEPS, "slow": SLOW, "hidden": HIDDEN}


def agenthub_json(*args: str, db: Path, catalog: Path) -> Any:
    """Run an `agenthub ... --json` command in a subprocess and parse its output."""
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli.main", *args, "--json", "--db", str(db), "--catalog", str(catalog)],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def eventually(predicate: Callable[[], Any], timeout: float = 60, interval: float = 0.1) -> Any:
    """Poll a blocking predicate (off the event loop) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await anyio.to_thread.run_sync(predicate)
        if value:
            return value
        await anyio.sleep(interval)
    raise AssertionError("condition not met in time")
