"""What every `agenthub` command shares: exit codes, the usage error, hub opening helpers."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from hub.app import Hub
from hub.config import HubConfig
from hub.contract.records import ExecutionRecord
from hub.contract.store import EventStore

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


MAX_CANDIDATES = 10


def check_db_location(db: Path) -> None:
    """Create the database's directory, or say clearly why it cannot be used (a UsageError naming
    the path and the way out, not a traceback from deep inside SQLite)."""
    where = db.expanduser()
    fix = "pass --db PATH or set AGENTHUB_DB to a writable place"
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the database directory {where.parent}: {exc.strerror or exc}; {fix}") from None
    if not os.access(where.parent, os.W_OK | os.X_OK):
        raise UsageError(f"the database directory {where.parent} is not writable; {fix}")
    if where.exists() and not os.access(where, os.R_OK | os.W_OK):
        raise UsageError(f"the database {where} is not readable and writable; {fix}")


async def find_execution(store: EventStore, ref: str, where: object) -> ExecutionRecord:
    """The execution `ref` (an id or a unique prefix) names; a UsageError that lists the candidates
    when the prefix is ambiguous, or says there is none."""
    record = await store.get(ref)
    if record is not None:
        return record
    prefix = ref.strip().lower()
    # ids sort by time and `list(before=)` pages by id: the newest ids below prefix+"\x7f" come first
    nearby = await store.list(before=prefix + "\x7f", limit=MAX_CANDIDATES + 1) if prefix else []
    candidates = [r for r in nearby if r.id.startswith(prefix)]
    if len(candidates) > 1:
        shown = "\n".join(f"  {r.id}  {r.playbook_path}  {r.status.value}" for r in candidates[:MAX_CANDIDATES])
        more = "\n  ... and more" if len(candidates) > MAX_CANDIDATES else ""
        raise UsageError(f"execution id prefix {ref!r} is ambiguous; it matches:\n{shown}{more}\n"
                         "give more characters of the id")
    raise UsageError(f"no execution {ref!r} in {where}")


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
