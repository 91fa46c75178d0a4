"""The diagnosis on the hub's other surfaces: a failed MCP `tools/call` carries it in its
structured content, the `hub_diagnose_execution` tool and `POST /api/executions/{id}/diagnose`
diagnose on demand. MCP through the official client connected in-process to the hub's server,
REST through httpx against the real Starlette routes."""

from __future__ import annotations

from typing import Any

import httpx
from llm_servers import answer
from mcp import Client
from starlette.applications import Starlette

from hub.mcp.server import HubMcpServer
from hub.http.rest import RestApi

FAILING = """
    apiVersion: agenthub/v1
    kind: Playbook
    metadata: {{name: failing}}
    {on_failure}
    workflow:
      - step: explode
        tool: {{kind: python, code: "def main():\\n    raise KeyError('total')"}}
"""


async def test_a_failed_tools_call_carries_the_diagnosis(hub, write_playbook, llm_env, ollama_server) -> None:
    write_playbook("failing", FAILING.format(on_failure="on_failure: {troubleshoot: true, escalate_to: none}"))
    ollama_server.script(answer("tool_error", 0.9, "Step explode reads a missing key."))
    server = HubMcpServer(await hub())
    async with Client(server.server) as client:
        result = await client.call_tool("failing", {})
    assert result.is_error is True
    error = result.structured_content["error"]
    assert error["code"] == "PYTHON_ERROR" and error["message"] == "KeyError: 'total'"
    assert error["diagnosis"]["category"] == "tool_error"
    assert error["diagnosis"]["root_cause"] == "Step explode reads a missing key."


async def test_hub_diagnose_execution_tool(hub, write_playbook, llm_env, ollama_server, openai_server) -> None:
    write_playbook("failing", FAILING.format(on_failure=""))
    ollama_server.script(answer("infra", 0.9))  # disagrees with the rule: escalates
    openai_server.script(answer("tool_error", 0.9, "Step explode reads a missing key."))
    h = await hub()
    server = HubMcpServer(h)
    async with Client(server.server) as client:
        failed = await client.call_tool("failing", {})
        assert "diagnosis" not in failed.structured_content["error"]  # the opt-in is off
        execution_id = failed.structured_content["execution_id"]
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert "hub_diagnose_execution" in tools
        result = await client.call_tool("hub_diagnose_execution", {"execution_id": execution_id[:13]})
        assert result.is_error is False
        data = result.structured_content
        assert data["execution_id"] == execution_id and data["category"] == "tool_error"
        assert data["escalated"] is True and data["source"] == "openai"
        assert "tool_error" in result.content[0].text
        cheap = await client.call_tool("hub_diagnose_execution", {"execution_id": execution_id, "escalate_to": "none"})
        assert cheap.structured_content["escalated"] is False and len(openai_server.requests) == 1
        unknown = await client.call_tool("hub_diagnose_execution", {"execution_id": "ffffffff-0000"})
        assert unknown.is_error and unknown.structured_content["error"]["code"] == "INPUT_INVALID"
    await h.store.flush()
    assert len([e for e in await h.store.events(execution_id) if e.type == "diagnosis.finished"]) == 2


class _Asgi:
    """What `RestApi.routes` wraps each route in (here nothing: no host check, no auth)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _client(h: Any) -> httpx.AsyncClient:
    api = RestApi(h, auth_enabled=False)
    app = Starlette(routes=api.routes(_Asgi))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test")


async def test_rest_diagnose_endpoint(hub, write_playbook, llm_env, ollama_server) -> None:
    write_playbook("failing", FAILING.format(on_failure=""))
    write_playbook("fine", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: fine}
        workflow:
          - step: s
            tool: {kind: noop}
            input: {a: 1}
    """)
    ollama_server.script(answer("tool_error", 0.95, "Step explode reads a missing key."))
    h = await hub()
    failed = await h.engine.run("failing", {})
    ok = await h.engine.run("fine", {})
    async with _client(h) as api:
        response = await api.post(f"/api/executions/{failed.execution_id}/diagnose")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["execution_id"] == failed.execution_id and body["category"] == "tool_error"
        assert body["source"] == "ollama" and [t["tier"] for t in body["tiers"]] == ["rules", "ollama"]
        not_failed = await api.post(f"/api/executions/{ok.execution_id}/diagnose")
        assert not_failed.status_code == 409 and not_failed.json()["error"]["code"] == "NOT_FAILED"
        missing = await api.post("/api/executions/ffffffff-0000/diagnose")
        assert missing.status_code == 404
        document = RestApi(h, auth_enabled=False).openapi()
        operation = document["paths"]["/api/executions/{execution_id}/diagnose"]["post"]
        assert set(operation["responses"]) >= {"200", "404", "409"}
