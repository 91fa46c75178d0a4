"""The flags of `agenthub serve`, kept apart from `hub.http.serve` so building the CLI parser stays cheap
(the server side imports the whole MCP SDK). Each flag has an `AGENTHUB_*` variable; the flag wins."""

from __future__ import annotations

import argparse

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
GRACEFUL_TIMEOUT = 5.0

ENV: dict[str, str] = {
    "host": "AGENTHUB_HOST",
    "port": "AGENTHUB_PORT",
    "public_url": "AGENTHUB_PUBLIC_URL",
    "allowed_hosts": "AGENTHUB_ALLOWED_HOSTS",
    "allowed_origins": "AGENTHUB_ALLOWED_ORIGINS",
    "max_body_bytes": "AGENTHUB_MAX_BODY_BYTES",
    "session_idle_timeout": "AGENTHUB_SESSION_IDLE_TIMEOUT",
    "max_sessions": "AGENTHUB_MAX_SESSIONS",
    "tokens_file": "AGENTHUB_TOKENS_FILE",
    "jwt_secret": "AGENTHUB_JWT_SECRET",
    "jwt_jwks_url": "AGENTHUB_JWT_JWKS_URL",
    "jwt_audience": "AGENTHUB_JWT_AUDIENCE",
    "jwt_issuer": "AGENTHUB_JWT_ISSUER",
    "authorization_servers": "AGENTHUB_AUTHORIZATION_SERVERS",
}
LIST_FLAGS = {"allowed_hosts", "allowed_origins", "jwt_audience", "authorization_servers"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `serve` flags; each has an `AGENTHUB_*` environment variable (the flag wins)."""
    add = parser.add_argument
    add("--host", help=f"bind address (env AGENTHUB_HOST, default {DEFAULT_HOST})")
    add("--port", type=int, help=f"port, 0 = any free one (env AGENTHUB_PORT, default {DEFAULT_PORT})")
    add("--public-url", help="base URL clients use, behind a proxy (env AGENTHUB_PUBLIC_URL)")
    add("--allowed-host", dest="allowed_hosts", action="append",
        help="accept this Host header, e.g. hub.example.com or host:* (repeatable; env AGENTHUB_ALLOWED_HOSTS)")
    add("--allowed-origin", dest="allowed_origins", action="append",
        help="accept this Origin (repeatable; env AGENTHUB_ALLOWED_ORIGINS)")
    add("--max-body-bytes", type=int, help="request size limit (env AGENTHUB_MAX_BODY_BYTES, default 4 MiB)")
    add("--session-idle-timeout", type=float, metavar="SECONDS",
        help="close a 2025-era MCP session idle this long (env AGENTHUB_SESSION_IDLE_TIMEOUT, default 1800)")
    add("--max-sessions", type=int, metavar="N",
        help="2025-era MCP sessions open at once; more get 503 (env AGENTHUB_MAX_SESSIONS, default 10000)")
    add("--tokens-file", help="YAML/JSON file of hashed bearer tokens (env AGENTHUB_TOKENS_FILE)")
    add("--jwt-secret", help="accept HS256 JWTs signed with this secret (env AGENTHUB_JWT_SECRET)")
    add("--jwt-jwks-url", help="accept RS256/ES256 JWTs signed by keys of this JWKS (env AGENTHUB_JWT_JWKS_URL)")
    add("--jwt-audience", dest="jwt_audience", action="append",
        help="accepted JWT `aud` (repeatable; env AGENTHUB_JWT_AUDIENCE; default the hub's /mcp URL)")
    add("--jwt-issuer", help="required JWT `iss` (env AGENTHUB_JWT_ISSUER)")
    add("--authorization-server", dest="authorization_servers", action="append",
        help="OAuth server named in the protected-resource metadata (default the JWT issuer)")
    add("--insecure", action="store_true",
        help="allow a non-loopback bind without auth or without --allowed-host (something in front checks them)")
    add("--call-timeout", type=float, metavar="SECONDS",
        help="answer `running` after this long (env AGENTHUB_CALL_TIMEOUT, default 60)")
    add("--max-concurrent", type=int, metavar="N",
        help="top-level executions at once (env AGENTHUB_MAX_CONCURRENT, default 64)")
    add("--isolate-subjects", action="store_true", default=None,
        help="only the token subject that started an execution (or a token with the `agenthub:admin` scope) "
             "may see, cancel or diagnose it (env AGENTHUB_ISOLATE_SUBJECTS)")
    add("--page-size", type=int, metavar="N", help="tools/list page size (env AGENTHUB_MCP_PAGE_SIZE, default 100)")
    add("--graceful-timeout", type=float, default=GRACEFUL_TIMEOUT, metavar="SECONDS",
        help=f"seconds to let connections finish on shutdown (default {GRACEFUL_TIMEOUT:g})")
