"""The HTTP front door: one Starlette app with MCP (`/mcp`), the REST API (`/api`) and health checks.

Layout (outermost first):
* `EndStreams`: closes SSE streams the SDK leaves open when the server shuts down.
* `BodyLimitMiddleware`: bodies over `max_body_bytes` get 413 before anything reads them.
* With auth on: the SDK's `AuthenticationMiddleware(BearerAuthBackend(verifier))` and
  `AuthContextMiddleware`, so `get_access_token()` works in MCP handlers and REST handlers alike.
* `/mcp`: the SDK's streamable HTTP transport (`StreamableHTTPSessionManager`, stateful, so legacy
  clients keep a GET stream for list_changed; 2026-07-28 requests are sessionless either way),
  wrapped in the SDK's `RequireAuthMiddleware` (401/403 with `WWW-Authenticate`). DNS-rebinding
  protection is the SDK's `TransportSecuritySettings`. Legacy request POSTs that ask for no
  progress on a session that asked for no logs are answered as JSON (`hub.http.quiet_posts`).
* `/api/...`: the REST API, each route behind the same Host/Origin check and `RequireAuthMiddleware`;
  `/api/openapi.json` is public (a schema is no secret).
* `/.well-known/oauth-protected-resource/mcp`: RFC 9728 metadata (with auth on).
* `/healthz` (the process answers) and `/readyz` (store open and answering, catalog loaded); public.

The lifespan opens the Hub, starts the catalog watcher and the MCP session manager, and on the way
out closes them in reverse, which cancels running executions and records them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import anyio
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import (
    BearerAuthBackend,
    RequireAuthMiddleware,
)
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.routes import build_resource_metadata_url
from mcp.server.streamable_http_manager import (
    DEFAULT_SESSION_IDLE_TIMEOUT,
    StreamableHTTPASGIApp,
)
from mcp.server.transport_security import (
    DEFAULT_MAX_REQUEST_BODY_SIZE,
    TransportSecurityMiddleware,
    TransportSecuritySettings,
)
from mcp.shared.auth import ProtectedResourceMetadata
from pydantic import AnyHttpUrl, BaseModel, Field
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.app import Hub
from hub.http.header_values import TrimmedMcpHeaders
from hub.http.auth import AuthConfig
from hub.http.quiet_posts import QuietPostSessions
from hub.mcp.server import HubMcpServer
from hub.http.rest import RestApi
from hub.http.plumbing import api_error
from hub.http.rest_models import MAX_TIMEOUT, Health, Readiness
from hub.mcp.legacy_sessions import DEFAULT_MAX_SESSIONS

log = logging.getLogger("agenthub.http")

MCP_PATH = "/mcp"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


class HttpSettings(BaseModel):
    """What `agenthub serve` configures on the HTTP side (`hub.http.serve` fills it from flags and env)."""

    host: str = Field(default="127.0.0.1", description="The bind address.")
    port: int = Field(default=8765, ge=0, le=65535, description="The bound port (known before the app is built).")
    public_url: str | None = Field(
        default=None, description="Base URL clients use (behind a proxy); default http://HOST:PORT."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Extra Host header values (`host:port`, `host:*`) accepted."
    )
    allowed_origins: list[str] = Field(default_factory=list, description="Extra Origin values accepted.")
    max_body_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BODY_SIZE, gt=0)
    session_idle_timeout: float | None = Field(
        default=DEFAULT_SESSION_IDLE_TIMEOUT, gt=0, le=MAX_TIMEOUT,
        description="Seconds after which an idle 2025-era MCP session is closed and forgotten.",
    )
    max_sessions: int = Field(
        default=DEFAULT_MAX_SESSIONS, ge=1, description="2025-era MCP sessions open at once; more get 503."
    )
    authorization_servers: list[str] = Field(
        default_factory=list,
        description="OAuth authorization servers named in the protected-resource metadata "
                    "(default: the JWT issuer, if any).",
    )
    auth: AuthConfig = Field(default_factory=AuthConfig)

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def mcp_url(self) -> str:
        return self.base_url + MCP_PATH


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts local connections (names other than localhost: no)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_security(settings: HttpSettings) -> TransportSecuritySettings:
    """DNS-rebinding protection: on for loopback binds (loopback Host/Origin only, plus any extra
    given), on with the given lists otherwise; off only for a non-loopback bind with no list."""
    hosts, origins = list(settings.allowed_hosts), list(settings.allowed_origins)
    if is_loopback(settings.host):
        hosts += LOOPBACK_HOSTS
        origins += LOOPBACK_ORIGINS
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        if parts.netloc:
            hosts.append(parts.netloc)
            origins.append(f"{parts.scheme}://{parts.netloc}")
    if not hosts:
        log.warning("DNS-rebinding protection is off: bound to %s with no --allowed-host", settings.host)
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


# -- middleware ---------------------------------------------------------------------------------


class BodyLimitMiddleware:
    """Refuses request bodies over `limit` bytes with 413: at once from Content-Length, or as soon
    as a chunked body grows past it. Then the app is told the client went away (`http.disconnect`)
    and whatever it still tries to answer is dropped. A body with a Content-Length within the limit
    goes through untouched (uvicorn's parser delivers exactly that many bytes)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = value
        if declared is not None and declared.isdigit():
            if int(declared) > self.limit:
                await self._refuse(scope, receive, send)
                return
            if chunked is None:  # the server reads exactly that many bytes: nothing to count
                await self.app(scope, receive, send)
                return
        seen = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit and not started:
                    refused = True
                    await self._refuse(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = api_error(413, "PAYLOAD_TOO_LARGE", f"the request body is over {self.limit} bytes")
        await response(scope, receive, send)


class EndStreams:
    """Ends a streamed response the app left open: on shutdown sse-starlette cancels the SDK's SSE
    streams without their last chunk, which leaves the client a cut-off stream and uvicorn an error
    line per stream. Sending the final empty chunk closes them cleanly."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = complete = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True
            await send(message)

        await self.app(scope, receive, tracking_send)
        if started and not complete:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


class ForgetDeletedSessions:
    """After the SDK answered a session's DELETE, the hub forgets its reference to that session
    too (`hub.mcp.legacy_sessions`), so nothing of an ended session stays in memory."""

    def __init__(self, app: ASGIApp, mcp: HubMcpServer) -> None:
        self.app = app
        self.mcp = mcp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and scope["method"] == "DELETE":
            session_id = next((v for k, v in scope["headers"] if k == b"mcp-session-id"), None)
            if session_id is not None:
                self.mcp.forget_session(session_id.decode("latin-1"))


class HostGuard:
    """The SDK's Host/Origin check (DNS-rebinding protection) for routes outside the MCP transport."""

    def __init__(self, app: ASGIApp, settings: TransportSecuritySettings) -> None:
        self.app = app
        self.check = TransportSecurityMiddleware(settings)
        self.enabled = settings.enable_dns_rebinding_protection

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.enabled and scope["type"] == "http":
            refused = await self.check.validate_request(Request(scope, receive), is_post=False)
            if refused is not None:
                code = "HOST_NOT_ALLOWED" if refused.status_code == 421 else "ORIGIN_NOT_ALLOWED"
                text = bytes(refused.body).decode("utf-8", "replace")
                await api_error(refused.status_code, code, text)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# -- the app -----------------------------------------------------------------------------------


class _State:
    """Readiness, per app (no module-level state)."""

    def __init__(self) -> None:
        self.ready = False
        self.detail: str | None = "starting"


def _protected_resource(settings: HttpSettings, hub: Hub) -> dict[str, Any]:
    """RFC 9728 metadata for `/mcp`. `authorization_servers` is required by the SDK's model (and
    MCP); with only a tokens file and no issuer there is none to name, so the document is plain
    RFC 9728 without it."""
    servers = settings.authorization_servers or ([settings.auth.jwt_issuer] if settings.auth.jwt_issuer else [])
    scopes = sorted({s for e in hub.catalog.entries() for s in e.scopes})
    fields: dict[str, Any] = {"resource": settings.mcp_url, "scopes_supported": scopes or None,
                              "resource_name": "agenthub", "bearer_methods_supported": ["header"]}
    if servers:
        metadata = ProtectedResourceMetadata(authorization_servers=[AnyHttpUrl(s) for s in servers], **fields)
        return metadata.model_dump(mode="json", exclude_none=True)
    return {k: v for k, v in fields.items() if v is not None}


def build_app(hub: Hub, mcp: HubMcpServer, settings: HttpSettings) -> Starlette:
    """The whole HTTP app. Raises ValueError on bad auth settings (e.g. a broken tokens file)."""
    verifier: TokenVerifier | None = settings.auth.verifier(default_audience=settings.mcp_url)
    security = transport_security(settings)
    state = _State()
    manager = QuietPostSessions(
        app=mcp.server,
        wants_stream=mcp.wants_post_streams,
        stateless=False,
        json_response=False,
        security_settings=security,
        max_request_body_size=settings.max_body_bytes,
        session_idle_timeout=settings.session_idle_timeout,
        max_sessions=settings.max_sessions,
    )
    metadata_url = str(build_resource_metadata_url(AnyHttpUrl(settings.mcp_url))) if verifier else None
    rest = RestApi(hub, auth_enabled=verifier is not None, resource_metadata_url=metadata_url)

    def secured(app: ASGIApp) -> ASGIApp:
        return RequireAuthMiddleware(app, [], AnyHttpUrl(metadata_url)) if verifier is not None else app

    def guarded(app: ASGIApp) -> ASGIApp:
        return HostGuard(secured(app), security)

    def host_checked(app: ASGIApp) -> ASGIApp:  # public routes: no token, but the Host/Origin check
        return HostGuard(app, security)

    async def healthz(request: Request) -> Response:
        return JSONResponse(Health().model_dump())

    async def readyz(request: Request) -> Response:
        counts = {"playbooks": len(hub.catalog), "problems": len(hub.catalog.problems),
                  "running": len(hub.engine.running()), "sessions": len(mcp.sessions)}
        if not state.ready:
            body = Readiness(status="starting", detail=state.detail, **counts)
            return JSONResponse(body.model_dump(mode="json"), status_code=503)
        try:
            with anyio.fail_after(5):
                await hub.store.list(limit=1)
        except Exception as exc:  # noqa: BLE001 - any store failure means not ready
            body = Readiness(status="unavailable", detail=f"store: {type(exc).__name__}: {exc}", **counts)
            return JSONResponse(body.model_dump(mode="json"), status_code=503)
        return JSONResponse(Readiness(status="ready", **counts).model_dump(mode="json", exclude_none=True))

    async def protected_resource(request: Request) -> Response:
        return JSONResponse(_protected_resource(settings, hub), headers={"Cache-Control": "public, max-age=300"})

    routes: list[Route] = [
        Route("/healthz", host_checked(request_response(healthz)), methods=["GET"]),
        Route("/readyz", host_checked(request_response(readyz)), methods=["GET"]),
        Route(MCP_PATH, secured(TrimmedMcpHeaders(ForgetDeletedSessions(StreamableHTTPASGIApp(manager), mcp))),
              name="mcp"),
        *rest.routes(guarded, host_checked),
    ]
    if verifier is not None:
        well_known = urlsplit(metadata_url or "").path
        routes.append(Route(well_known, protected_resource, methods=["GET"]))

    middleware = [Middleware(EndStreams), Middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)]
    if verifier is not None:
        middleware += [
            Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(verifier)),
            Middleware(AuthContextMiddleware),
        ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.open()
        try:
            async with manager.run(), anyio.create_task_group() as tasks:
                await tasks.start(mcp.watch_catalog)  # watching before serving: no early edit is missed
                state.ready, state.detail = True, None
                try:
                    yield
                finally:
                    state.ready, state.detail = False, "stopping"
                    tasks.cancel_scope.cancel()
        finally:
            await hub.aclose()  # cancels what still runs and records it

    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_exception},
    )
    app.state.rest = rest
    app.state.settings = settings
    return app


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Router 404/405: JSON `ApiErrorBody` under /api, plain text elsewhere."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api"):
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "REQUEST_INVALID")
        response: Response = api_error(exc.status_code, code, f"{request.method} {request.url.path}: {exc.detail}")
    else:
        response = PlainTextResponse(exc.detail, status_code=exc.status_code)
    if exc.headers:
        response.headers.update(exc.headers)
    return response

