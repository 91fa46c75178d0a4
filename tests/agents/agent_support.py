"""Helpers of the agent tests: one-step playbooks around an agent tool block."""

from __future__ import annotations

import json
from typing import Any

ENTRY = "tests.agents.agent_entrypoints"


def agent_playbook(name: str, tool: dict[str, Any], *, inputs: dict[str, Any] | None = None,
                   timeout: float | None = None, extra: str = "") -> str:
    """A playbook whose only step is `tool` (kind agent); its result is the step's envelope."""
    lines = [
        "apiVersion: agenthub/v1",
        "kind: Playbook",
        f"metadata: {{name: {name}}}",
    ]
    if inputs:
        lines.append(f"input: {json.dumps(inputs)}")
    if timeout is not None:
        lines.append(f"timeout: {timeout}")
    lines.append("workflow:")
    lines.append("  - step: agent")
    lines.append(f"    tool: {json.dumps({'kind': 'agent', **tool})}")
    if extra:
        lines.extend("    " + line for line in extra.strip().splitlines())
    return "\n".join(lines) + "\n"
