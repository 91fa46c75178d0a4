"""The bare reference server of `bench/mcp.py`: the `mcp` SDK's low-level `Server` with one `echo`
tool and nothing else, served the way `agenthub serve` serves the hub.

* HTTP (default): the SDK's `StreamableHTTPSessionManager` with the hub's settings (stateful, SSE
  replies on the legacy leg, DNS-rebinding protection for loopback), mounted at `/mcp` in Starlette,
  under uvicorn on a socket bound before start-up; after start-up `gc.collect(); gc.freeze()` like
  the hub, then the line `bare serving on http://127.0.0.1:PORT/mcp` on stdout.
* `--stdio`: the same `Server` over stdin/stdout.

`echo` takes `{text}` and answers `{text, length}` as structured content plus the text.
`--tools N` registers N-1 more (`tool_00001`...) for a tools/list comparison, paged like the hub
(`--page-size`, default 100, opaque cursor = index).

    python bench/mcp_bare.py --port 0 [--tools 10000]
    python bench/mcp_bare.py --stdio
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

# bench/mcp.py would shadow the SDK package `mcp` for a script run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import anyio
import uvicorn
from mcp import types
from mcp.server import NotificationOptions, Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import (
    StreamableHTTPASGIApp,
    StreamableHTTPSessionManager,
)
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from starlette.applications import Starlette
from starlette.routing import Route

SERVING = "bare serving on "
ECHO_INPUT: dict[str, Any] = {
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
}
ECHO_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "length": {"type": "integer"}},
    "required": ["text", "length"],
}


def build_server(tool_count: int, page_size: int) -> Server[Any]:
    tools = [types.Tool(name="echo", description="Echoes a text with its length.",
                        input_schema=ECHO_INPUT, output_schema=ECHO_OUTPUT)]
    tools += [
        types.Tool(name=f"tool_{i:05d}", description=f"Generated tool {i}.", input_schema=ECHO_INPUT)
        for i in range(1, tool_count)
    ]
    schemas = {tool.name: tool.input_schema for tool in tools}

    async def list_tools(ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        start = int(params.cursor) if params and params.cursor else 0
        end = start + page_size
        return types.ListToolsResult(tools=tools[start:end], next_cursor=str(end) if end < len(tools) else None)

    async def call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in schemas:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name}")
        text = str((params.arguments or {}).get("text", ""))
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structured_content={"text": text, "length": len(text)},
        )

    # get_tool_input_schema as the hub gives it: without it the SDK's 2026 leg lists the tools on
    # every tools/call to validate Mcp-Param headers.
    return Server("bare-echo", version="1", on_list_tools=list_tools, on_call_tool=call_tool,
                  get_tool_input_schema=schemas.get)


def build_app(server: Server[Any]) -> Starlette:
    manager = StreamableHTTPSessionManager(
        app=server,
        stateless=False,
        json_response=False,
        security_settings=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        ),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    return Starlette(routes=[Route("/mcp", StreamableHTTPASGIApp(manager))], lifespan=lifespan)


class BareUvicorn(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            gc.collect()
            gc.freeze()
            print(f"{SERVING}{self.url}", flush=True)


async def serve_http(server: Server[Any], port: int) -> None:
    # proto must be IPPROTO_TCP (not 0): asyncio sets TCP_NODELAY on accepted connections only then,
    # and without it Nagle + delayed ACK add ~40 ms to every SSE reply (the hub's bind() gets it
    # from getaddrinfo).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    config = uvicorn.Config(build_app(server), log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=2, server_header=False)
    try:
        await BareUvicorn(config, url).serve(sockets=[sock])
    finally:
        sock.close()


async def serve_stdio(server: Server[Any]) -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options(NotificationOptions()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--stdio", action="store_true")
    parser.add_argument("--tools", type=int, default=1, help="tools to register (echo + N-1 generated)")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    server = build_server(max(1, args.tools), args.page_size)
    if args.stdio:
        anyio.run(serve_stdio, server)
        return
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # uvicorn replaces it while serving
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_http(server, args.port))


if __name__ == "__main__":
    sys.exit(main())
