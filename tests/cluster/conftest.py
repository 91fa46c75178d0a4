"""Cluster fixtures: each test gets its own PostgreSQL database and NATS stream prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cluster.cluster_support import NESTED, RELAY, SLEEPER, Cluster, CountingServer, delete_stream
from tests.services import postgres_database, require_nats, unique


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    require_nats()
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "relay.yaml").write_text(RELAY.lstrip(), encoding="utf-8")
    (catalog / "nested.yaml").write_text(NESTED.lstrip(), encoding="utf-8")
    (catalog / "sleeper.yaml").write_text(SLEEPER.lstrip(), encoding="utf-8")
    prefix = unique("aht").replace("_", "-")
    async with postgres_database() as dsn:
        made = Cluster(tmp_path, catalog, dsn, prefix)
        try:
            yield made
        finally:
            made.stop()
            await delete_stream(prefix)


@pytest.fixture
def counter() -> AsyncIterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()
