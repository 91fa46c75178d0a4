"""docs/agents.md lists exactly the codes the agent and mcp kinds answer with, each with an
example envelope that is valid and says the same code, kind and retryability as hub/contract/errors.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bridges.agent.outcome import ERROR_CODES as AGENT_CODES
from bridges.mcp_client.kind import ERROR_CODES as MCP_CODES
from hub.contract.envelope import Envelope
from hub.contract.errors import ErrorCode

DOC = Path(__file__).resolve().parents[2] / "docs" / "agents.md"
ROW = re.compile(
    r"^\| `(?P<code>[A-Z_]+)` \| `(?P<kind>[a-z.]+)` \| (?P<retry>[^|]+) \| (?P<when>[^|]+) "
    r"\| `(?P<example>\{.+\})` \|$"
)


def _tables() -> dict[str, dict[str, dict[str, str]]]:
    """Rows of each error table, by the heading above it."""
    tables: dict[str, dict[str, dict[str, str]]] = {}
    heading = ""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        match = ROW.match(line.strip())
        if match:
            tables.setdefault(heading, {})[match["code"]] = match.groupdict()
    return tables


@pytest.mark.parametrize(("heading", "codes"), [
    ("Error codes of agent steps", AGENT_CODES),
    ("Error codes of mcp steps", MCP_CODES),
])
def test_each_table_matches_the_code(heading, codes):
    rows = _tables()[heading]
    assert list(rows) == [code.name for code in codes]  # the same codes, in the same order
    for name, row in rows.items():
        code = ErrorCode[name]
        assert row["kind"] == code.kind, name
        assert row["when"].strip(), name
        if name != "PLAYBOOK_FAILED":
            assert row["retry"].strip() == ("yes" if code.retryable else "no"), name
        envelope = Envelope.model_validate(json.loads(row["example"]))
        assert envelope.status == "error" and envelope.execution_id and envelope.error is not None
        assert envelope.error.code == name and envelope.error.kind == code.kind, name
        assert envelope.error.retryable == code.retryable, name
        assert envelope.error.message, name


def test_agent_examples_carry_the_agent_envelope_facts():
    for name, row in _tables()["Error codes of agent steps"].items():
        example = json.loads(row["example"])
        details = example["error"]["details"]
        assert details["framework"] == example["framework"], name
        assert details["entrypoint"] == example["entrypoint"], name
        assert details["duration"] == example["duration"], name
        if name == "PLAYBOOK_FAILED":
            assert details["child_execution_id"] == example["execution_id"]


def test_mcp_examples_name_the_failed_step():
    for name, row in _tables()["Error codes of mcp steps"].items():
        assert json.loads(row["example"])["error"]["step"] == {"name": "call", "kind": "mcp"}, name
