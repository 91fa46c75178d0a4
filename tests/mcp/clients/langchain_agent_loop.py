"""A LangChain agent loop against agenthub over stdio, run by a Python that has
langchain-mcp-adapters (which needs the 1.x `mcp` SDK, so it lives in its own venv).

argv: hub python, catalog, db. Prints one JSON object with what the loop saw."""
from __future__ import annotations

import asyncio
import json
import sys

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage, convert_to_openai_messages
from langchain_mcp_adapters.client import MultiServerMCPClient


async def main() -> None:
    hub_python, catalog, db = sys.argv[1:4]
    client = MultiServerMCPClient({"hub": {
        "transport": "stdio", "command": hub_python,
        "args": ["-m", "hub.cli.main", "stdio", "--catalog", catalog, "--db", db, *sys.argv[4:]],
    }})
    tools = {tool.name: tool for tool in await client.get_tools()}
    model = GenericFakeChatModel(messages=iter([
        AIMessage(content="", tool_calls=[{"name": "echo", "args": {"text": "hi", "times": 2}, "id": "call_1"}]),
        AIMessage(content="", tool_calls=[{"name": "failing", "args": {}, "id": "call_2"}]),
        AIMessage(content="All done."),
    ]))
    messages = [HumanMessage(content="Echo hi twice, then try the failing tool.")]
    while True:  # the agent loop: ask the model, run the tools it calls, feed the answers back
        reply = await model.ainvoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            messages.append(await tools[call["name"]].ainvoke({**call, "type": "tool_call"}))
    results = [m for m in messages if isinstance(m, ToolMessage)]
    print(json.dumps({
        "tools": sorted(tools),
        "final": messages[-1].content,
        "tool_messages": [{"content": m.content, "artifact": m.artifact, "status": m.status} for m in results],
        "openai": convert_to_openai_messages(messages),
    }, default=str))


asyncio.run(main())
