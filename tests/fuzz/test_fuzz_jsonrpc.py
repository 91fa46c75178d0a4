"""A bounded, seeded hypothesis run of JSON-RPC bodies against a real `agenthub serve`, in both
protocol eras: whatever arrives, the answer is never a 5xx, every request is answered, and the
server keeps serving real clients afterwards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from http_support import Served
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

CASES = 120
METHODS = ["initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/read",
           "resources/templates/list", "prompts/list", "prompts/get", "completion/complete", "logging/setLevel",
           "notifications/initialized", "notifications/cancelled", "subscriptions/listen", "tasks/get"]
TOOLS = ["echo", "slow", "failing", "twice", "hub_execution_status", "hub_find_agents", "nope"]
URIS = ["agenthub://playbooks/echo", "agenthub://playbooks/echo@99999999999999999999",
        "agenthub://executions/0", "agenthub://executions/x/json", "file:///etc/passwd", ""]
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
META_2026 = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
             "io.modelcontextprotocol/clientCapabilities": {}}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=20)


@st.composite
def params(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["tool", "resource", "random", "missing"]))
    if kind == "tool":
        return {"name": draw(st.sampled_from(TOOLS)),
                "arguments": draw(st.one_of(st.dictionaries(st.sampled_from(["text", "times", "seconds", "execution_id",
                                                                             "limit", "x"]), json_values, max_size=3),
                                            json_values))}
    if kind == "resource":
        return {"uri": draw(st.one_of(st.sampled_from(URIS), st.text(max_size=40)))}
    if kind == "random":
        return draw(json_values)
    return None


@st.composite
def bodies(draw: st.DrawFn) -> Any:
    message: dict[str, Any] = {"jsonrpc": draw(st.sampled_from(["2.0", "2.0", "2.0", "1.0", 2]))}
    if draw(st.booleans()):
        message["id"] = draw(st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=8),
                                       st.none(), st.floats(allow_nan=False, allow_infinity=False)))
    message["method"] = draw(st.one_of(st.sampled_from(METHODS), st.text(max_size=20)))
    found = draw(params())
    if found is not None:
        message["params"] = found
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(st.one_of(json_values, st.lists(st.just(message), max_size=3)))  # batches, bare values
    return message


def _with_meta(body: Any) -> Any:
    """2026-07-28 requests carry the era's `_meta`; keep that part valid so fuzzing reaches the hub."""
    if isinstance(body, dict) and isinstance(body.get("params"), dict):
        return {**body, "params": {**body["params"], "_meta": META_2026}}
    return body


def _session(api: httpx.Client) -> dict[str, str]:
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "1"}}}
    headers = {**HEADERS, "mcp-protocol-version": "2025-11-25"}
    answer = api.post("/mcp", json=init, headers=headers)
    assert answer.status_code == 200, answer.text
    headers["mcp-session-id"] = answer.headers["mcp-session-id"]
    api.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
def test_fuzzed_jsonrpc_bodies_never_get_a_5xx(fuzz_server: Served, era: str):
    answered: list[int] = []
    with fuzz_server.client() as api:
        headers = _session(api) if era == "2025-11-25" else {**HEADERS, "mcp-protocol-version": era}

        @settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(body=bodies())
        def one(body: Any) -> None:
            sent = _with_meta(body) if era == "2026-07-28" else body
            response = api.post("/mcp", json=sent, headers=headers)
            assert response.status_code < 500, (sent, response.status_code, response.text[:300])
            if response.headers.get("content-type", "").startswith("application/json") and response.content:
                error = response.json().get("error") if isinstance(response.json(), dict) else None
                assert not (isinstance(error, dict) and error.get("code") == 0), (sent, error)
            answered.append(response.status_code)

        one()
    assert len(answered) >= CASES


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_server_still_serves_after_fuzzing(fuzz_server: Served, mode: str):
    async with Client(fuzz_server.mcp_url, mode=mode) as client:
        result = await client.call_tool("echo", {"text": "after"})
        assert result.is_error is False and result.structured_content["data"] == {"text": "after", "length": 5}
    with fuzz_server.client() as api:
        assert api.get("/healthz").status_code == 200
