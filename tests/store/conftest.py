"""The store suite runs on both backends: each test gets a `backend` (SQLite on a fresh file, or
PostgreSQL in a fresh database dropped afterwards) and opens stores on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.services import postgres_database
from tests.store.backends import Backend


@pytest.fixture(params=["sqlite", "postgres"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "state" / "hub.db"))
        return
    async with postgres_database() as dsn:
        yield Backend("postgres", dsn)
