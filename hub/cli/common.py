"""What every `agenthub` command shares: exit codes, the usage error, hub opening helpers."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator

from hub.app import Hub
from hub.config import HubConfig

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in the command line; printed as `agenthub: ...` with exit code 2."""


@contextlib.asynccontextmanager
async def closing(hub: Hub) -> AsyncIterator[Hub]:
    try:
        yield hub
    finally:
        await hub.aclose()


async def store_only(config: HubConfig) -> Hub:
    """A hub for commands that only read or flag executions: no catalog scan, no ledger writes."""
    return await Hub(config).open(load_catalog=False)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
