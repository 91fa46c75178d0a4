"""`tool.kind: mcp`: call a tool on another MCP server, with the official `mcp` SDK client.

```yaml
- step: search
  tool: {kind: mcp, server: github, tool: search_issues, arguments: {q: "{{ input.q }}"}, timeout: 20}
```

`server` names a catalog `kind: McpServer` definition (streamable HTTP or stdio; see
catalog/mcp_servers.py); `arguments` are the tool's arguments; `timeout` (seconds) bounds the call
with connecting, default the server's `spec.timeout`. The step's data is the tool's
`structuredContent` when it has one, else its text content (text blocks joined); a result with
only other content (images, resources) gives that content as JSON. Progress notifications of the
server become step progress. A playbook can so wrap any MCP server's tool, another agenthub's
playbooks included (they answer with their envelope as structured content).

Failures are error envelopes with codes (docs/agents.md): an unknown server MCP_SERVER_NOT_FOUND,
a tool the server does not list MCP_TOOL_NOT_FOUND (all pages read), `isError: true`
MCP_TOOL_ERROR with the text content as message, a JSON-RPC error MCP_PROTOCOL_ERROR, a timeout
MCP_TIMEOUT (DEADLINE_EXCEEDED when the execution's deadline binds, as the kind enforces the
deadline itself), a server that cannot be started or reached MCP_CONNECTION_ERROR. A session that
dropped (the server process died, the HTTP session expired) is reopened and the call retried once:
a call that was in flight when the connection dropped may so reach the server twice, as with any
retry; the retry happens only on transport errors, never on an answer. Everything the server says
is redacted of the server's keychain values.

Sessions are kept per server by the kind instance (`McpPool`) and closed by `aclose()`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import Any, Literal

import anyio
import httpx2
from mcp import MCPError
from mcp.types import CONNECTION_CLOSED, REQUEST_TIMEOUT, CallToolResult, TextContent, Tool
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bridges.mcp_client.connections import McpConnection, McpPool, OpenFailed, describe_exception
from bridges.mcp_client.servers import ServerTarget, resolve_target
from catalog.entries import McpServerEntry
from hub.contract.envelope import ErrorInfo, Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall
from hub.contract.templates import Templates

ServerLookup = Callable[[str], McpServerEntry | None]
ERROR_CODES: tuple[ErrorCode, ...] = (
    ErrorCode.STEP_CONFIG_INVALID,
    ErrorCode.MCP_SERVER_NOT_FOUND,
    ErrorCode.MCP_TOOL_NOT_FOUND,
    ErrorCode.KEYCHAIN_MISSING,
    ErrorCode.TEMPLATE_ERROR,
    ErrorCode.MCP_CONNECTION_ERROR,
    ErrorCode.MCP_PROTOCOL_ERROR,
    ErrorCode.MCP_TOOL_ERROR,
    ErrorCode.MCP_TIMEOUT,
    ErrorCode.DEADLINE_EXCEEDED,
)
"""Every code an mcp step can fail with (docs/agents.md lists them, checked by a test)."""
MESSAGE_LIMIT = 2000
INLINE_TIMEOUT = 60.0
"""Seconds for a call to an `endpoint` written inline (a catalog server has its own `timeout`)."""
"""Characters of a tool's error text kept in the message."""
_TRANSPORT_ERRORS = (
    anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream,
    ConnectionError, EOFError, httpx2.TransportError,
)


class McpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    server: str | None = Field(default=None, min_length=1, description="`metadata.name` of a catalog `kind: McpServer` file.")
    endpoint: str | None = Field(
        default=None, description="A streamable-HTTP endpoint written inline (NoETL's form) instead of `server`."
    )
    method: Literal["tools/call", "tools/list"] = Field(default="tools/call", description="tools/list answers the tools.")
    tool: str | None = Field(default=None, min_length=1, description="The tool's name on that server.")
    arguments: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments (a JSON string is read).")
    timeout: float | None = Field(
        default=None, gt=0, description="Seconds for the call, connecting included; default the server's."
    )

    @model_validator(mode="before")
    @classmethod
    def _noetl_names(cls, value: Any) -> Any:
        """NoETL's spellings: url/server_url/base_url, tool_name, args, timeout_seconds, JSON-string arguments."""
        if not isinstance(value, dict):
            return value
        value = dict(value)
        for alias, name in (("url", "endpoint"), ("server_url", "endpoint"), ("base_url", "endpoint"),
                            ("tool_name", "tool"), ("args", "arguments"), ("timeout_seconds", "timeout")):
            if alias in value and name not in value:
                value[name] = value.pop(alias)
        arguments = value.get("arguments")
        if isinstance(arguments, str) and not ("{{" in arguments or "{%" in arguments):
            try:
                value["arguments"] = json.loads(arguments) if arguments.strip() else {}
            except ValueError:
                raise ValueError("`arguments` is a string that is not a JSON object") from None
        return value

    @model_validator(mode="after")
    def _target(self) -> McpConfig:
        if (self.server is None) == (self.endpoint is None):
            raise ValueError("give exactly one of `server` (a catalog McpServer) or `endpoint` (a URL)")
        if self.endpoint is not None and not re.match(r"^https?://", self.endpoint):
            raise ValueError("`endpoint` must start with http:// or https://")
        if self.method == "tools/call" and self.tool is None:
            raise ValueError("tools/call needs `tool`")
        return self


class McpKind:
    name = "mcp"
    config_model = McpConfig
    raw_fields: frozenset[str] = frozenset()
    default_retry = None
    deadline_aware = True

    def __init__(self, servers: ServerLookup | None = None) -> None:
        """`servers` finds a server definition by name (the hub passes its catalog's lookup;
        without one, every server name is unknown)."""
        self._servers = servers
        self._pool = McpPool()
        self._templates = Templates()

    # --- the step -----------------------------------------------------------------------------

    async def run(self, call: StepCall) -> Any:
        config = call.config
        assert isinstance(config, McpConfig)
        if config.endpoint is not None:
            target = ServerTarget(name=config.endpoint, digest=config.endpoint, transport="http",
                                  timeout=config.timeout or INLINE_TIMEOUT, url=config.endpoint)
        else:
            assert config.server is not None
            target = self._target(self._lookup(call)(config.server), config.server)
        if config.method == "tools/list":
            connection = await self._connect(target)
            tools = await connection.tools(refresh=True)
            return {"tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools.values()]}
        limit, by_deadline = config.timeout or target.timeout, False
        remaining = call.context.remaining()
        if remaining is not None and remaining <= limit:
            limit, by_deadline = max(remaining, 0.0), True
        try:
            async with asyncio.timeout(limit + 0.25):  # the SDK's own read timeout fires first
                result = await self._call(target, config, time.monotonic() + limit, call)
        except (TimeoutError, _RequestTimeout):
            raise _timeout(target, config, limit, by_deadline) from None
        return self._data(target, config, result)

    async def _call(self, target: ServerTarget, config: McpConfig, deadline: float, call: StepCall) -> CallToolResult:
        async def progress(done: float, total: float | None, message: str | None) -> None:
            facts = {"server": target.name, "tool": config.tool, "progress": done, "total": total}
            text = message or f"{target.name}/{config.tool}: {done:g}" + (f"/{total:g}" if total else "")
            call.progress(target.redactor.text(text), facts)

        for attempt in (1, 2):
            connection = await self._connect(target)
            try:
                await self._check_tool(connection, config.tool)
                return await connection.client.call_tool(
                    config.tool, config.arguments,
                    read_timeout_seconds=max(deadline - time.monotonic(), 0.001),
                    progress_callback=progress,
                )
            except Exception as exc:
                if not _is_transport_error(exc):
                    raise _call_error(connection, config, exc) from None
                await self._pool.discard(connection)
                if attempt == 2:
                    raise _failure(
                        ErrorCode.MCP_CONNECTION_ERROR, target,
                        f"the connection to MCP server {target.name!r} dropped again after reopening: "
                        f"{connection.explain(exc)}",
                    ) from None
        raise AssertionError("unreachable")

    async def _connect(self, target: ServerTarget) -> McpConnection:
        try:
            return await self._pool.acquire(target)
        except Exception as exc:
            reason = str(exc) if isinstance(exc, OpenFailed) else describe_exception(exc)
            raise _failure(
                ErrorCode.MCP_CONNECTION_ERROR, target,
                f"cannot connect to MCP server {target.name!r} ({target.where}): {reason}",
            ) from None

    async def _check_tool(self, connection: McpConnection, tool: str) -> Tool:
        tools = await connection.tools()
        if tool not in tools:
            tools = await connection.tools(refresh=True)
        if tool not in tools:
            names = sorted(tools)
            shown = ", ".join(names[:30]) + (f" and {len(names) - 30} more" if len(names) > 30 else "")
            raise _failure(
                ErrorCode.MCP_TOOL_NOT_FOUND, connection.target,
                f"MCP server {connection.target.name!r} has no tool {tool!r}; it lists: {shown or 'no tools'}",
                details={"server": connection.target.name, "tool": tool},
            )
        return tools[tool]

    def _data(self, target: ServerTarget, config: McpConfig, result: CallToolResult) -> Any:
        text = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
        if result.is_error:
            message = text or "the tool reported an error without a message"
            if len(message) > MESSAGE_LIMIT:
                message = message[:MESSAGE_LIMIT] + "..."
            details: dict[str, Any] = {"server": target.name, "tool": config.tool}
            if result.structured_content is not None:
                details["structured_content"] = result.structured_content
            raise _failure(ErrorCode.MCP_TOOL_ERROR, target, message, details=details)
        if result.structured_content is not None:
            data: Any = result.structured_content
        elif text or not result.content:
            data = text
        else:
            data = [block.model_dump(mode="json", by_alias=True, exclude_none=True) for block in result.content]
        return target.redactor(data)

    # --- servers --------------------------------------------------------------------------------

    def _lookup(self, call: StepCall) -> ServerLookup:
        """The hub passes its catalog's lookup; a kind built without one knows no servers."""
        return self._servers if self._servers is not None else (lambda name: None)

    def _target(self, entry: McpServerEntry | None, name: str) -> ServerTarget:
        if entry is None:
            raise Failure.of(
                ErrorCode.MCP_SERVER_NOT_FOUND,
                f"no MCP server {name!r} in the catalog (define one in a `kind: McpServer` file)",
                details={"server": name},
            )
        return resolve_target(entry, self._templates)

    async def list_tools(self, server: McpServerEntry) -> list[Tool]:
        """Every tool `server` lists (all pages), over the kept session."""
        target = resolve_target(server, self._templates)
        connection = await self._connect(target)
        try:
            return list((await connection.tools(refresh=True)).values())
        except Exception as exc:
            if _is_transport_error(exc):
                await self._pool.discard(connection)
            raise

    async def aclose(self) -> None:
        await self._pool.aclose()


class _RequestTimeout(Exception):
    """The SDK's read timeout (an MCPError REQUEST_TIMEOUT), told apart from other errors."""


def _is_transport_error(exc: BaseException) -> bool:
    if isinstance(exc, MCPError):
        return exc.code == CONNECTION_CLOSED
    if isinstance(exc, BaseExceptionGroup):
        return any(_is_transport_error(e) for e in exc.exceptions)
    return isinstance(exc, _TRANSPORT_ERRORS)


def _call_error(connection: McpConnection, config: McpConfig, exc: Exception) -> Exception:
    target = connection.target
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, MCPError) and exc.code == REQUEST_TIMEOUT:
        return _RequestTimeout(str(exc))
    details: dict[str, Any] = {"server": target.name, "tool": config.tool}
    if isinstance(exc, MCPError):
        details["mcp_code"] = exc.code
        message = (f"MCP server {target.name!r} answered tools/call {config.tool!r} with error {exc.code}: "
                   f"{connection.explain(exc)}")
    elif isinstance(exc, (ValidationError, RuntimeError, ValueError)):
        message = f"MCP server {target.name!r} gave an invalid result for {config.tool!r}: {describe_exception(exc)}"
    else:
        message = f"calling {config.tool!r} on MCP server {target.name!r} failed: {describe_exception(exc)}"
    return _failure(ErrorCode.MCP_PROTOCOL_ERROR, target, message, details=details)


def _timeout(target: ServerTarget, config: McpConfig, limit: float, by_deadline: bool) -> Failure:
    details = {"server": target.name, "tool": config.tool}
    if by_deadline:
        return Failure.of(
            ErrorCode.DEADLINE_EXCEEDED,
            f"the execution's deadline passed during {target.name}/{config.tool}", details=details,
        )
    return Failure.of(
        ErrorCode.MCP_TIMEOUT, f"{target.name}/{config.tool} did not answer within {limit:g}s", details=details
    )


def _failure(
    code: ErrorCode, target: ServerTarget, message: str, *, details: dict[str, Any] | None = None
) -> Failure:
    facts = target.redactor(details or {"server": target.name})
    return Failure(ErrorInfo.of(code, target.redactor.text(message), details=facts))


