"""The cluster event store: `hub.contract.store.EventStore` on PostgreSQL (asyncpg, the `postgres`
extra, imported when a store is opened).

The same records and behaviour as the SQLite store (one test suite runs on both): append-only
events numbered per execution, `create`/`finish` durable on return, events batched into few
transactions by a writer task (`hub.store.postgres_writer`), prefix look-ups, cancel flags. What
differs is who shares it: many hub processes on many machines, so sequence numbers and catalog
versions are allocated inside the database, and migrations are serialised by an advisory lock.

Recovery on open marks failed the unfinished executions of dead processes *on this host* (no host
can see another's processes). A cluster front end opens with `recover_on_open=False`: its runs
belong to workers, and a dead worker's run is redelivered by the queue, not failed.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from hub.contract.envelope import Envelope, ErrorInfo
from hub.contract.errors import ErrorCode
from hub.contract.records import EventRecord, EventType, ExecutionRecord, ExecutionStatus
from hub.store.postgres_schema import EXECUTION_COLUMNS, migrate
from hub.store.postgres_writer import PgBatchWriter, PgTx
from hub.store.process_owner import owner_is_dead, process_owner
from hub.store.sqlite_schema import UNFINISHED, dumps
from hub.store.sqlite_writer import StoreStats, text_of

log = logging.getLogger("agenthub.store")


def is_postgres_url(db: object) -> bool:
    return isinstance(db, str) and db.startswith(("postgresql://", "postgres://"))


def import_asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "a postgresql:// store needs asyncpg: pip install 'agenthub[postgres]'"
        ) from None
    return asyncpg


class PostgresEventStore:
    """`hub.contract.store.EventStore` on PostgreSQL (see the module docstring)."""

    def __init__(
        self,
        dsn: str,
        *,
        batch_max: int = 512,
        owner: str | None = None,
        pool_size: int = 4,
        recover_on_open: bool = True,
    ) -> None:
        if not is_postgres_url(dsn):
            raise ValueError(f"not a postgresql:// URL: {dsn.split('@')[-1]!r}")
        if batch_max < 1:
            raise ValueError("batch_max must be at least 1")
        self.dsn = dsn
        self.owner = owner or process_owner()
        self.stats = StoreStats()
        self._batch_max = batch_max
        self._pool_size = pool_size
        self._recover_on_open = recover_on_open
        self._pool: Any = None
        self._writer: PgBatchWriter | None = None
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._writer is not None:
            return
        if self._closed:
            raise RuntimeError("the store is closed")
        asyncpg = import_asyncpg()
        self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self._pool_size)
        try:
            async with self._pool.acquire() as conn:
                await migrate(conn)
        except BaseException:
            await self._pool.close()
            raise
        self._writer = PgBatchWriter(self._pool, batch_max=self._batch_max, stats=self.stats)
        if self._recover_on_open:
            await self.recover()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._writer is not None:
                await self._writer.stop()
        finally:
            if self._pool is not None:
                await self._pool.close()

    async def __aenter__(self) -> PostgresEventStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- writes -------------------------------------------------------------------------------

    def append(self, event: EventRecord) -> None:
        """Queue an event; never blocks. Do not mutate it afterwards (it is encoded when written)."""
        if self._closed:
            raise RuntimeError("the store is closed")
        if self._writer is None:
            raise RuntimeError("the store is not open")
        self._writer.put(event)

    async def flush(self) -> None:
        if self._closed:
            return
        await self._call(None)

    async def create(self, execution: ExecutionRecord) -> None:
        e = execution
        row = (
            e.id, e.parent_id, e.playbook_path, e.playbook_version, e.playbook_name,
            text_of(e.status), dumps(e.arguments), e.depth, e.owner or self.owner, e.created_at,
            e.finished_at, None if e.envelope is None else dumps(e.envelope), e.cancel_requested,
            e.started_by, None if e.required_scopes is None else dumps(e.required_scopes),
        )  # fmt: skip
        asyncpg = import_asyncpg()

        async def op(tx: PgTx) -> None:
            try:
                await tx.conn.execute(
                    f"INSERT INTO executions ({EXECUTION_COLUMNS}) VALUES "
                    f"({', '.join(f'${i}' for i in range(1, 16))})",
                    *row,
                )
            except asyncpg.UniqueViolationError as exc:
                raise ValueError(f"execution {e.id} already exists") from exc
            tx.started(e.id)

        await self._call(op, f"create {e.id}")

    async def set_status(self, execution_id: str, status: ExecutionStatus) -> None:
        """Move an unfinished execution to pending/running; a finished one is left as it is."""
        status = ExecutionStatus(status)
        if status.finished:
            raise ValueError(f"set_status takes a non-final status; use finish() for {status.value}")

        async def op(tx: PgTx) -> None:
            done = await tx.conn.execute(
                "UPDATE executions SET status = $1 WHERE id = $2 AND status IN ($3, $4)",
                status.value, execution_id, *UNFINISHED,
            )  # fmt: skip
            if done.endswith(" 0"):
                await _require(tx, execution_id)

        await self._call(op, f"set_status {execution_id}")

    async def claim(self, execution_id: str, owner: str | None = None) -> ExecutionRecord | None:
        """Make this process (a worker) the owner of an unfinished execution and mark it running;
        None when it is unknown or already finished (a redelivered message for a finished run)."""
        new_owner = owner or self.owner

        async def op(tx: PgTx) -> Any:
            return await tx.conn.fetchrow(
                f"UPDATE executions SET owner = $1, status = $2 WHERE id = $3 AND status IN ($4, $5) "
                f"RETURNING {EXECUTION_COLUMNS}",
                new_owner, ExecutionStatus.RUNNING.value, execution_id, *UNFINISHED,
            )  # fmt: skip

        row = await self._call(op, f"claim {execution_id}")
        return None if row is None else _execution(row)

    async def finish(
        self, execution_id: str, status: ExecutionStatus, envelope: dict[str, Any]
    ) -> None:
        status = ExecutionStatus(status)
        if not status.finished:
            raise ValueError(f"finish takes a final status, not {status.value}")
        at, text = time.time(), dumps(envelope)

        async def op(tx: PgTx) -> None:
            done = await tx.conn.execute(
                "UPDATE executions SET status = $1, finished_at = $2, envelope = $3 WHERE id = $4",
                status.value, at, text, execution_id,
            )  # fmt: skip
            if done.endswith(" 0"):
                await _require(tx, execution_id)

        await self._call(op, f"finish {execution_id}")

    async def request_cancel(self, execution_id: str) -> bool:
        at = time.time()

        async def op(tx: PgTx) -> bool:
            row = await tx.conn.fetchrow(
                "SELECT status, cancel_requested FROM executions WHERE id = $1 FOR UPDATE", execution_id
            )
            if row is None or row["status"] not in UNFINISHED:
                return False
            if not row["cancel_requested"]:  # asking twice records one event
                await tx.conn.execute("UPDATE executions SET cancel_requested = TRUE WHERE id = $1", execution_id)
                await tx.add_event(execution_id, EventType.CANCEL_REQUESTED.value, at, None, {})
            return True

        return await self._call(op, f"request_cancel {execution_id}")

    async def recover(self) -> list[str]:
        return await self._call(self._recover, "recover")

    async def _recover(self, tx: PgTx) -> list[str]:
        rows = await tx.conn.fetch(
            "SELECT id, owner, playbook_path, created_at FROM executions WHERE status IN ($1, $2) "
            "ORDER BY id FOR UPDATE",
            *UNFINISHED,
        )
        now, recovered = time.time(), []
        for row in rows:
            execution_id, owner = row["id"], row["owner"]
            if owner == self.owner or not owner_is_dead(owner):
                continue
            error = ErrorInfo.of(
                ErrorCode.PROCESS_DIED,
                f"the process running this execution ({owner or 'unknown'}) is gone",
                details={"owner": owner},
            )
            envelope = Envelope(
                status="error", framework="noetl", entrypoint=row["playbook_path"],
                execution_id=execution_id, duration=max(0.0, now - row["created_at"]), error=error,
            )  # fmt: skip
            await tx.conn.execute(
                "UPDATE executions SET status = $1, finished_at = $2, envelope = $3 WHERE id = $4",
                ExecutionStatus.FAILED.value, now, dumps(envelope.to_dict()), execution_id,
            )  # fmt: skip
            data = {"status": "failed", "error": {"code": error.code, "message": error.message}}
            await tx.add_event(execution_id, EventType.EXECUTION_FINISHED.value, now, None, data)
            recovered.append(execution_id)
        if recovered:
            log.warning("marked %d execution(s) of dead processes failed: %s", len(recovered), recovered)
        return recovered

    async def _call(self, fn: Any, name: str = "flush") -> Any:
        """Queue a write behind everything appended so far and wait until it is committed."""
        if self._closed or self._writer is None:
            raise RuntimeError("the store is closed" if self._closed else "the store is not open")
        return await self._writer.submit(fn, name)

    # --- reads --------------------------------------------------------------------------------

    async def get(self, execution_id: str) -> ExecutionRecord | None:
        prefix = execution_id.strip().lower()
        if not prefix:
            return None
        # ids are lowercase hex and '-', all below '\x7f', compared bytewise ("C"): "starts with"
        rows = await self._fetch(
            f"SELECT {EXECUTION_COLUMNS} FROM executions WHERE id >= $1 AND id < $2 ORDER BY id LIMIT 2",
            prefix, prefix + "\x7f",
        )  # fmt: skip
        exact = [r for r in rows if r["id"] == prefix]
        if exact:
            return _execution(exact[0])
        return _execution(rows[0]) if len(rows) == 1 else None

    async def list(
        self,
        *,
        status: ExecutionStatus | None = None,
        parent_id: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[ExecutionRecord]:
        where: list[str] = []
        params: list[Any] = []
        for clause, value in (
            ("status = ${}", None if status is None else ExecutionStatus(status).value),
            ("parent_id = ${}", parent_id),
            ("id < ${}", before),
        ):
            if value is not None:
                params.append(value)
                where.append(clause.format(len(params)))
        params.append(max(0, limit))
        text = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._fetch(
            f"SELECT {EXECUTION_COLUMNS} FROM executions {text} ORDER BY id DESC LIMIT ${len(params)}", *params
        )
        return [_execution(r) for r in rows]

    async def events(
        self, execution_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[EventRecord]:
        rows = await self._fetch(
            "SELECT seq, type, at, step, data FROM events WHERE execution_id = $1 AND seq > $2 "
            "ORDER BY seq LIMIT $3",
            execution_id, after_seq, None if limit is None else max(0, limit),
        )  # fmt: skip
        return [
            EventRecord(
                execution_id=execution_id, seq=r["seq"], type=r["type"], at=r["at"],
                step=r["step"], data=json.loads(r["data"]) if r["data"] else {},
            )  # fmt: skip
            for r in rows
        ]

    async def cancel_requested(self, execution_ids: list[str]) -> set[str]:
        ids = list(dict.fromkeys(execution_ids))
        if not ids:
            return set()
        rows = await self._fetch("SELECT id FROM executions WHERE cancel_requested AND id = ANY($1::text[])", ids)
        return {r["id"] for r in rows}

    async def _fetch(self, sql: str, *params: Any) -> list[Any]:
        if self._pool is None or self._closed:
            raise RuntimeError("the store is closed" if self._closed else "the store is not open")
        return await self._pool.fetch(sql, *params)


async def _require(tx: PgTx, execution_id: str) -> None:
    if await tx.conn.fetchval("SELECT 1 FROM executions WHERE id = $1", execution_id) is None:
        raise LookupError(f"no execution {execution_id}")


def _execution(row: Any) -> ExecutionRecord:
    return ExecutionRecord(
        id=row["id"],
        parent_id=row["parent_id"],
        playbook_path=row["playbook_path"],
        playbook_version=row["playbook_version"],
        playbook_name=row["playbook_name"],
        status=ExecutionStatus(row["status"]),
        arguments=json.loads(row["arguments"]) if row["arguments"] else {},
        depth=row["depth"],
        owner=row["owner"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        envelope=json.loads(row["envelope"]) if row["envelope"] else None,
        cancel_requested=bool(row["cancel_requested"]),
        started_by=row["started_by"],
        required_scopes=json.loads(row["required_scopes"]) if row["required_scopes"] else None,
    )
