"""The store's writer thread: everything that writes goes through one FIFO queue, and the thread
commits what is queued (up to `batch_max` items) in one transaction.

Events cost no wait on the engine's hot path (`put`); a write someone awaits (`submit`) resolves
its future once committed, after every item queued before it. A write that fails alone is rolled
back to its savepoint alone; a failed event is reported by the next barrier (`flush`).

Writes queued on an event loop (events and awaited writes alike) are handed to the thread
together, once per loop iteration: a short run's record, events and final write go as one or two
items, one wake-up of the thread and one transaction, not one each. A put from another thread
hands over what is held first, so the queue keeps the order of the calls.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hub.contract.records import EventRecord
from hub.store.sqlite_schema import dumps as _dumps

log = logging.getLogger("agenthub.store")

@dataclass
class StoreStats:
    """Counters kept by the writer thread (read them for tests and benchmarks)."""

    transactions: int = 0
    events: int = 0
    failed_batches: int = 0


class _Op:
    """A write that someone awaits on an event loop. `fn is None` makes it a barrier (what
    `flush()` waits on). An `atomic` write changes at most one row with one statement and adds no
    event, so when it fails SQLite has already undone it (the statement's own rollback): it needs
    no savepoint of its own."""

    __slots__ = ("fn", "name", "future", "atomic")

    def __init__(self, fn: Callable[[Tx], Any] | None, name: str, future: asyncio.Future[Any],
                 atomic: bool = False) -> None:
        self.fn = fn
        self.name = name
        self.future = future
        self.atomic = atomic


_STOP = object()
_Item = EventRecord | _Op


class Tx:
    """One write transaction: numbers events and collects their rows for one executemany.

    `seq` continues from MAX(seq) read inside the transaction (under SQLite's write lock), so an
    event appended by another process (a CLI `cancel`) never collides with ours.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.rows: list[tuple[Any, ...]] = []
        self._seqs: dict[str, int] = {}

    def started(self, execution_id: str) -> None:
        """The execution was created in this transaction: it has no events yet (no lookup)."""
        self._seqs.setdefault(execution_id, 0)

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


def _items(got: Any) -> list[Any]:
    """What one queue entry holds: a list of held events, or one item."""
    return got if isinstance(got, list) else [got]


def _describe(item: _Item) -> str:
    if isinstance(item, EventRecord):
        return f"event {text_of(item.type)!r} of execution {item.execution_id}"
    return item.name


def text_of(value: Any) -> str:
    return value.value if isinstance(value, Enum) else str(value)


def _settle_all(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    """Resolve the waiters of one batch, on their loop; a waiter whose await was cancelled
    meanwhile is skipped (the write stands)."""
    for future, result, exc in outcomes:
        if future.done():
            continue
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)


class BatchWriter:
    """Owns the write connection and the thread that drains the queue into transactions."""

    def __init__(self, conn: sqlite3.Connection, *, batch_max: int, stats: StoreStats, name: str) -> None:
        self._conn = conn
        self._batch_max = batch_max
        self.stats = stats
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lost: BaseException | None = None  # an event write failed; the next barrier raises it
        self._held: list[_Item] = []  # queued on a loop, handed over at the end of its iteration
        self._held_lock = threading.Lock()
        self._hand_over_on: asyncio.AbstractEventLoop | None = None  # where a hand-over is due
        self._thread = threading.Thread(target=self._run, name=f"agenthub-store:{name}", daemon=True)
        self._thread.start()

    def put(self, event: EventRecord) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # another thread: behind what a loop holds, in order
            with self._held_lock:
                self._hand_over_locked()
                self._queue.put(event)
            return
        self._hold(event, loop)

    def _hold(self, item: _Item, loop: asyncio.AbstractEventLoop) -> None:
        with self._held_lock:
            self._held.append(item)
            if self._hand_over_on is not loop:  # (again on another loop: one may close first)
                self._hand_over_on = loop
                loop.call_soon(self.hand_over)

    def hand_over(self) -> None:
        """Queue what is held so far, as one item."""
        with self._held_lock:
            self._hand_over_locked()

    def _hand_over_locked(self) -> None:
        self._hand_over_on = None
        if self._held:
            self._queue.put(self._held)
            self._held = []

    def submit(self, fn: Callable[[Tx], Any] | None, name: str = "flush", *, atomic: bool = False) -> asyncio.Future[Any]:
        """Queue a write (None: a barrier) behind everything queued so far; the future (of the
        running loop) resolves when it is committed. `atomic`: see `_Op`."""
        loop = asyncio.get_running_loop()
        op = _Op(fn, name, loop.create_future(), atomic)
        self._hold(op, loop)
        return op.future

    def stop(self) -> asyncio.Future[Any]:
        """A last barrier, then the thread ends (and closes the connection)."""
        barrier = self.submit(None)
        self.hand_over()
        self._queue.put(_STOP)
        return barrier

    def join(self) -> None:
        self._thread.join()

    def _run(self) -> None:
        conn = self._conn
        try:
            while True:
                batch = _items(self._queue.get())
                while len(batch) < self._batch_max and batch[-1] is not _STOP:
                    try:
                        batch += _items(self._queue.get_nowait())
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
        waiters: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
        for item, (result, exc) in zip(batch, outcomes):
            if isinstance(item, EventRecord):
                if exc is not None:
                    self._lost = exc  # reported by the next barrier
                continue
            if item.fn is None:  # a barrier raises the first event failure since the last flush
                exc, self._lost = exc or self._lost, None
            waiters.setdefault(item.future.get_loop(), []).append((item.future, result, exc))
        for loop, settled in waiters.items():  # one wake-up per loop and batch, not per write
            try:
                loop.call_soon_threadsafe(_settle_all, settled)
            except RuntimeError:  # that loop is closed: nobody waits any more
                pass

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
        tx = Tx(conn)
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
    def _apply(tx: Tx, item: _Item) -> tuple[Any, BaseException | None]:
        if isinstance(item, EventRecord):
            return tx.add_event(item.execution_id, text_of(item.type), item.at, item.step, item.data), None
        if item.fn is None:
            return None, None
        mark = None if item.atomic else tx.savepoint()
        try:
            result = item.fn(tx)
        except Exception as exc:
            if not tx.conn.in_transaction:  # SQLite gave up the whole transaction
                raise
            if mark is not None:
                tx.rollback_to(mark)
            log.warning("store write refused: %s: %s", _describe(item), exc)
            return None, exc
        if mark is not None:
            tx.release()
        return result, None
