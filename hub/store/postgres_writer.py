"""The PostgreSQL store's writer: one task drains a FIFO queue of events and writes into batched
transactions, like SQLite's writer thread but on the event loop (asyncpg is async).

Events cost no wait on the engine's hot path (`put`); a write someone awaits (`submit`) resolves
once committed, after every item queued before it. A batch that fails is written again item by
item, so one bad write fails alone; a failed event is reported by the next barrier (`flush`).

Sequence numbers: several nodes may write events of one execution (a worker runs it, a front end
records a cancel request), so `seq` is taken under a transaction-level advisory lock on the
execution id (PostgreSQL's lock, released at commit) and continues from MAX(seq).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from hub.contract.records import EventRecord
from hub.store.sqlite_schema import dumps
from hub.store.sqlite_writer import StoreStats, text_of

log = logging.getLogger("agenthub.store")

_STOP = object()


class PgTx:
    """One write transaction: numbers events and collects their rows for one executemany."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.rows: list[tuple[Any, ...]] = []
        self._seqs: dict[str, int] = {}

    def started(self, execution_id: str) -> None:
        """The execution was created in this transaction: it has no events yet (no lookup)."""
        self._seqs.setdefault(execution_id, 0)

    async def lock(self, execution_ids: list[str]) -> None:
        """Take the seq locks of these executions, in one sorted order (no deadlock between
        batches), and read where their numbering continues."""
        for execution_id in sorted(set(execution_ids) - set(self._seqs)):
            await self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", execution_id)
            self._seqs[execution_id] = await self.conn.fetchval(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE execution_id = $1", execution_id
            )

    async def add_event(
        self, execution_id: str, type_: str, at: float, step: str | None, data: dict[str, Any]
    ) -> int:
        if execution_id not in self._seqs:
            await self.lock([execution_id])
        seq = self._seqs[execution_id] + 1
        self._seqs[execution_id] = seq
        self.rows.append((execution_id, seq, type_, at, step, dumps(data)))
        return seq


PgWrite = Callable[[PgTx], Awaitable[Any]]


class _Op:
    __slots__ = ("fn", "name", "future")

    def __init__(self, fn: PgWrite | None, name: str, future: asyncio.Future[Any]) -> None:
        self.fn = fn
        self.name = name
        self.future = future


_Item = EventRecord | _Op


class PgBatchWriter:
    """Owns the writer task; takes a connection from the pool for each transaction."""

    def __init__(self, pool: Any, *, batch_max: int, stats: StoreStats) -> None:
        self._pool = pool
        self._batch_max = batch_max
        self.stats = stats
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._lost: BaseException | None = None
        self._task = asyncio.create_task(self._run(), name="agenthub-store:postgres")

    def put(self, event: EventRecord) -> None:
        self._queue.put_nowait(event)

    def submit(self, fn: PgWrite | None, name: str = "flush") -> asyncio.Future[Any]:
        op = _Op(fn, name, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(op)
        return op.future

    async def stop(self) -> None:
        """A last barrier, then the task ends."""
        barrier = self.submit(None)
        self._queue.put_nowait(_STOP)
        try:
            await barrier
        finally:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and batch[-1] is not _STOP:
                try:
                    batch.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            stop = batch[-1] is _STOP
            if stop:
                batch.pop()
            if batch:
                try:
                    await self._write(batch)
                except Exception:  # never let the writer die: its waiters would hang
                    log.exception("store writer failed")
            if stop:
                return

    async def _write(self, batch: list[_Item]) -> None:
        try:
            outcomes = await self._commit(batch)
        except Exception as exc:
            self.stats.failed_batches += 1
            if len(batch) == 1:
                log.error("store write failed: %s", _describe(batch[0]), exc_info=exc)
                outcomes = [(None, exc)]
            else:
                log.error("store batch of %d items failed; writing them one by one", len(batch), exc_info=exc)
                outcomes = [await self._commit_alone(item) for item in batch]
        for item, (result, exc) in zip(batch, outcomes):
            if isinstance(item, EventRecord):
                if exc is not None:
                    self._lost = exc
                continue
            if item.fn is None:
                exc, self._lost = exc or self._lost, None
            if item.future.done():
                continue
            if exc is not None:
                item.future.set_exception(exc)
            else:
                item.future.set_result(result)

    async def _commit_alone(self, item: _Item) -> tuple[Any, BaseException | None]:
        try:
            (outcome,) = await self._commit([item])
        except Exception as exc:
            log.error("store write failed: %s", _describe(item), exc_info=exc)
            return None, exc
        return outcome

    async def _commit(self, batch: list[_Item]) -> list[tuple[Any, BaseException | None]]:
        async with self._pool.acquire() as conn, conn.transaction():
            tx = PgTx(conn)
            await tx.lock([item.execution_id for item in batch if isinstance(item, EventRecord)])
            outcomes = [await self._apply(tx, item) for item in batch]
            if tx.rows:
                await conn.executemany(
                    "INSERT INTO events (execution_id, seq, type, at, step, data) VALUES ($1, $2, $3, $4, $5, $6)",
                    tx.rows,
                )
        self.stats.transactions += 1
        self.stats.events += len(tx.rows)
        return outcomes

    @staticmethod
    async def _apply(tx: PgTx, item: _Item) -> tuple[Any, BaseException | None]:
        if isinstance(item, EventRecord):
            seq = await tx.add_event(item.execution_id, text_of(item.type), item.at, item.step, item.data)
            return seq, None
        if item.fn is None:
            return None, None
        mark = len(tx.rows), dict(tx._seqs)
        try:
            async with tx.conn.transaction():  # a savepoint: a refused op is undone alone
                result = await item.fn(tx)
        except (LookupError, ValueError) as exc:  # the op's own refusal, not the database's
            del tx.rows[mark[0] :]
            tx._seqs = mark[1]
            log.warning("store write refused: %s: %s", item.name, exc)
            return None, exc
        return result, None


def _describe(item: _Item) -> str:
    if isinstance(item, EventRecord):
        return f"event {text_of(item.type)!r} of execution {item.execution_id}"
    return item.name
