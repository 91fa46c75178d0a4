"""Values the store cannot hold, on a real `agenthub serve` (issue 14, item 6): too-deep arguments
are refused up front as `input.validation` (REST and MCP, both eras), and a step returning
something unencodable fails that execution with OUTPUT_NOT_SERIALIZABLE; the execution ends, the
store keeps working and the next call of anyone else succeeds."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from http_support import Served, wait_for
from mcp import Client

UNSTORABLE = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: unstorable, description: Returns what JSON cannot hold.}
input:
  what: {type: string, enum: [huge, deep]}
workflow:
  - step: make
    tool:
      kind: python
      code: |
        def main(what):
            if what == "huge":
                return {"n": 10 ** 5000}
            value = {}
            for _ in range(300):
                value = {"down": value}
            return value
    input: {what: "{{ input.what }}"}
"""


def nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"down": value}
    return value


@pytest.fixture(scope="module")
def served(plain_server: Served) -> Served:
    (plain_server.catalog / "unstorable.yaml").write_text(textwrap.dedent(UNSTORABLE).lstrip(), encoding="utf-8")
    with plain_server.client() as api:
        wait_for(lambda: api.get("/api/catalog/unstorable").status_code == 200)
    return plain_server


def test_too_deep_arguments_are_input_validation_over_rest(served: Served):
    with served.client() as api:
        refused = api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": nested(300)}})
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["kind"] == "input.validation" and error["code"] == "INPUT_INVALID"
        assert "nested deeper than 64 levels" in error["message"]
        shown = api.get(f"/api/executions/{refused.json()['execution_id']}").json()
        assert shown["status"] == "failed" and "unrecorded" in shown["arguments"]
        body = '{"playbook": "echo", "arguments": {"text": ' + "[" * 100_000 + "]" * 100_000 + "}}"
        unreadable = api.post("/api/executions", content=body, headers={"content-type": "application/json"})
        assert unreadable.status_code in (400, 422) and unreadable.json()["error"]["code"].startswith("REQUEST_")
        assert api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "ok"}}).json()["status"] == "ok"


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_too_deep_arguments_are_input_validation_over_mcp(served: Served, era: str):
    async with Client(served.mcp_url, mode=era) as client:
        result = await client.call_tool("echo", {"text": nested(100)})  # the client itself stops near 250
        assert result.is_error
        assert result.structured_content["error"]["kind"] == "input.validation"
        assert "nested deeper than 64 levels" in result.structured_content["error"]["message"]
        assert (await client.call_tool("echo", {"text": "still serving"})).is_error is False


@pytest.mark.parametrize("what", ["huge", "deep"])
def test_an_unstorable_output_fails_its_execution_and_nothing_else(served: Served, what: str):
    with served.client() as api:
        answer = api.post("/api/executions", json={"playbook": "unstorable", "arguments": {"what": what}})
        assert answer.status_code == 200
        envelope = answer.json()
        assert envelope["error"]["code"] == "OUTPUT_NOT_SERIALIZABLE"
        assert envelope["error"]["step"] == {"name": "make", "kind": "python"}
        assert ("4300 digits" if what == "huge" else "nested deeper than 128") in envelope["error"]["message"]
        execution_id = envelope["execution_id"]
        assert api.get(f"/api/executions/{execution_id}").json()["status"] == "failed"
        events = api.get(f"/api/executions/{execution_id}/events").json()["items"]
        assert [e["type"] for e in events][-2:] == ["step.failed", "execution.finished"]
        assert json.dumps(events)  # every event stored and readable
        ok = api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "next"}})
        assert ok.status_code == 200 and ok.json()["data"] == {"text": "next", "length": 4}
