"""2025-era POSTs on a real `agenthub serve` (issue 12): a call that asks for no progress, on a
session that asked for no logs and cannot be asked questions, is answered as plain JSON; one with
a progress token, or on a session after `logging/setLevel`, or whose client declared elicitation
or sampling, still gets its SSE stream (with the notifications before the response)."""

from __future__ import annotations

import json
import time

import httpx
from http_support import Served, wait_for

HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream",
           "mcp-protocol-version": "2025-11-25"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "quiet-posts-test", "version": "1"}}}


def session(api: httpx.Client, capabilities: dict | None = None) -> dict[str, str]:
    init = {**INITIALIZE, "params": {**INITIALIZE["params"], "capabilities": capabilities or {}}}
    answer = api.post("/mcp", json=init, headers=HEADERS)
    assert answer.status_code == 200, answer.text
    headers = {**HEADERS, "mcp-session-id": answer.headers["mcp-session-id"]}
    assert api.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                    headers=headers).status_code == 202
    return headers


def call(api: httpx.Client, headers: dict[str, str], request_id: int, meta: dict | None = None) -> httpx.Response:
    params: dict = {"name": "echo", "arguments": {"text": "hi"}}
    if meta is not None:
        params["_meta"] = meta
    return api.post("/mcp", json={"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params},
                    headers=headers)


def sse_messages(response: httpx.Response) -> list[dict]:
    return [json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]


def test_quiet_calls_get_json_and_asking_ones_keep_their_stream(plain_server: Served):
    with plain_server.client() as api:
        headers = session(api)

        # until the hub has handled `notifications/initialized` (after its 202), it does not know
        # the client and keeps to SSE
        quiet = wait_for(lambda: (r := call(api, headers, 2)).headers["content-type"].startswith(
            "application/json") and r)
        assert quiet.status_code == 200
        assert quiet.headers["content-type"].startswith("application/json")
        body = quiet.json()
        assert body["id"] == 2 and body["result"]["structuredContent"]["data"] == {"text": "hi", "length": 2}

        asking = call(api, headers, 3, {"progressToken": "p-3"})
        assert asking.headers["content-type"].startswith("text/event-stream")
        messages = sse_messages(asking)
        progress = [m for m in messages if m.get("method") == "notifications/progress"]
        assert [m["params"]["progressToken"] for m in progress] == ["p-3", "p-3"]
        assert messages[-1]["id"] == 3 and messages[-1]["result"]["isError"] is False

        level = api.post("/mcp", json={"jsonrpc": "2.0", "id": 4, "method": "logging/setLevel",
                                       "params": {"level": "info"}}, headers=headers)
        assert level.status_code == 200
        logged = call(api, headers, 5)
        assert logged.headers["content-type"].startswith("text/event-stream")
        logs = [m for m in sse_messages(logged) if m.get("method") == "notifications/message"]
        assert [m["params"]["data"]["event"] for m in logs] == ["step.started", "step.finished"]

        other = session(api)  # the level belongs to that session only
        assert wait_for(lambda: call(api, other, 6).headers["content-type"].startswith("application/json"))

        for capabilities in ({"elicitation": {}}, {"sampling": {}}):  # it may be asked questions
            askable = session(api, capabilities)
            probe = session(api)  # known to the hub once it answers JSON: so is `askable` by then
            assert wait_for(lambda: call(api, probe, 7).headers["content-type"].startswith("application/json"))
            time.sleep(0.2)
            assert call(api, askable, 8).headers["content-type"].startswith("text/event-stream")


def test_a_cancelled_quiet_call_is_answered_as_an_event(plain_server: Served):
    """The client gave up (notifications/cancelled): the REQUEST_CANCELLED answer comes as one SSE
    event, which clients drop once they stopped listening, as they do on a stream."""
    import threading

    with plain_server.client() as api, plain_server.client() as other:
        headers = session(api)
        wait_for(lambda: call(api, headers, 2).headers["content-type"].startswith("application/json"))
        answer: dict = {}

        def slow_call() -> None:
            answer["response"] = api.post("/mcp", headers=headers, json={
                "jsonrpc": "2.0", "id": 9, "method": "tools/call",
                "params": {"name": "slow", "arguments": {"seconds": 30}}})

        caller = threading.Thread(target=slow_call)
        caller.start()
        time.sleep(1.0)
        cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 9}}
        assert other.post("/mcp", json=cancel, headers=headers).status_code == 202
        caller.join(30)
        response = answer["response"]
        assert response.headers["content-type"].startswith("text/event-stream")
        (message,) = sse_messages(response)
        assert message["id"] == 9 and message["error"]["code"] == -32800
