"""The MCP tasks extension (SEP-2663) over real streamable HTTP, as raw 2026-07-28 JSON-RPC (the
`mcp` SDK has no client API for it): create, poll, inline result, input through tasks/update,
cancel, the capability gate, routing headers, and a caller of another scope refused."""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from http_support import Served, start_server  # noqa: E402
from mcp_support import SLOW as MCP_SLOW  # noqa: E402

from catalog.loader import check_playbook  # noqa: E402
from hub.http.auth import TokenEntry, append_token, hash_token  # noqa: E402

TASKS = "io.modelcontextprotocol/tasks"
OPS, OTHER = "ops-token-0123456789", "other-token-0123456789"

SLOW = MCP_SLOW.replace("capabilities: [waiting]}", "capabilities: [waiting], task: optional, scopes: [ops]}")
assert SLOW != MCP_SLOW

ASK = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: ask, description: Asks to confirm., task: required, scopes: [ops]}
workflow:
  - step: confirm
    tool: {kind: elicit, message: Go on?, fields: {ok: {type: boolean}}}
    result: {ok: "{{ output.content.ok }}"}
"""

NAMED = """
apiVersion: agenthub/v1
kind: Playbook
metadata:
  name: named
  description: Asks a name in a round then works as a task.
  task: {support: required, input: rounds}
workflow:
  - step: who
    tool: {kind: elicit, message: Name?, fields: {name: {type: string}}}
    next: work
  - step: work
    tool: {kind: noop}
    result: {hello: "{{ who.content.name }}"}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("tasks")
    catalog = tmp / "catalog"
    catalog.mkdir()
    for name, text in (("slow", SLOW), ("ask", ASK), ("named", NAMED)):
        (catalog / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    tokens = tmp / "tokens.yaml"
    append_token(tokens, TokenEntry(sha256=hash_token(OPS), subject="ops", scopes=["ops"]))
    append_token(tokens, TokenEntry(sha256=hash_token(OTHER), subject="other", scopes=["elsewhere"]))
    server = start_server(tmp / "serve", catalog, "--tokens-file", str(tokens))
    yield server
    server.stop()


def rpc(served: Served, method: str, params: dict[str, Any], *, token: str = OPS, tasks: bool = True,
        name: str | None = None) -> httpx.Response:
    """One stateless request with the routing headers a 2026 client sends."""
    capabilities: dict[str, Any] = {"elicitation": {}}
    if tasks:
        capabilities["extensions"] = {TASKS: {}}
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": capabilities}
    headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method,
               "Accept": "application/json, text/event-stream", "Authorization": f"Bearer {token}"}
    named = name if name is not None else params.get("name") or params.get("taskId")
    if named is not None:
        headers["Mcp-Name"] = named
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": meta}}
    response = httpx.post(served.mcp_url, json=body, headers=headers, timeout=30)
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        last = [line[5:] for line in response.text.splitlines() if line.startswith("data:")][-1]
        return httpx.Response(response.status_code, content=last)
    return response


def result(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "result" in body, body
    return body["result"]


def error_code(response: httpx.Response) -> int:
    body = response.json()
    assert "error" in body, body
    return body["error"]["code"]


def poll(served: Served, task_id: str, until: set[str], token: str = OPS) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        task = result(rpc(served, "tasks/get", {"taskId": task_id}, token=token))
        if task["status"] in until or time.monotonic() > deadline:
            return task
        time.sleep(0.1)


def test_a_task_is_created_polled_and_answers_with_the_tool_result(served: Served):
    created = result(rpc(served, "tools/call", {"name": "slow", "arguments": {"seconds": 0.5}}))
    assert created["resultType"] == "task" and created["status"] in {"working", "completed"}
    assert isinstance(created["ttlMs"], int) and isinstance(created["pollIntervalMs"], int)
    assert not {"task", "result", "error", "inputRequests", "requestState"} & set(created)
    task_id = created["taskId"]
    first = result(rpc(served, "tasks/get", {"taskId": task_id}))  # durable before the answer came
    assert first["taskId"] == task_id and first["resultType"] == "complete"
    done = poll(served, task_id, {"completed", "failed", "cancelled"})
    assert done["status"] == "completed" and "error" not in done
    assert done["result"]["isError"] is False
    envelope = done["result"]["structuredContent"]
    assert envelope["execution_id"] == task_id and envelope["data"] == {"slept": 0.5}
    assert error_code(rpc(served, "tasks/result", {"taskId": task_id})) == -32601
    assert error_code(rpc(served, "tasks/list", {})) == -32601


def test_a_task_asks_on_tasks_get_and_goes_on_after_tasks_update(served: Served):
    task_id = result(rpc(served, "tools/call", {"name": "ask", "arguments": {}}))["taskId"]
    waiting = poll(served, task_id, {"input_required", "completed", "failed"})
    assert waiting["status"] == "input_required"
    assert waiting["inputRequests"]["confirm"]["method"] == "elicitation/create"
    ack = result(rpc(served, "tasks/update", {"taskId": task_id, "inputResponses": {
        "confirm": {"action": "accept", "content": {"ok": True}}}}))
    assert ack["resultType"] == "complete" and not {"taskId", "status", "result"} & set(ack)
    done = poll(served, task_id, {"completed", "failed", "cancelled"})
    assert done["status"] == "completed" and done["result"]["structuredContent"]["data"] == {"ok": True}


def test_cancelling_a_task_stops_its_execution(served: Served):
    task_id = result(rpc(served, "tools/call", {"name": "slow", "arguments": {"seconds": 60}}))["taskId"]
    ack = result(rpc(served, "tasks/cancel", {"taskId": task_id}))
    assert ack["resultType"] == "complete" and "status" not in ack
    assert poll(served, task_id, {"completed", "failed", "cancelled"})["status"] == "cancelled"
    assert result(rpc(served, "tasks/cancel", {"taskId": task_id}))["resultType"] == "complete"  # idempotent
    with served.client(OPS) as api:
        assert api.get(f"/api/executions/{task_id}").json()["status"] == "cancelled"


def test_without_the_extension_a_call_is_plain_and_tasks_methods_are_refused(served: Served):
    plain = result(rpc(served, "tools/call", {"name": "slow", "arguments": {"seconds": 0}}, tasks=False))
    assert plain["resultType"] == "complete" and "taskId" not in plain and plain["isError"] is False
    required = rpc(served, "tools/call", {"name": "ask", "arguments": {}}, tasks=False)
    assert error_code(required) == -32021
    assert TASKS in required.json()["error"]["data"]["requiredCapabilities"]["extensions"]
    for method in ("tasks/get", "tasks/cancel"):
        assert error_code(rpc(served, method, {"taskId": "x"}, tasks=False)) == -32021


def test_a_caller_of_another_scope_never_sees_the_task(served: Served):
    task_id = result(rpc(served, "tools/call", {"name": "slow", "arguments": {"seconds": 60}}))["taskId"]
    try:
        for method, params in (("tasks/get", {}), ("tasks/cancel", {}), ("tasks/update", {"inputResponses": {}})):
            refused = rpc(served, method, {"taskId": task_id, **params}, token=OTHER)
            assert error_code(refused) == -32602, method
        assert result(rpc(served, "tasks/get", {"taskId": task_id}))["status"] == "working"  # not cancelled
        assert error_code(rpc(served, "tasks/get", {"taskId": "no-such-task"})) == -32602
        mismatched = rpc(served, "tasks/get", {"taskId": task_id}, name="another-task")
        assert mismatched.status_code == 400 and error_code(mismatched) == -32020
    finally:
        rpc(served, "tasks/cancel", {"taskId": task_id})


def test_input_rounds_first_then_the_answering_call_gets_the_task(served: Served):
    first = result(rpc(served, "tools/call", {"name": "named", "arguments": {}}))
    assert first["resultType"] == "input_required" and "taskId" not in first
    assert list(first["inputRequests"]) == ["who"]
    answer = {"who": {"action": "accept", "content": {"name": "Ada"}}}
    second = result(rpc(served, "tools/call", {"name": "named", "arguments": {},
                                               "requestState": first["requestState"], "inputResponses": answer}))
    assert second["resultType"] == "task" and not {"requestState", "inputRequests"} & set(second)
    done = poll(served, second["taskId"], {"completed", "failed", "cancelled"})
    assert done["status"] == "completed" and done["result"]["structuredContent"]["data"] == {"hello": "Ada"}


def test_a_task_setting_outside_the_three_is_refused_on_load():
    source = textwrap.dedent(ASK).lstrip().replace("task: required", "task: sometimes")
    loaded = check_playbook(source, "ask.yaml")
    assert loaded.playbook is None
    problems = [(p.field, p.message) for p in loaded.problems]
    assert any(field == "metadata.task" and "'optional'" in message for field, message in problems), problems
