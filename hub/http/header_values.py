"""Header values as HTTP defines them: without the optional whitespace around them.

RFC 9110 §5.5 says a field value excludes leading and trailing whitespace (SP, HTAB), and a
recipient must strip it before looking at the value. uvicorn's httptools parser hands the value on
as received, and the `mcp` SDK compares the 2026-07-28 routing headers (`Mcp-Method`, `Mcp-Name`,
`Mcp-Param-*`) byte for byte with the body, so `Mcp-Name:  echo ` would be refused as a mismatch
(-32020). This wrapper trims the values of the `mcp-*` headers before the MCP app sees them; other
headers are left alone (auth and Host checks already parse their own).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_OWS = b" \t"


class TrimmedMcpHeaders:
    """ASGI wrapper: `mcp-*` request header values without surrounding SP/HTAB."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            if any(name.startswith(b"mcp-") and value != value.strip(_OWS) for name, value in headers):
                scope = dict(scope)
                scope["headers"] = [
                    (name, value.strip(_OWS) if name.startswith(b"mcp-") else value) for name, value in headers
                ]
        await self.app(scope, receive, send)
