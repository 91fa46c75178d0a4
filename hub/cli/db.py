"""`agenthub db migrate`: create or upgrade the store's schema ahead of starting servers.

Every hub process migrates on start anyway; running it once by hand before a rolling deploy of a
cluster means no front end or worker waits on the migration lock while serving.
"""

from __future__ import annotations

import argparse

from hub.cli.common import EXIT_OK, err
from hub.config import HubConfig


async def cmd_db(args: argparse.Namespace, config: HubConfig) -> int:
    if config.uses_postgres:
        from hub.store.postgres import import_asyncpg
        from hub.store.postgres_schema import migrate

        conn = await import_asyncpg().connect(str(config.db))
        try:
            found, now = await migrate(conn)
        finally:
            await conn.close()
    else:
        from hub.store.sqlite import SqliteEventStore
        from hub.store.sqlite_ledger import SqliteLedger
        from hub.store.sqlite_schema import SCHEMA_VERSION

        SqliteLedger(config.db).close()
        async with SqliteEventStore(config.db):
            pass
        found, now = None, SCHEMA_VERSION
    before = "a new store" if not found else f"schema {found}"
    err(f"{config.db_display}: {before} -> schema {now}")
    return EXIT_OK
