"""The cluster's version ledger: playbook version numbers allocated in PostgreSQL, so every node
gives the same content of a path the same number.

`catalog.versions.VersionLedger` is synchronous (the catalog loads in a worker thread, and also
from plain synchronous code such as `catalog validate`), while asyncpg is async. The ledger runs
its own small event loop on its own thread with its own connection; a call from any thread hands
the query to that loop and waits. A catalog load records all its new contents in one transaction
(`record_many`). A new number is taken under a transaction-level advisory lock on
the path (PostgreSQL's lock, released at commit): the loser of a race between two nodes waits,
then finds the winner's row.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from catalog.versions import digest
from hub.store.postgres import import_asyncpg
from hub.store.postgres_schema import migrate

T = TypeVar("T")


class PostgresLedger:
    """`catalog.versions.VersionLedger` on PostgreSQL; safe to call from any thread."""

    def __init__(self, dsn: str, *, timeout: float = 30.0) -> None:
        self._asyncpg = import_asyncpg()
        self._timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="agenthub-ledger", daemon=True)
        self._thread.start()
        self._lock = threading.Lock()  # one query at a time on the one connection
        self._dsn = dsn
        self._conn: Any = None  # connected on first use, which is off the event loop (a catalog load)
        self._closed = False

    async def _connect(self, dsn: str) -> Any:
        conn = await self._asyncpg.connect(dsn)
        try:
            await migrate(conn)
        except BaseException:
            await conn.close()
            raise
        return conn

    def record(self, path: str, content: str) -> int:
        return self.record_many([(path, content)])[0]

    def record_many(self, items: Sequence[tuple[str, str]]) -> list[int]:
        """Every (path, content) pair's version, new ones allocated in one transaction: the paths
        that need a number are locked in sorted order (no deadlock between two loading nodes)."""
        keyed = [(path, digest(content), content) for path, content in items]

        async def op(conn: Any) -> list[int]:
            rows = await conn.fetch(  # one query for every path's known contents, not one per file
                "SELECT path, digest, version FROM playbook_versions WHERE path = ANY($1::text[])",
                list({path for path, _, _ in keyed}),
            )
            known = {(row["path"], row["digest"]): row["version"] for row in rows}
            versions: list[int | None] = [known.get((path, key)) for path, key, _ in keyed]
            if all(v is not None for v in versions):
                return versions  # type: ignore[return-value]
            async with conn.transaction():
                for path in sorted({keyed[i][0] for i, v in enumerate(versions) if v is None}):
                    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 1))", path)
                now = time.time()
                for i, (path, key, content) in enumerate(keyed):
                    if versions[i] is not None:
                        continue
                    known = await self._known(conn, path, key)  # another node may have won the race
                    if known is None:
                        known = await conn.fetchval(
                            "INSERT INTO playbook_versions (path, version, digest, content, recorded_at) "
                            "SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4 FROM playbook_versions "
                            "WHERE path = $1 RETURNING version",
                            path, key, content, now,
                        )  # fmt: skip
                    versions[i] = known
            return versions  # type: ignore[return-value]

        return self._query(op)

    @staticmethod
    async def _known(conn: Any, path: str, key: str) -> int | None:
        return await conn.fetchval("SELECT version FROM playbook_versions WHERE path = $1 AND digest = $2", path, key)

    def content(self, path: str, version: int) -> str | None:
        return self._query(
            lambda conn: conn.fetchval(
                "SELECT content FROM playbook_versions WHERE path = $1 AND version = $2", path, version
            )
        )

    def versions(self, path: str) -> list[int]:
        async def op(conn: Any) -> list[int]:
            rows = await conn.fetch("SELECT version FROM playbook_versions WHERE path = $1 ORDER BY version", path)
            return [r[0] for r in rows]

        return self._query(op)

    def close(self) -> None:
        """Release the connection and the thread; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            conn, self._conn = self._conn, None
            try:
                if conn is not None:
                    self._run(conn.close())
            finally:
                self._stop_loop()

    def __enter__(self) -> PostgresLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, op: Any) -> Any:
        with self._lock:
            if self._closed:
                raise RuntimeError("the ledger is closed")
            if self._conn is None:
                self._conn = self._run(self._connect(self._dsn))
            conn = self._conn

            async def call() -> Any:
                return await op(conn)

            return self._run(call())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self._timeout)

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
