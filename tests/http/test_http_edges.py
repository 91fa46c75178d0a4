"""Out-of-range numbers at the edges of a real `agenthub serve` (issue 14, item 10): every integer
is bounded where it enters, so the answer is a 422 (REST) or -32602 (MCP), never a 500 or a
JSON-RPC error with code 0."""

from __future__ import annotations

import pytest
from http_support import Served
from mcp import Client, types
from mcp.shared.exceptions import MCPError

HUGE = "99999999999999999999"


def test_oversized_integers_are_422_naming_the_field(plain_server: Served):
    with plain_server.client() as api:
        ran = api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "x"}}).json()
        answers = {
            "path": api.get(f"/api/catalog/echo@{HUGE}"),
            "version": api.get("/api/catalog/echo", params={"version": HUGE}),
            "after_seq": api.get(f"/api/executions/{ran['execution_id']}/events", params={"after_seq": HUGE}),
            "body version": api.post("/api/executions", json={"playbook": "echo", "version": int(HUGE)}),
            "body path": api.post("/api/executions", json={"playbook": f"echo@{HUGE}"}),
            "timeout": api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "x"},
                                                         "timeout": 1e300}),
        }
        for where, response in answers.items():
            assert response.status_code == 422, (where, response.text)
            assert response.json()["error"]["code"] == "REQUEST_INVALID", where
            assert "Overflow" not in response.text
        assert api.get("/api/catalog/echo@1").status_code == 200  # in range: served as before


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_oversized_versions_in_resource_uris_are_invalid_params(plain_server: Served, era: str):
    async with Client(plain_server.mcp_url, mode=era) as client:
        for uri in (f"agenthub://playbooks/echo@{HUGE}", f"agenthub://playbooks/echo@{'9' * 5000}"):
            with pytest.raises(MCPError) as refused:
                await client.read_resource(uri)
            assert refused.value.error.code == types.INVALID_PARAMS
        assert "name: echo" in (await client.read_resource("agenthub://playbooks/echo@1")).contents[0].text
