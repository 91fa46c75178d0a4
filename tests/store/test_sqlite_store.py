"""What only the SQLite store has: its file, pragmas and schema migration, and the liveness check
of owner processes. The store contract itself is `test_event_store.py`, on both backends."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.engine.ids import ExecutionIds
from hub.contract.records import EventRecord, EventType, ExecutionRecord
from hub.store.process_owner import owner_is_dead, process_owner
from hub.store.sqlite import SqliteEventStore

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ids() -> ExecutionIds:
    return ExecutionIds()


@pytest.fixture
async def store(tmp_path: Path):
    s = SqliteEventStore(tmp_path / "state" / "hub.db")
    await s.open()
    yield s
    await s.close()


def execution(id_: str, **fields) -> ExecutionRecord:
    fields.setdefault("playbook_path", "demo/hello")
    fields.setdefault("created_at", time.time())
    return ExecutionRecord(id=id_, **fields)


def event(execution_id: str, type_: str = EventType.STEP_FINISHED, **fields) -> EventRecord:
    return EventRecord(execution_id=execution_id, type=type_, at=time.time(), **fields)


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --- writes and reads -----------------------------------------------------------------------


# --- lookup and listing ---------------------------------------------------------------------


# --- lifecycle, durability and recovery ----------------------------------------------------


async def test_schema_and_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "hub.db"
    async with SqliteEventStore(path, synchronous="full"):
        pass
    assert path.exists()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"executions", "events", "executions_status", "executions_parent"} <= names
    finally:
        conn.close()
    with pytest.raises(ValueError):
        SqliteEventStore(path, synchronous="sometimes")


def test_owner_liveness() -> None:
    me = process_owner()
    host, pid, start = me.rsplit(":", 2)
    assert host == socket.gethostname() and int(pid) == os.getpid() and start.isdigit()
    assert owner_is_dead(me) is False
    assert owner_is_dead(None) is True
    assert owner_is_dead("garbage") is True
    assert owner_is_dead(f"{host}:{dead_pid()}:{start}") is True
    assert owner_is_dead(f"{host}:{os.getpid()}:{int(start) + 1}") is True  # pid reused by another process
    assert owner_is_dead(f"not-{host}:{dead_pid()}:1") is False  # cannot judge another host


async def test_a_schema_1_database_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    """Schema 1 (this hub's first release) had no `started_by`; opening it adds the column."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE executions (id TEXT PRIMARY KEY, parent_id TEXT, playbook_path TEXT NOT NULL,"
        " playbook_version INTEGER, playbook_name TEXT, status TEXT NOT NULL, arguments TEXT NOT NULL"
        " DEFAULT '{}', depth INTEGER NOT NULL DEFAULT 0, owner TEXT, created_at REAL NOT NULL,"
        " finished_at REAL, envelope TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE events (execution_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL,"
        " at REAL NOT NULL, step TEXT, data TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (execution_id, seq));"
        "INSERT INTO executions (id, playbook_path, status, created_at, envelope)"
        " VALUES ('old-1', 'hello', 'succeeded', 1.0, '{}');"
        "PRAGMA user_version = 1;"
    )
    conn.close()
    async with SqliteEventStore(path) as store:
        old = await store.get("old-1")
        assert old is not None and old.playbook_path == "hello" and old.started_by is None
        assert old.required_scopes is None  # unknown for old rows: hub.contract.access fails closed
        await store.create(execution("new-1", started_by="ci-bot", required_scopes=["billing"]))
        new = await store.get("new-1")
        assert new.started_by == "ci-bot" and new.required_scopes == ["billing"]
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    finally:
        conn.close()


def test_writes_a_loop_held_reach_the_file_whatever_loop_comes_next(tmp_path: Path) -> None:
    """Writes queued on a loop are handed to the writer thread at the end of the loop's iteration
    (one transaction for a short run); one held by a loop that closed before that goes with the
    next loop's writes, and a thread without a loop appends behind them, in order."""
    import asyncio
    import threading

    store = SqliteEventStore(tmp_path / "held.db")
    run_id = ExecutionIds().new()
    types = ["step.started", "step.progress", "step.finished", "step.progress"]

    async def first() -> None:
        await store.open()
        await store.create(ExecutionRecord(id=run_id, playbook_path="p", status="running", created_at=time.time()))
        store.append(EventRecord(execution_id=run_id, type=types[0], at=time.time()))
        # the loop ends here, maybe before its hand-over runs

    async def second() -> list[str]:
        worker = threading.Thread(target=store.append, args=(EventRecord(
            execution_id=run_id, type=types[1], at=time.time()),))
        worker.start()
        worker.join()
        store.append(EventRecord(execution_id=run_id, type=types[2], at=time.time()))
        await store.flush()
        store.append(EventRecord(execution_id=run_id, type=types[3], at=time.time()))
        await store.flush()
        found = [(e.seq, e.type) for e in await store.events(run_id)]
        await store.close()
        return found

    asyncio.run(first())
    assert asyncio.run(asyncio.wait_for(second(), 30)) == list(enumerate(types, 1))


async def test_refused_writes_in_one_transaction_fail_alone(store: SqliteEventStore, ids: ExecutionIds) -> None:
    """A record and a final write need no savepoint of their own (one statement each): queued
    together with good writes and events, one that SQLite refuses (a duplicate id, a finish of an
    unknown run) fails alone, and everything else in the same transaction is committed."""
    import asyncio

    taken, first, second, unknown = ids.new(), ids.new(), ids.new(), ids.new()
    await store.create(execution(taken, status="running"))
    before = store.stats.transactions
    writes = [
        store.create(execution(first, status="running")),
        store.create(execution(taken, playbook_path="other")),
        store.finish(unknown, "failed", {"status": "error"}),
        store.finish(first, "succeeded", {"status": "ok"}),
        store.create(execution(second, status="running")),
    ]
    store.append(event(second))
    outcomes = await asyncio.gather(*writes, return_exceptions=True)
    assert store.stats.transactions - before == 1  # all of it in one transaction
    assert [type(o).__name__ for o in outcomes] == ["NoneType", "ValueError", "LookupError", "NoneType", "NoneType"]
    assert (await store.get(taken)).playbook_path == "demo/hello"
    done = await store.get(first)
    assert done.status.value == "succeeded" and done.envelope == {"status": "ok"}
    assert (await store.get(second)).status.value == "running"
    assert [e.type for e in await store.events(second)] == [EventType.STEP_FINISHED.value]
    assert await store.get(unknown) is None
