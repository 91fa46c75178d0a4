"""The embedded event store: one SQLite file in WAL mode, written by one thread in batches.

Why a writer thread: the engine calls `append()` on its hot path and must not wait for disk, and
SQLite must not run on the event loop. Everything that writes (events, create, status, finish,
cancel, recovery) goes through one FIFO queue, so a `finish` is committed after every event
appended before it. The thread drains what is queued (up to `batch_max` items) into one
transaction, which is what makes 5,000 events cost a handful of fsyncs instead of 5,000.

Durability: `synchronous=NORMAL` (the default) in WAL mode survives a crash or kill of the process
once a transaction is committed; pass `synchronous="FULL"` to also survive power loss / OS crash.
A second process (the CLI showing or cancelling a run) can read and write the same file at the
same time: WAL lets readers run beside the writer and `busy_timeout` makes writers take turns.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

from hub.contract.envelope import Envelope, ErrorInfo
from hub.contract.errors import ErrorCode
from hub.store.process_owner import owner_is_dead, process_owner
from hub.contract.records import EventRecord, EventType, ExecutionRecord, ExecutionStatus
from hub.store.sqlite_connect import connect
from hub.store.sqlite_schema import (
    EXECUTION_COLUMNS,
    MAX_VARS,
    SCHEMA,
    MIGRATIONS,
    SCHEMA_VERSION,
    SYNCHRONOUS,
    UNFINISHED,
    dumps,
    execution_from_row,
)
from hub.store.sqlite_writer import BatchWriter, StoreStats, Tx, text_of

log = logging.getLogger("agenthub.store")

_INSERT_EXECUTION = f"INSERT INTO executions ({EXECUTION_COLUMNS}) VALUES ({', '.join('?' * 15)})"


class SqliteEventStore:
    """`hub.contract.store.EventStore` on one SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "NORMAL",
        batch_max: int = 512,
        owner: str | None = None,
    ) -> None:
        if synchronous.upper() not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
        if batch_max < 1:
            raise ValueError("batch_max must be at least 1")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.owner = owner or process_owner()
        self.stats = StoreStats()
        self._synchronous = synchronous.upper()
        self._batch_max = batch_max
        self._writer: BatchWriter | None = None
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._writer is not None:
            return
        if self._closed:
            raise RuntimeError("the store is closed")
        conn = await asyncio.to_thread(self._connect, write=True)
        self._writer = BatchWriter(conn, batch_max=self._batch_max, stats=self.stats, name=self.path.name)
        await self._call(self._create_schema, "create schema")
        self._reader = await asyncio.to_thread(self._connect, write=False)
        await self.recover()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is None:
            return
        try:
            await self._writer.stop()
        finally:
            await asyncio.to_thread(self._writer.join)
            with self._read_lock:
                if self._reader is not None:
                    self._reader.close()
                    self._reader = None

    async def __aenter__(self) -> SqliteEventStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _connect(self, *, write: bool) -> sqlite3.Connection:
        conn = connect(self.path, wal=write)
        if write:
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        else:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA query_only = ON")
        return conn

    @staticmethod
    def _create_schema(tx: Tx) -> None:
        found = tx.conn.execute("PRAGMA user_version").fetchone()[0]
        if found > SCHEMA_VERSION:
            raise RuntimeError(f"store schema {found} is newer than this hub's ({SCHEMA_VERSION})")
        if found:  # an existing database: bring it up to this schema step by step
            for version in range(found, SCHEMA_VERSION):
                for statement in MIGRATIONS[version]:
                    tx.conn.execute(statement)
        for statement in SCHEMA.split(";"):
            if statement.strip():
                tx.conn.execute(statement)
        if found < SCHEMA_VERSION:
            tx.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # --- writes -------------------------------------------------------------------------------

    def append(self, event: EventRecord) -> None:
        """Queue an event; never blocks. Do not mutate it afterwards (it is encoded when written)."""
        if self._closed:
            raise RuntimeError("the store is closed")
        if self._writer is None:
            raise RuntimeError("the store is not open")
        self._writer.put(event)

    async def flush(self) -> None:
        if self._closed:  # close() flushed everything already
            return
        await self._call(None)

    def create(self, execution: ExecutionRecord) -> asyncio.Future[None]:
        """Queued at once (a future, not a coroutine to schedule): a run's record, its events and
        its final write then reach the writer in one hand-over, one transaction (`hub.store.
        sqlite_writer`), with no task per write. Awaiting it is what `EventStore.create` promises."""
        e = execution
        row = (
            e.id, e.parent_id, e.playbook_path, e.playbook_version, e.playbook_name,
            text_of(e.status), dumps(e.arguments), e.depth, e.owner or self.owner, e.created_at,
            e.finished_at, None if e.envelope is None else dumps(e.envelope), int(e.cancel_requested),
            e.started_by, None if e.required_scopes is None else dumps(e.required_scopes),
        )  # fmt: skip

        def op(tx: Tx) -> None:
            try:
                tx.conn.execute(_INSERT_EXECUTION, row)
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"execution {e.id} already exists") from exc
            tx.started(e.id)

        return self._queued(op, f"create {e.id}", atomic=True)

    async def set_status(self, execution_id: str, status: ExecutionStatus) -> None:
        """Move an unfinished execution to pending/running; a finished one is left as it is."""
        status = ExecutionStatus(status)
        if status.finished:
            raise ValueError(f"set_status takes a non-final status; use finish() for {status.value}")

        def op(tx: Tx) -> None:
            cur = tx.conn.execute(
                "UPDATE executions SET status = ? WHERE id = ? AND status IN (?, ?)",
                (status.value, execution_id, *UNFINISHED),
            )
            if cur.rowcount == 0:
                self._require(tx, execution_id)

        await self._call(op, f"set_status {execution_id}")

    def finish(
        self, execution_id: str, status: ExecutionStatus, envelope: dict[str, Any]
    ) -> asyncio.Future[None]:
        """Queued at once, like `create` (the engine's final write shares the run's hand-over)."""
        status = ExecutionStatus(status)
        if not status.finished:
            raise ValueError(f"finish takes a final status, not {status.value}")
        at, text = time.time(), dumps(envelope)

        def op(tx: Tx) -> None:
            cur = tx.conn.execute(
                "UPDATE executions SET status = ?, finished_at = ?, envelope = ? WHERE id = ?",
                (status.value, at, text, execution_id),
            )
            if cur.rowcount == 0:
                self._require(tx, execution_id)

        return self._queued(op, f"finish {execution_id}", atomic=True)

    async def request_cancel(self, execution_id: str) -> bool:
        at = time.time()

        def op(tx: Tx) -> bool:
            row = tx.conn.execute(
                "SELECT status, cancel_requested FROM executions WHERE id = ?", (execution_id,)
            ).fetchone()
            if row is None or row[0] not in UNFINISHED:
                return False
            if not row[1]:  # asking twice records one event
                tx.conn.execute("UPDATE executions SET cancel_requested = 1 WHERE id = ?", (execution_id,))
                tx.add_event(execution_id, EventType.CANCEL_REQUESTED.value, at, None, {})
            return True

        return await self._call(op, f"request_cancel {execution_id}")

    async def recover(self) -> list[str]:
        return await self._call(self._recover, "recover")

    def _recover(self, tx: Tx) -> list[str]:
        rows = tx.conn.execute(
            "SELECT id, owner, playbook_path, created_at FROM executions WHERE status IN (?, ?)",
            UNFINISHED,
        ).fetchall()
        now, recovered = time.time(), []
        for execution_id, owner, playbook_path, created_at in rows:
            if owner == self.owner or not owner_is_dead(owner):
                continue
            error = ErrorInfo.of(
                ErrorCode.PROCESS_DIED,
                f"the process running this execution ({owner or 'unknown'}) is gone",
                details={"owner": owner},
            )
            envelope = Envelope(
                status="error", framework="noetl", entrypoint=playbook_path,
                execution_id=execution_id, duration=max(0.0, now - created_at), error=error,
            )  # fmt: skip
            tx.conn.execute(
                "UPDATE executions SET status = ?, finished_at = ?, envelope = ? WHERE id = ?",
                (ExecutionStatus.FAILED.value, now, dumps(envelope.to_dict()), execution_id),
            )
            data = {"status": "failed", "error": {"code": error.code, "message": error.message}}
            tx.add_event(execution_id, EventType.EXECUTION_FINISHED.value, now, None, data)
            recovered.append(execution_id)
        if recovered:
            log.warning("marked %d execution(s) of dead processes failed: %s", len(recovered), recovered)
        return recovered

    @staticmethod
    def _require(tx: Tx, execution_id: str) -> None:
        if tx.conn.execute("SELECT 1 FROM executions WHERE id = ?", (execution_id,)).fetchone() is None:
            raise LookupError(f"no execution {execution_id}")

    async def _call(self, fn: Callable[[Tx], Any] | None, name: str = "flush") -> Any:
        """Queue a write behind everything appended so far and wait until it is committed."""
        return await self._queued(fn, name)

    def _queued(self, fn: Callable[[Tx], Any] | None, name: str, *, atomic: bool = False) -> asyncio.Future[Any]:
        """Queue a write now; the future resolves once it is committed (failed: store not open).
        `atomic`: one statement, one row, no event (`sqlite_writer._Op`): no savepoint needed."""
        if self._closed or self._writer is None:
            failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            failed.set_exception(RuntimeError("the store is closed" if self._closed else "the store is not open"))
            return failed
        return self._writer.submit(fn, name, atomic=atomic)

    # --- reads --------------------------------------------------------------------------------

    async def get(self, execution_id: str) -> ExecutionRecord | None:
        prefix = execution_id.strip().lower()
        if not prefix:
            return None
        # ids are lowercase hex and '-', all below '\x7f': this range is exactly "starts with"
        rows = await self._read(
            f"SELECT {EXECUTION_COLUMNS} FROM executions WHERE id >= ? AND id < ? LIMIT 2",
            (prefix, prefix + "\x7f"),
        )
        exact = [r for r in rows if r["id"] == prefix]
        if exact:
            return execution_from_row(exact[0])
        return execution_from_row(rows[0]) if len(rows) == 1 else None

    async def list(
        self,
        *,
        status: ExecutionStatus | None = None,
        parent_id: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[ExecutionRecord]:
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(ExecutionStatus(status).value)
        if parent_id is not None:
            where.append("parent_id = ?")
            params.append(parent_id)
        if before is not None:
            where.append("id < ?")
            params.append(before)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._read(
            f"SELECT {EXECUTION_COLUMNS} FROM executions {clause} ORDER BY id DESC LIMIT ?",
            (*params, max(0, limit)),
        )
        return [execution_from_row(r) for r in rows]

    async def events(
        self, execution_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[EventRecord]:
        rows = await self._read(
            "SELECT seq, type, at, step, data FROM events WHERE execution_id = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            (execution_id, after_seq, -1 if limit is None else max(0, limit)),
        )
        return [
            EventRecord(
                execution_id=execution_id, seq=r["seq"], type=r["type"], at=r["at"],
                step=r["step"], data=json.loads(r["data"]) if r["data"] else {},
            )  # fmt: skip
            for r in rows
        ]

    async def cancel_requested(self, execution_ids: list[str]) -> set[str]:
        ids = list(dict.fromkeys(execution_ids))
        flagged: set[str] = set()
        for i in range(0, len(ids), MAX_VARS):
            chunk = ids[i : i + MAX_VARS]
            rows = await self._read(
                f"SELECT id FROM executions WHERE cancel_requested = 1 "
                f"AND id IN ({', '.join('?' * len(chunk))})",
                tuple(chunk),
            )
            flagged.update(r["id"] for r in rows)
        return flagged

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        return await asyncio.to_thread(self._read_sync, sql, params)

    def _read_sync(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        # autocommit + fetchall: each read is its own snapshot of what is committed right now
        with self._read_lock:
            if self._reader is None:
                raise RuntimeError("the store is not open")
            return self._reader.execute(sql, params).fetchall()
