"""`agenthub serve`: the HTTP front door (MCP streamable HTTP, REST API, health) under uvicorn.

Security defaults: binds 127.0.0.1; a non-loopback bind without auth (tokens file or JWT) is
refused unless `--insecure` (exit 2). The socket is bound *before* the app is built, so with
`--port 0` the real port is known for the protected-resource metadata and the JWT audience
default, and the line `agenthub serving on http://HOST:PORT/mcp` (stdout) tells scripts and tests
where to connect.

Shutdown (SIGTERM or SIGINT): running executions are cancelled first, so requests waiting on them
answer at once and the store records them cancelled; then uvicorn closes connections (at most
`--graceful-timeout` seconds) and the app's lifespan closes the MCP sessions and the hub. The exit
status is 0. After start-up the objects left by imports (and the loaded catalog) are moved out of
the garbage collector's reach (`gc.freeze()`), which keeps gen-2 collections from setting the
latency tail. No `gc.collect()` before it: with 10,000 playbooks that walked the whole heap for
~0.3 s of start-up to free a few dozen objects.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import uvicorn

from hub.app import Hub
from hub.http.auth import AuthConfig
from hub.config import HubConfig
from hub.http.app import HttpSettings, build_app, is_loopback, transport_security
from hub.http.serve_flags import DEFAULT_HOST, DEFAULT_PORT, ENV, LIST_FLAGS

log = logging.getLogger("agenthub.serve")

EXIT_OK, EXIT_USAGE = 0, 2


def settings_from(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> HttpSettings:
    """Flags over `AGENTHUB_*` environment over defaults. Raises ValueError on bad values."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, var in ENV.items():
        flag = getattr(args, name, None)
        if flag is not None:
            values[name] = flag
        elif env.get(var):
            raw = env[var]
            values[name] = [v.strip() for v in raw.split(",") if v.strip()] if name in LIST_FLAGS else raw
    auth_fields = set(AuthConfig.model_fields)
    auth = AuthConfig.model_validate({k: v for k, v in values.items() if k in auth_fields})
    http = {k: v for k, v in values.items() if k not in auth_fields}
    http.setdefault("host", DEFAULT_HOST)
    http.setdefault("port", DEFAULT_PORT)
    return HttpSettings.model_validate({**http, "auth": auth})


class HubUvicorn(uvicorn.Server):
    """uvicorn with the hub's start-up line, gc.freeze(), and a shutdown that cancels runs first."""

    def __init__(self, config: uvicorn.Config, hub: Hub, url: str) -> None:
        super().__init__(config)
        self.hub = hub
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return
        gc.freeze()
        print(f"agenthub serving on {self.url}", flush=True)
        api = self.url.removesuffix("/mcp") + "/api"
        log.info("REST API on %s (OpenAPI: %s/openapi.json)", api, api)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        running = self.hub.engine.running()
        if running:
            log.info("cancelling %d running execution(s)", len(running))
        for execution_id in running:
            await self.hub.engine.cancel(execution_id)
        await super().shutdown(sockets=sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Like uvicorn's, but without re-raising the signal afterwards: a SIGTERM that shut the
        hub down cleanly is a normal exit (status 0)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def bind(host: str, port: int) -> socket.socket:
    """A bound TCP socket (so the real port is known before the app is built); OSError if busy."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _fail(message: str) -> int:
    print(f"agenthub serve: {message}", file=sys.stderr, flush=True)
    return EXIT_USAGE


async def serve(args: argparse.Namespace, config: HubConfig) -> int:
    """Run the HTTP server until SIGTERM/SIGINT. Exit 2 on bad settings or an unsafe bind."""
    from hub.mcp.server import (
        HubMcpServer,  # the heavy SDK server, only for this command
    )

    try:
        settings = settings_from(args)
        overrides = {"call_timeout": args.call_timeout, "max_concurrent": args.max_concurrent,
                     "isolate_subjects": args.isolate_subjects}
        config = HubConfig.model_validate(
            {**config.model_dump(), **{k: v for k, v in overrides.items() if v is not None}}
        )
    except ValueError as exc:
        return _fail(f"bad configuration: {exc}")
    if args.page_size is not None and args.page_size < 1:
        return _fail("--page-size must be at least 1")
    if not is_loopback(settings.host) and not settings.auth.enabled and not args.insecure:
        return _fail(
            f"refusing to serve on {settings.host} without auth: anyone who can reach it could run "
            "playbooks. Give --tokens-file or --jwt-secret/--jwt-jwks-url, bind 127.0.0.1, or pass "
            "--insecure if something in front of the hub does the auth."
        )
    if not is_loopback(settings.host) and not transport_security(settings).enable_dns_rebinding_protection \
            and not args.insecure:
        return _fail(
            f"refusing to serve on {settings.host} without --allowed-host (or --public-url): the Host/Origin "
            "check against DNS rebinding needs the names clients use. Give --allowed-host NAME (repeatable), "
            "or pass --insecure if something in front of the hub checks them."
        )
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        return _fail(f"cannot bind {settings.host}:{settings.port}: {exc}")
    try:
        settings = settings.model_copy(update={"port": sock.getsockname()[1]})
        hub = Hub(config)
        mcp = HubMcpServer(hub, page_size=args.page_size, call_timeout=config.call_timeout,
                           max_sessions=settings.max_sessions, session_idle_timeout=settings.session_idle_timeout)
        try:
            app = build_app(hub, mcp, settings)
        except ValueError as exc:
            return _fail(str(exc))
        verbose = bool(getattr(args, "verbose", False))
        uvicorn_config = uvicorn.Config(
            app,
            log_level="debug" if verbose else "warning",
            access_log=verbose,
            lifespan="on",
            timeout_graceful_shutdown=args.graceful_timeout,
            server_header=False,
        )
        server = HubUvicorn(uvicorn_config, hub, settings.mcp_url)
        await server.serve(sockets=[sock])
        return EXIT_OK if server.started else 1
    finally:
        sock.close()
