"""The two store backends as the store suite sees them: where a test's database lives, how to open
stores and ledgers on it, and what a write the database refuses raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Backend:
    name: str
    where: str
    """The SQLite file or the PostgreSQL DSN every store of the test shares."""

    def store(self, **options: Any) -> Any:
        """A new (unopened) store on the test's database."""
        if self.name == "sqlite":
            from hub.store.sqlite import SqliteEventStore

            return SqliteEventStore(self.where, **options)
        from hub.store.postgres import PostgresEventStore

        return PostgresEventStore(self.where, **options)

    def ledger(self) -> Any:
        if self.name == "sqlite":
            from hub.store.sqlite_ledger import SqliteLedger

            return SqliteLedger(self.where)
        from hub.store.postgres_ledger import PostgresLedger

        return PostgresLedger(self.where)

    @property
    def write_error(self) -> tuple[type[BaseException], ...]:
        """What a write the database cannot take raises."""
        if self.name == "sqlite":
            import sqlite3

            return (sqlite3.Error,)
        import asyncpg

        return (asyncpg.PostgresError, asyncpg.InterfaceError)
