"""Which worker runs an execution right now: a PostgreSQL session advisory lock per running run.

JetStream redelivers a run when its worker goes silent for `ack_wait`, which also happens to a
worker that is alive but starved (a long GC pause, an overloaded machine). Two workers must never
run one execution at once, so before running, a worker takes the run's lease: a session-level
advisory lock on its own connection. PostgreSQL releases it when the holder releases it or when
the holder's connection dies with its process, so a redelivered run whose worker is really gone
is taken over at once, and one whose worker still runs it is handed back to the queue for later.
"""

from __future__ import annotations

import asyncio
from typing import Any

_LEASE_SPACE = 2  # the seed of hashtextextended, apart from the other advisory locks of the store


class Leases:
    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()  # one query at a time on the connection

    @classmethod
    async def open(cls, dsn: str) -> Leases:
        from hub.store.postgres import import_asyncpg

        return cls(await import_asyncpg().connect(dsn))

    async def acquire(self, execution_id: str) -> bool:
        """True when this worker now holds the run's lease; False while another live worker does."""
        async with self._lock:
            return bool(await self._conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtextextended($1, $2))", execution_id, _LEASE_SPACE
            ))  # fmt: skip

    async def release(self, execution_id: str) -> None:
        async with self._lock:
            await self._conn.fetchval("SELECT pg_advisory_unlock(hashtextextended($1, $2))", execution_id, _LEASE_SPACE)

    async def last_deliveries(self, at_least: int) -> list[str]:
        """Running executions whose latest recorded queue delivery is the `at_least`-th or later."""
        async with self._lock:
            rows = await self._conn.fetch(
                "SELECT e.id FROM executions e JOIN events v ON v.execution_id = e.id "
                "WHERE e.status = 'running' AND v.type = 'execution.delivered' "
                "GROUP BY e.id HAVING max((v.data::jsonb ->> 'delivery')::int) >= $1",
                at_least,
            )  # fmt: skip
        return [row["id"] for row in rows]

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()
