"""From a catalog `McpServer` definition to an open `mcp.Client`.

The definition (catalog/mcp_servers.py) is resolved when a connection opens: keychain entries are
read from the environment or files, header and env templates rendered with them, and `command:
python` becomes the hub's own interpreter. The result, a `ServerTarget`, knows its secrets (so
whatever the server says can be redacted of them) and a digest of the definition it came from (so
the pool reopens a connection when the file changes).

Templates go through the hub's sandboxed renderer and keychain reader (`hub.contract.templates`,
`hub.contract.secrets`): leaf modules that import only the contract modules, so using them keeps the
one-way arrows (bridges never reach the engine).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from catalog.entries import McpServerEntry
from hub.contract.secrets import Redactor, resolve_keychain
from hub.contract.templates import Templates

CONNECT_TIMEOUT = 30.0
STREAM_READ_TIMEOUT = 300.0
"""The SDK's own defaults for HTTP: a server may hold a response stream open for long."""
HUB_PYTHON = "python"


@dataclass(frozen=True)
class ServerTarget:
    """Everything needed to open one connection to one server, with secrets resolved."""

    name: str
    digest: str
    transport: Literal["http", "stdio"]
    timeout: float
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    redactor: Redactor = field(default_factory=Redactor)

    @property
    def where(self) -> str:
        """Where the server is, for messages (never with header values)."""
        if self.transport == "http":
            return str(self.url)
        return " ".join([str(self.command), *self.args])

    @asynccontextmanager
    async def connect(self, on_http_error: Callable[[int], None] | None = None) -> AsyncIterator[Client]:
        """An initialised client; must be entered and left in one task (the transports hold
        anyio cancel scopes), which is why `McpConnection` gives each connection a task.
        `on_http_error` hears every HTTP status >= 400 (the SDK reports a 401 only as "Server
        returned an error response", so the status is kept to say what went wrong)."""
        async def heard(response: httpx2.Response) -> None:
            if response.status_code >= 400 and on_http_error is not None:
                on_http_error(response.status_code)

        async with AsyncExitStack() as stack:
            if self.transport == "http":
                http = await stack.enter_async_context(httpx2.AsyncClient(
                    headers=self.headers, timeout=httpx2.Timeout(CONNECT_TIMEOUT, read=STREAM_READ_TIMEOUT),
                    event_hooks={"response": [heard]},
                ))
                client = Client(streamable_http_client(str(self.url), http_client=http), cache=None)
            else:
                params = StdioServerParameters(
                    command=str(self.command), args=list(self.args), env=self.env or None, cwd=self.cwd
                )
                client = Client(params, cache=None)
            yield await stack.enter_async_context(client)


def resolve_target(entry: McpServerEntry, templates: Templates) -> ServerTarget:
    """Read the keychain and render the templates; raises `Failure` (KEYCHAIN_MISSING,
    TEMPLATE_ERROR) when a secret is missing or a template does not render."""
    server = entry.server
    spec = server.spec
    keychain = resolve_keychain(server.keychain)
    context = {"keychain": keychain}
    where = f"McpServer {entry.name}"
    headers = {k: str(templates.render(v, context, f"{where}.headers.{k}")) for k, v in spec.headers.items()}
    env = {k: str(templates.render(v, context, f"{where}.env.{k}")) for k, v in spec.env.items()}
    command = sys.executable if spec.command == HUB_PYTHON else spec.command
    return ServerTarget(
        name=entry.name,
        digest=entry.digest,
        transport=spec.transport,
        timeout=spec.timeout,
        url=spec.url,
        headers=headers,
        command=command,
        args=tuple(spec.args),
        env=env,
        cwd=spec.cwd,
        redactor=Redactor(keychain.values()),
    )
