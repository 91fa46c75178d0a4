"""`completion/complete` on the hub's resource templates, through the official client."""

from __future__ import annotations

from mcp import Client, types
from mcp_support import ECHO, THREE_STEPS

from hub.mcp.server import HubMcpServer


async def test_resource_template_arguments_complete_from_catalog_and_store(hub, write_playbook):
    write_playbook("echo", ECHO)
    write_playbook("tools/three_steps", THREE_STEPS)
    write_playbook("tools/echo_again", ECHO.replace("name: echo", "name: echo_again"))
    server = HubMcpServer(await hub())
    async with Client(server.server) as client:
        assert client.server_capabilities.completions is not None
        playbooks = types.ResourceTemplateReference(uri="agenthub://playbooks/{+path}")
        tools = await client.complete(playbooks, {"name": "path", "value": "tools/"})
        assert tools.completion.values == ["tools/echo_again", "tools/three_steps"]
        assert tools.completion.total == 2 and tools.completion.has_more is False

        ran = [(await client.call_tool("echo", {"text": str(i)})).structured_content["execution_id"] for i in range(3)]
        executions = types.ResourceTemplateReference(uri="agenthub://executions/{id}")
        every = await client.complete(executions, {"name": "id", "value": ""})
        assert every.completion.values == list(reversed(ran))  # newest first
        one = await client.complete(executions, {"name": "id", "value": ran[1]})
        assert one.completion.values == [ran[1]]
        none = await client.complete(executions, {"name": "id", "value": "zzz"})
        assert none.completion.values == []

        prompt = types.PromptReference(name="anything")
        assert (await client.complete(prompt, {"name": "x", "value": "a"})).completion.values == []
