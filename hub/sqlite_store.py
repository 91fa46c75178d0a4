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
import concurrent.futures
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Callable

from hub.envelope import Envelope, ErrorInfo
from hub.errors import ErrorCode
from hub.process_owner import owner_is_dead, process_owner
from hub.records import EventRecord, EventType, ExecutionRecord, ExecutionStatus
from hub.sqlite_connect import connect
from hub.sqlite_schema import (
    EXECUTION_COLUMNS as _EXECUTION_COLUMNS,
)
from hub.sqlite_schema import (
    MAX_VARS as _MAX_VARS,
)
from hub.sqlite_schema import (
    SCHEMA as _SCHEMA,
)
from hub.sqlite_schema import (
    SCHEMA_VERSION,
)
from hub.sqlite_schema import (
    SYNCHRONOUS as _SYNCHRONOUS,
)
from hub.sqlite_schema import (
    UNFINISHED as _UNFINISHED,
)
from hub.sqlite_schema import (
    dumps as _dumps,
)
from hub.sqlite_schema import (
    execution_from_row as _record,
)

log = logging.getLogger("agenthub.store")

# --- the writer's queue items ----------------------------------------------------------------


@dataclass
class StoreStats:
    """Counters kept by the writer thread (read them for tests and benchmarks)."""

    transactions: int = 0
    events: int = 0
    failed_batches: int = 0


class _Op:
    """A write that someone awaits. `fn is None` makes it a barrier (what `flush()` waits on)."""

    __slots__ = ("fn", "name", "future")

    def __init__(self, fn: Callable[[_Tx], Any] | None, name: str = "flush") -> None:
        self.fn = fn
        self.name = name
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()


_STOP = object()
_Item = EventRecord | _Op


class _Tx:
    """One write transaction: numbers events and collects their rows for one executemany.

    `seq` continues from MAX(seq) read inside the transaction (under SQLite's write lock), so an
    event appended by another process (a CLI `cancel`) never collides with ours.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.rows: list[tuple[Any, ...]] = []
        self._seqs: dict[str, int] = {}

    def add_event(
        self, execution_id: str, type_: str, at: float, step: str | None, data: dict[str, Any]
    ) -> int:
        seq = self._seqs.get(execution_id)
        if seq is None:
            seq = self.conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE execution_id = ?", (execution_id,)
            ).fetchone()[0]
        seq += 1
        self._seqs[execution_id] = seq
        self.rows.append((execution_id, seq, type_, at, step, _dumps(data)))
        return seq

    def savepoint(self) -> tuple[int, dict[str, int]]:
        """Start an op that can be undone alone (database changes and the events it added)."""
        self.conn.execute("SAVEPOINT op")
        return len(self.rows), dict(self._seqs)

    def rollback_to(self, mark: tuple[int, dict[str, int]]) -> None:
        self.conn.execute("ROLLBACK TO op")
        self.conn.execute("RELEASE op")
        del self.rows[mark[0] :]
        self._seqs = mark[1]

    def release(self) -> None:
        self.conn.execute("RELEASE op")


def _describe(item: _Item) -> str:
    if isinstance(item, EventRecord):
        return f"event {_text(item.type)!r} of execution {item.execution_id}"
    return item.name


def _text(value: Any) -> str:
    return value.value if isinstance(value, Enum) else str(value)


def _settle(future: concurrent.futures.Future[Any], result: Any, exc: BaseException | None) -> None:
    """Resolve a waiter; one whose await was cancelled meanwhile is skipped (the write stands)."""
    try:
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)
    except concurrent.futures.InvalidStateError:
        pass


class SqliteEventStore:
    """`hub.store.EventStore` on one SQLite file (see the module docstring)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "NORMAL",
        batch_max: int = 512,
        owner: str | None = None,
    ) -> None:
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {_SYNCHRONOUS}, not {synchronous!r}")
        if batch_max < 1:
            raise ValueError("batch_max must be at least 1")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.owner = owner or process_owner()
        self.stats = StoreStats()
        self._synchronous = synchronous.upper()
        self._batch_max = batch_max
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._lost: BaseException | None = None  # an event write failed; the next flush raises it
        self._closed = False

    # --- lifecycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._thread is not None:
            return
        if self._closed:
            raise RuntimeError("the store is closed")
        writer = await asyncio.to_thread(self._connect, write=True)
        self._thread = threading.Thread(
            target=self._run, args=(writer,), name=f"agenthub-store:{self.path.name}", daemon=True
        )
        self._thread.start()
        await self._call(self._create_schema, "create schema")
        self._reader = await asyncio.to_thread(self._connect, write=False)
        await self.recover()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is None:
            return
        barrier = _Op(None)
        self._queue.put(barrier)
        self._queue.put(_STOP)
        try:
            await asyncio.wrap_future(barrier.future)
        finally:
            await asyncio.to_thread(self._thread.join)
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
    def _create_schema(tx: _Tx) -> None:
        found = tx.conn.execute("PRAGMA user_version").fetchone()[0]
        if found > SCHEMA_VERSION:
            raise RuntimeError(f"store schema {found} is newer than this hub's ({SCHEMA_VERSION})")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                tx.conn.execute(statement)
        if found < SCHEMA_VERSION:  # future migrations go here, keyed on `found`
            tx.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # --- writes -------------------------------------------------------------------------------

    def append(self, event: EventRecord) -> None:
        """Queue an event; never blocks. Do not mutate it afterwards (it is encoded when written)."""
        if self._closed:
            raise RuntimeError("the store is closed")
        self._queue.put(event)

    async def flush(self) -> None:
        if self._closed:  # close() flushed everything already
            return
        await self._call(None)

    async def create(self, execution: ExecutionRecord) -> None:
        e = execution
        row = (
            e.id, e.parent_id, e.playbook_path, e.playbook_version, e.playbook_name,
            _text(e.status), _dumps(e.arguments), e.depth, e.owner or self.owner, e.created_at,
            e.finished_at, None if e.envelope is None else _dumps(e.envelope), int(e.cancel_requested),
        )  # fmt: skip

        def op(tx: _Tx) -> None:
            try:
                tx.conn.execute(
                    f"INSERT INTO executions ({_EXECUTION_COLUMNS}) VALUES ({', '.join('?' * 13)})", row
                )
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"execution {e.id} already exists") from exc

        await self._call(op, f"create {e.id}")

    async def set_status(self, execution_id: str, status: ExecutionStatus) -> None:
        """Move an unfinished execution to pending/running; a finished one is left as it is."""
        status = ExecutionStatus(status)
        if status.finished:
            raise ValueError(f"set_status takes a non-final status; use finish() for {status.value}")

        def op(tx: _Tx) -> None:
            cur = tx.conn.execute(
                "UPDATE executions SET status = ? WHERE id = ? AND status IN (?, ?)",
                (status.value, execution_id, *_UNFINISHED),
            )
            if cur.rowcount == 0:
                self._require(tx, execution_id)

        await self._call(op, f"set_status {execution_id}")

    async def finish(
        self, execution_id: str, status: ExecutionStatus, envelope: dict[str, Any]
    ) -> None:
        status = ExecutionStatus(status)
        if not status.finished:
            raise ValueError(f"finish takes a final status, not {status.value}")
        at, text = time.time(), _dumps(envelope)

        def op(tx: _Tx) -> None:
            cur = tx.conn.execute(
                "UPDATE executions SET status = ?, finished_at = ?, envelope = ? WHERE id = ?",
                (status.value, at, text, execution_id),
            )
            if cur.rowcount == 0:
                self._require(tx, execution_id)

        await self._call(op, f"finish {execution_id}")

    async def request_cancel(self, execution_id: str) -> bool:
        at = time.time()

        def op(tx: _Tx) -> bool:
            row = tx.conn.execute(
                "SELECT status, cancel_requested FROM executions WHERE id = ?", (execution_id,)
            ).fetchone()
            if row is None or row[0] not in _UNFINISHED:
                return False
            if not row[1]:  # asking twice records one event
                tx.conn.execute("UPDATE executions SET cancel_requested = 1 WHERE id = ?", (execution_id,))
                tx.add_event(execution_id, EventType.CANCEL_REQUESTED.value, at, None, {})
            return True

        return await self._call(op, f"request_cancel {execution_id}")

    async def recover(self) -> list[str]:
        return await self._call(self._recover, "recover")

    def _recover(self, tx: _Tx) -> list[str]:
        rows = tx.conn.execute(
            "SELECT id, owner, playbook_path, created_at FROM executions WHERE status IN (?, ?)",
            _UNFINISHED,
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
                (ExecutionStatus.FAILED.value, now, _dumps(envelope.to_dict()), execution_id),
            )
            data = {"status": "failed", "error": {"code": error.code, "message": error.message}}
            tx.add_event(execution_id, EventType.EXECUTION_FINISHED.value, now, None, data)
            recovered.append(execution_id)
        if recovered:
            log.warning("marked %d execution(s) of dead processes failed: %s", len(recovered), recovered)
        return recovered

    @staticmethod
    def _require(tx: _Tx, execution_id: str) -> None:
        if tx.conn.execute("SELECT 1 FROM executions WHERE id = ?", (execution_id,)).fetchone() is None:
            raise LookupError(f"no execution {execution_id}")

    async def _call(self, fn: Callable[[_Tx], Any] | None, name: str = "flush") -> Any:
        """Queue a write behind everything appended so far and wait until it is committed."""
        if self._closed or self._thread is None:
            raise RuntimeError("the store is closed" if self._closed else "the store is not open")
        op = _Op(fn, name)
        self._queue.put(op)
        return await asyncio.wrap_future(op.future)

    # --- the writer thread --------------------------------------------------------------------

    def _run(self, conn: sqlite3.Connection) -> None:
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < self._batch_max and batch[-1] is not _STOP:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stop = batch[-1] is _STOP
                if stop:
                    batch.pop()
                if batch:
                    self._write(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _write(self, conn: sqlite3.Connection, batch: list[_Item]) -> None:
        """Commit the batch in one transaction; if it fails, find out which items failed."""
        try:
            outcomes = self._commit(conn, batch)
        except Exception as exc:
            self.stats.failed_batches += 1
            if len(batch) == 1 or isinstance(exc, sqlite3.OperationalError):
                # the database itself refuses (locked, disk full): retrying item by item won't help
                log.error("store write of %d item(s) failed", len(batch), exc_info=exc)
                outcomes = [(None, exc)] * len(batch)
            else:
                log.error("store batch of %d items failed; writing them one by one", len(batch), exc_info=exc)
                outcomes = [self._commit_alone(conn, item) for item in batch]
        for item, (result, exc) in zip(batch, outcomes):
            self._done(item, result, exc)

    def _commit_alone(self, conn: sqlite3.Connection, item: _Item) -> tuple[Any, BaseException | None]:
        try:
            (outcome,) = self._commit(conn, [item])
        except Exception as exc:
            log.error("store write failed: %s", _describe(item), exc_info=exc)
            return None, exc
        return outcome

    def _commit(self, conn: sqlite3.Connection, batch: list[_Item]) -> list[tuple[Any, BaseException | None]]:
        """One transaction. An op that raises is rolled back to its savepoint alone; an event or
        database failure aborts the whole transaction (and raises)."""
        tx = _Tx(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            outcomes = [self._apply(tx, item) for item in batch]
            if tx.rows:
                conn.executemany(
                    "INSERT INTO events (execution_id, seq, type, at, step, data) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    tx.rows,
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.stats.transactions += 1
        self.stats.events += len(tx.rows)
        return outcomes

    @staticmethod
    def _apply(tx: _Tx, item: _Item) -> tuple[Any, BaseException | None]:
        if isinstance(item, EventRecord):
            return tx.add_event(item.execution_id, _text(item.type), item.at, item.step, item.data), None
        if item.fn is None:
            return None, None
        mark = tx.savepoint()
        try:
            result = item.fn(tx)
        except Exception as exc:
            if not tx.conn.in_transaction:  # SQLite gave up the whole transaction
                raise
            tx.rollback_to(mark)
            log.warning("store write refused: %s: %s", _describe(item), exc)
            return None, exc
        tx.release()
        return result, None

    def _done(self, item: _Item, result: Any, exc: BaseException | None) -> None:
        """Report one item's outcome: to its waiter, or (an event) to the next flush."""
        if isinstance(item, EventRecord):
            if exc is not None:
                self._lost = exc
            return
        if item.fn is None:  # a barrier raises the first event failure since the last flush
            exc, self._lost = exc or self._lost, None
        _settle(item.future, result, exc)

    # --- reads --------------------------------------------------------------------------------

    async def get(self, execution_id: str) -> ExecutionRecord | None:
        prefix = execution_id.strip().lower()
        if not prefix:
            return None
        # ids are lowercase hex and '-', all below '\x7f': this range is exactly "starts with"
        rows = await self._read(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE id >= ? AND id < ? LIMIT 2",
            (prefix, prefix + "\x7f"),
        )
        exact = [r for r in rows if r["id"] == prefix]
        if exact:
            return _record(exact[0])
        return _record(rows[0]) if len(rows) == 1 else None

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
            f"SELECT {_EXECUTION_COLUMNS} FROM executions {clause} ORDER BY id DESC LIMIT ?",
            (*params, max(0, limit)),
        )
        return [_record(r) for r in rows]

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
        for i in range(0, len(ids), _MAX_VARS):
            chunk = ids[i : i + _MAX_VARS]
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
