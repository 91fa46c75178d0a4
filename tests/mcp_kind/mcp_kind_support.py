"""Helpers of the `mcp` kind tests: McpServer definitions and playbooks calling them."""

from __future__ import annotations

import json
import os
import time
from typing import Any


def stdio_server(name: str = "echo", *args: str, env: dict[str, str] | None = None,
                 keychain: list[dict[str, Any]] | None = None, timeout: float | None = None,
                 command: str = "python") -> str:
    """A `kind: McpServer` for the examples' stdio server (`python` = the hub's interpreter)."""
    spec: dict[str, Any] = {"transport": "stdio", "command": command,
                            "args": ["-m", "hub.examples.mcp_echo_server", *args]}
    if env:
        spec["env"] = env
    if timeout is not None:
        spec["timeout"] = timeout
    return server_document(name, spec, keychain)


def server_document(name: str, spec: dict[str, Any], keychain: list[dict[str, Any]] | None = None) -> str:
    lines = ["apiVersion: agenthub/v1", "kind: McpServer", f"metadata: {{name: {name}}}"]
    if keychain:
        lines.append(f"keychain: {json.dumps(keychain)}")
    lines.append(f"spec: {json.dumps(spec)}")
    return "\n".join(lines) + "\n"


def mcp_playbook(name: str, server: str, tool: str, arguments: dict[str, Any] | None = None,
                 timeout: float | None = None, inputs: dict[str, Any] | None = None) -> str:
    block: dict[str, Any] = {"kind": "mcp", "server": server, "tool": tool, "arguments": arguments or {}}
    if timeout is not None:
        block["timeout"] = timeout
    lines = ["apiVersion: agenthub/v1", "kind: Playbook", f"metadata: {{name: {name}}}"]
    if inputs:
        lines.append(f"input: {json.dumps(inputs)}")
    lines += ["workflow:", "  - step: call", f"    tool: {json.dumps(block)}"]
    return "\n".join(lines) + "\n"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) counts as dead
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def wait_dead(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"process {pid} still alive")
        time.sleep(0.02)
