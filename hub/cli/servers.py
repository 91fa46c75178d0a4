"""`agenthub serve` (HTTP), `agenthub stdio` (MCP over stdio) and `agenthub token`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys

import yaml

from hub.app import Hub
from hub.cli.common import EXIT_OK, UsageError, err
from hub.config import HubConfig


async def cmd_serve(args: argparse.Namespace, config: HubConfig) -> int:
    """HTTP front door; see hub.http.serve (flags, env, security defaults, shutdown)."""
    from hub.http.serve import serve

    return await serve(args, config)


async def cmd_token(args: argparse.Namespace, config: HubConfig) -> int:
    """`token hash` prints what a tokens file stores; `token new` prints a fresh token (stdout, once:
    only its hash is kept) and adds its entry to --tokens-file, or prints the entry on stderr."""
    import time

    from hub.http.auth import TokenEntry, append_token, hash_token, new_token

    if args.token_command == "hash":
        raw = args.token if args.token is not None else sys.stdin.readline().strip()
        if not raw:
            raise UsageError("no token given (pass it, or pipe it on stdin)")
        print(hash_token(raw))
        return EXIT_OK
    raw = new_token()
    expires = int(time.time() + args.expires_in) if args.expires_in else None
    entry = TokenEntry(sha256=hash_token(raw), subject=args.subject, scopes=args.scopes, expires_at=expires)
    if args.tokens_file is not None:
        try:
            append_token(args.tokens_file, entry)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        err(f"added {args.subject}'s token to {args.tokens_file}")
    else:
        err(yaml.safe_dump({"tokens": [entry.model_dump(exclude_none=True)]}, sort_keys=False).rstrip())
    print(raw)
    return EXIT_OK


async def cmd_stdio(args: argparse.Namespace, config: HubConfig) -> int:
    """Serve MCP on stdin/stdout until the client closes them; stdout carries only the protocol
    (logs go to stderr).

    SIGTERM/SIGINT: the stdin reader sits in a thread no cancellation can interrupt, so instead of
    cancelling, the hub is closed (running executions are cancelled and recorded as such) and the
    process then dies of the signal's default action, as a client that sent it expects.
    """
    from hub.cli.protocol_streams import claim_stdin, claim_stdout
    from hub.mcp.server import HubMcpServer

    if args.page_size is not None and args.page_size < 1:
        raise UsageError("--page-size must be at least 1")
    protocol_out, protocol_in = claim_stdout(), claim_stdin()  # before any user code can run
    loop = asyncio.get_running_loop()
    async with Hub(config) as hub:
        stopping: list[asyncio.Task[None]] = []

        async def stop(signum: int) -> None:
            try:
                await hub.aclose()
            finally:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda n=signum: stopping.append(loop.create_task(stop(n))))
        server = HubMcpServer(hub, page_size=args.page_size, call_timeout=args.call_timeout,
                              execution_links=args.execution_links)
        # as `serve` does after start-up: what imports and the catalog left is moved out of the
        # collector's reach, so no collection walks it again while calls are served (no collect
        # first: with 10,000 playbooks it walked the whole heap for ~0.3 s to free a few objects)
        gc.freeze()
        await server.run_stdio(protocol_in, protocol_out)
    return EXIT_OK
