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
            if _untrimmed(headers):
                scope = dict(scope)
                scope["headers"] = [
                    (name, value.strip(_OWS) if name.startswith(b"mcp-") else value) for name, value in headers
                ]
        await self.app(scope, receive, send)


def _untrimmed(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether any `mcp-*` value starts or ends with SP/HTAB (a loop: this runs on every request)."""
    for name, value in headers:
        if value and (value[0] in _OWS or value[-1] in _OWS) and name.startswith(b"mcp-"):
            return True
    return False
