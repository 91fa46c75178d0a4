"""A small MCP server over stdio, on the `mcp` SDK's low-level `Server`, for the `mcp` kind's
examples and tests.

    python -m hub.examples.mcp_echo_server [--page-size N]

Tools: `echo` (structured output `{text, length}`), `add` (structured `{sum}`), `shout` (text only),
`fail` (answers `isError: true` with the given message), `slow` (sleeps, reporting progress) and
`whoami` (the server's process id and how many handshakes it answered, `initialize` or
`server/discover`: a client that keeps its session sees the same pid and one handshake).
`--page-size` sets how many tools one tools/list page holds, to exercise cursor pagination.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any

import anyio
import mcp.types as types
from mcp.server import Server, ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError

TOOLS = [
    types.Tool(
        name="echo", description="Echo a text with its length.",
        input_schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
        output_schema={"type": "object", "properties": {"text": {"type": "string"}, "length": {"type": "integer"}},
                       "required": ["text", "length"]},
    ),
    types.Tool(
        name="add", description="Add two numbers.",
        input_schema={"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                      "required": ["a", "b"]},
        output_schema={"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]},
    ),
    types.Tool(
        name="shout", description="The text in capitals (text content only).",
        input_schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    ),
    types.Tool(
        name="fail", description="Answer with an error result carrying the message.",
        input_schema={"type": "object", "properties": {"message": {"type": "string"}}},
    ),
    types.Tool(
        name="slow", description="Sleep for `seconds`, reporting progress every tenth.",
        input_schema={"type": "object", "properties": {"seconds": {"type": "number"}}},
    ),
    types.Tool(
        name="whoami", description="This server's process id and how many handshakes it answered.",
        input_schema={"type": "object", "properties": {}},
    ),
]


@dataclass
class EchoServer:
    """The server's state: its page size and the handshakes it answered."""

    page_size: int
    handshakes: int = 0

    async def count_handshakes(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Middleware: counts `initialize` (2025 era) and `server/discover` (2026 era) requests."""
        if ctx.method in ("initialize", "server/discover"):
            self.handshakes += 1
        return await call_next(ctx)

    async def list_tools(
        self, ctx: ServerRequestContext, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        start = int(params.cursor) if params is not None and params.cursor else 0
        end = start + self.page_size
        return types.ListToolsResult(tools=TOOLS[start:end], next_cursor=str(end) if end < len(TOOLS) else None)

    async def call_tool(self, ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
        args: dict[str, Any] = params.arguments or {}
        if params.name == "echo":
            text = str(args.get("text", ""))
            return _result(text, {"text": text, "length": len(text)})
        if params.name == "add":
            total = float(args.get("a", 0)) + float(args.get("b", 0))
            return _result(f"{total:g}", {"sum": total})
        if params.name == "shout":
            return _result(str(args.get("text", "")).upper())
        if params.name == "fail":
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=str(args.get("message", "it failed")))], is_error=True
            )
        if params.name == "slow":
            seconds = float(args.get("seconds", 1.0))
            for step in range(1, 11):
                await anyio.sleep(seconds / 10)
                await ctx.session.report_progress(step, total=10, message=f"slept {step * seconds / 10:.2f}s")
            return _result(f"slept {seconds:g}s", {"slept": seconds})
        if params.name == "whoami":
            return _result(str(os.getpid()), {"pid": os.getpid(), "handshakes": self.handshakes})
        raise MCPError(code=types.INVALID_PARAMS, message=f"Unknown tool: {params.name}")


def _result(text: str, structured: dict[str, Any] | None = None) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)


def build(page_size: int = 100) -> Server:
    state = EchoServer(page_size=page_size)
    server = Server("agenthub-example-echo", version="1.0.0",
                    on_list_tools=state.list_tools, on_call_tool=state.call_tool)
    server.middleware.append(state.count_handshakes)
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page-size", type=int, default=100, help="tools per tools/list page")
    options = parser.parse_args(argv)
    server = build(options.page_size)

    async def serve() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(serve)


if __name__ == "__main__":
    main()
