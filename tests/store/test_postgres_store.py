"""What only the PostgreSQL store has: numbered migrations shared by every node, `agenthub db
migrate`, and a whole hub (catalog versions, runs, the CLI) on a postgresql:// store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.app import Hub
from hub.config import HubConfig
from hub.store.postgres import PostgresEventStore
from hub.store.postgres_schema import SCHEMA_VERSION, migrate
from tests.services import postgres_database

REPO = Path(__file__).resolve().parents[2]


async def test_migrations_run_once_and_a_newer_schema_is_refused() -> None:
    import asyncpg

    async with postgres_database() as dsn:
        conn = await asyncpg.connect(dsn)
        try:
            assert await migrate(conn) == (0, SCHEMA_VERSION)
            assert await migrate(conn) == (SCHEMA_VERSION, SCHEMA_VERSION)  # nothing left to do
            tables = {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
            assert {"executions", "events", "playbook_versions", "agenthub_schema"} <= tables
            await conn.execute("INSERT INTO agenthub_schema (version) VALUES ($1)", SCHEMA_VERSION + 1)
        finally:
            await conn.close()
        with pytest.raises(RuntimeError, match=f"schema {SCHEMA_VERSION + 1} is newer"):
            async with PostgresEventStore(dsn):
                pass


def test_a_bad_url_is_refused_without_echoing_credentials() -> None:
    with pytest.raises(ValueError) as caught:
        PostgresEventStore("mysql://admin:hunter2@db/hub")
    assert "hunter2" not in str(caught.value)


def test_config_keeps_a_url_and_hides_its_password(tmp_path: Path) -> None:
    url = "postgresql://hub:s3cret@db.internal:5432/agenthub"
    config = HubConfig.load({"AGENTHUB_DB": url})
    assert config.uses_postgres and config.db == url
    assert config.db_display == "postgresql://db.internal:5432/agenthub"
    local = HubConfig.load({"AGENTHUB_DB": str(tmp_path / "hub.db")})
    assert not local.uses_postgres and local.db == tmp_path / "hub.db"


async def test_a_hub_on_postgres_runs_playbooks_and_numbers_versions_in_the_database(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    book = catalog / "twice.yaml"
    book.write_text(
        "apiVersion: agenthub/v1\nkind: Playbook\nmetadata: {name: twice, path: demo/twice, scopes: [math]}\n"
        "input: {n: {type: integer}}\n"
        "workflow:\n  - step: double\n    tool: {kind: noop}\n    result: '{{ n * 2 }}'\n",
        encoding="utf-8",
    )
    async with postgres_database() as dsn:
        async with Hub(HubConfig(catalog=catalog, db=dsn)) as hub:
            envelope = await hub.engine.run("demo/twice", {"n": 21})
            assert envelope.status == "ok" and envelope.data == 42
            assert hub.catalog.get("demo/twice").version == 1
            record = await hub.store.get(envelope.execution_id)
            assert record.status.value == "succeeded" and record.playbook_version == 1
            assert record.required_scopes == ["math"]  # stored at start (schema 2), read back
        book.write_text(book.read_text().replace("n * 2", "n * 3"), encoding="utf-8")
        async with Hub(HubConfig(catalog=catalog, db=dsn)) as other_node:  # another process, same database
            assert other_node.catalog.get("demo/twice").version == 2
            assert (await other_node.engine.run("demo/twice", {"n": 2})).data == 6
            again = await other_node.store.get(envelope.execution_id)
            assert again.envelope["data"] == 42

        env = {**os.environ, "AGENTHUB_DB": dsn}
        migrate_cli = subprocess.run(
            [sys.executable, "-m", "hub.cli.main", "db", "migrate"], cwd=REPO, env=env,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert migrate_cli.returncode == 0, migrate_cli.stderr
        assert f"schema {SCHEMA_VERSION} -> schema {SCHEMA_VERSION}" in migrate_cli.stderr
        listing = subprocess.run(
            [sys.executable, "-m", "hub.cli.main", "executions", "list", "--json"], cwd=REPO, env=env,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert listing.returncode == 0, listing.stderr
        assert envelope.execution_id in {row["id"] for row in json.loads(listing.stdout)}


def test_db_migrate_creates_a_fresh_sqlite_store(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "hub.db"
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli.main", "db", "migrate", "--db", str(db)], cwd=REPO,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "a new store -> schema 3" in done.stderr and db.exists()  # 3: executions.required_scopes
