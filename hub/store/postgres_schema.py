"""The store's PostgreSQL schema: numbered migrations, applied in order, once, by whoever is first.

Every node of a cluster opens the same database, so migrating is guarded by a transaction-level
advisory lock (PostgreSQL's own lock, held until the migration commits): the first node applies
what is missing, the others wait and then find nothing left to do. `agenthub db migrate` runs the
same code ahead of a rolling deploy. A database newer than this hub is refused, never downgraded.

Ids are compared with the "C" collation (byte order) so prefix look-ups (`id >= p AND id < p||x7f`)
and paging by id agree with SQLite's, whatever the database's locale. JSON is kept as TEXT written
by `dumps` (the same never-failing encoder SQLite uses), not JSONB: a value is stored as the hub
wrote it.
"""

from __future__ import annotations

from typing import Any

MIGRATIONS: tuple[str, ...] = (
    # 1: executions (with started_by), events, the catalog's version ledger
    """
    CREATE TABLE IF NOT EXISTS executions (
        id TEXT COLLATE "C" PRIMARY KEY,
        parent_id TEXT COLLATE "C",
        playbook_path TEXT NOT NULL,
        playbook_version INTEGER,
        playbook_name TEXT,
        status TEXT NOT NULL,
        arguments TEXT NOT NULL DEFAULT '{}',
        depth INTEGER NOT NULL DEFAULT 0,
        owner TEXT,
        created_at DOUBLE PRECISION NOT NULL,
        finished_at DOUBLE PRECISION,
        envelope TEXT,
        cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
        started_by TEXT
    );
    CREATE INDEX IF NOT EXISTS executions_status ON executions(status);
    CREATE INDEX IF NOT EXISTS executions_parent ON executions(parent_id);
    CREATE TABLE IF NOT EXISTS events (
        execution_id TEXT COLLATE "C" NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        step TEXT,
        data TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (execution_id, seq)
    );
    CREATE TABLE IF NOT EXISTS playbook_versions (
        path TEXT NOT NULL,
        version INTEGER NOT NULL,
        digest TEXT NOT NULL,
        content TEXT NOT NULL,
        recorded_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (path, version),
        UNIQUE (path, digest)
    );
    """,
    # 2: the scopes an execution requires of a reader, fixed when it starts (hub.contract.access)
    "ALTER TABLE executions ADD COLUMN IF NOT EXISTS required_scopes TEXT",
)
SCHEMA_VERSION = len(MIGRATIONS)

_MIGRATE_LOCK = 0x61676E74  # any fixed number: the advisory lock key every hub node agrees on

EXECUTION_COLUMNS = (
    "id, parent_id, playbook_path, playbook_version, playbook_name, status, arguments, depth, "
    "owner, created_at, finished_at, envelope, cancel_requested, started_by, required_scopes"
)


async def migrate(conn: Any) -> tuple[int, int]:
    """Bring the schema up to `SCHEMA_VERSION` on an asyncpg connection; (found, now) versions."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATE_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS agenthub_schema (version INTEGER NOT NULL)")
        found = await conn.fetchval("SELECT max(version) FROM agenthub_schema") or 0
        if found > SCHEMA_VERSION:
            raise RuntimeError(f"store schema {found} is newer than this hub's ({SCHEMA_VERSION})")
        for version in range(found + 1, SCHEMA_VERSION + 1):
            await conn.execute(MIGRATIONS[version - 1])
            await conn.execute("INSERT INTO agenthub_schema (version) VALUES ($1)", version)
    return found, SCHEMA_VERSION
