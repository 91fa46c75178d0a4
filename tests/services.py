"""The real services cluster tests use (PostgreSQL, NATS JetStream), each test in its own space.

Other engineers' tests use the same servers at the same time, so every test gets a uniquely named
database (dropped after) or stream/subject prefix. Where a service is not running, the test is
skipped with a reason naming it and how to start it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator

import pytest

PG_ADMIN = os.environ.get("AGENTHUB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("AGENTHUB_TEST_NATS", "nats://127.0.0.1:4222")
_HOW = "see /work/.library/env/machines/python-svc.md (CI starts PostgreSQL and NATS)"


def _reachable(url: str, default_port: int) -> bool:
    hostport = url.split("@")[-1].split("//")[-1].split("/")[0]
    host, _, port = hostport.partition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or default_port)), timeout=1):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    pytest.importorskip("asyncpg", reason="the postgres extra (asyncpg) is not installed")
    if not _reachable(PG_ADMIN, 5432):
        pytest.skip(f"PostgreSQL is not running at {PG_ADMIN.split('@')[-1]}; {_HOW}")


def require_nats() -> None:
    pytest.importorskip("nats", reason="the nats extra (nats-py) is not installed")
    if not _reachable(NATS_URL, 4222):
        pytest.skip(f"NATS is not running at {NATS_URL}; {_HOW}")


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(5)}"


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh database for one test; yields its DSN and drops it afterwards."""
    require_postgres()
    import asyncpg

    name = unique("agenthub_test")
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        admin = await asyncpg.connect(PG_ADMIN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
