"""The SQLite event store on real files, with real child processes for crashes and liveness."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hub.engine.ids import ExecutionIds
from hub.contract.records import EventRecord, EventType, ExecutionRecord, ExecutionStatus
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


async def test_create_append_flush_and_read_back(store: SqliteEventStore, ids: ExecutionIds) -> None:
    eid = ids.new()
    record = execution(eid, playbook_version=3, playbook_name="hello", arguments={"q": "x"}, depth=1)
    await store.create(record)

    got = await store.get(eid)
    assert got == record.model_copy(update={"owner": store.owner})  # the store fills in its owner

    store.append(event(eid, EventType.EXECUTION_STARTED))
    for i in range(8):
        store.append(event(eid, EventType.STEP_FINISHED, step=f"s{i}", data={"i": i, "out": [1, "a"]}))
    store.append(event(eid, EventType.EXECUTION_FINISHED, data={"status": "succeeded"}))
    await store.flush()

    events = await store.events(eid)
    assert [e.seq for e in events] == list(range(1, 11))
    assert events[0].type == "execution.started" and events[0].step is None
    assert [e.step for e in events[1:9]] == [f"s{i}" for i in range(8)]
    assert [e.data["i"] for e in events[1:9]] == list(range(8))
    assert events[1].data == {"i": 0, "out": [1, "a"]}
    assert events[-1].type == "execution.finished" and events[-1].data == {"status": "succeeded"}

    assert [e.seq for e in await store.events(eid, after_seq=7)] == [8, 9, 10]
    assert [e.seq for e in await store.events(eid, after_seq=2, limit=3)] == [3, 4, 5]
    assert await store.events(ids.new()) == []


async def test_batching_writes_thousands_of_events_in_few_transactions(
    store: SqliteEventStore, ids: ExecutionIds
) -> None:
    eid = ids.new()
    await store.create(execution(eid))
    before = store.stats.transactions

    for i in range(5000):
        store.append(event(eid, step="loop", data={"i": i}))
    await store.flush()

    events = await store.events(eid)
    assert len(events) == 5000
    assert [e.seq for e in events] == list(range(1, 5001))
    assert [e.data["i"] for e in events] == list(range(5000))
    transactions = store.stats.transactions - before
    assert 1 <= transactions <= 5000 // 50, transactions  # batched, not one per event
    assert store.stats.events >= 5000


async def test_finish_is_committed_after_every_event_appended_before_it(
    store: SqliteEventStore, ids: ExecutionIds
) -> None:
    eid = ids.new()
    await store.create(execution(eid))
    await store.set_status(eid, ExecutionStatus.RUNNING)
    for i in range(300):
        store.append(event(eid, data={"i": i}))
    envelope = {"status": "ok", "framework": "noetl", "execution_id": eid, "duration": 0.5, "data": {"n": 1}}
    t0 = time.time()
    await store.finish(eid, ExecutionStatus.SUCCEEDED, envelope)  # no flush in between

    assert [e.data["i"] for e in await store.events(eid)] == list(range(300))
    got = await store.get(eid)
    assert got is not None
    assert got.status is ExecutionStatus.SUCCEEDED
    assert got.envelope == envelope
    assert got.finished_at is not None and got.finished_at >= t0 - 1


async def test_status_changes_are_checked(store: SqliteEventStore, ids: ExecutionIds) -> None:
    eid = ids.new()
    await store.create(execution(eid))
    await store.set_status(eid, ExecutionStatus.RUNNING)
    assert (await store.get(eid)).status is ExecutionStatus.RUNNING

    with pytest.raises(ValueError):
        await store.set_status(eid, ExecutionStatus.SUCCEEDED)
    with pytest.raises(ValueError):
        await store.finish(eid, ExecutionStatus.RUNNING, {})
    with pytest.raises(LookupError):
        await store.set_status(ids.new(), ExecutionStatus.RUNNING)
    with pytest.raises(LookupError):
        await store.finish(ids.new(), ExecutionStatus.FAILED, {})
    with pytest.raises(ValueError, match="already exists"):
        await store.create(execution(eid))

    await store.finish(eid, ExecutionStatus.CANCELLED, {"status": "error"})
    await store.set_status(eid, ExecutionStatus.RUNNING)  # a finished execution stays finished
    assert (await store.get(eid)).status is ExecutionStatus.CANCELLED


async def test_a_failing_create_does_not_take_down_events_queued_beside_it(
    store: SqliteEventStore, ids: ExecutionIds, caplog: pytest.LogCaptureFixture
) -> None:
    eid = ids.new()
    await store.create(execution(eid))
    for i in range(50):
        store.append(event(eid, data={"i": i}))
    with caplog.at_level(logging.WARNING, logger="agenthub.store"):
        with pytest.raises(ValueError, match="already exists"):
            await store.create(execution(eid, playbook_path="other"))
    assert any(f"create {eid}" in r.getMessage() for r in caplog.records)
    await store.flush()  # nothing was lost

    assert [e.data["i"] for e in await store.events(eid)] == list(range(50))
    assert (await store.get(eid)).playbook_path == "demo/hello"


async def test_a_failed_event_write_is_raised_by_the_next_flush_and_logged(
    store: SqliteEventStore, ids: ExecutionIds, caplog: pytest.LogCaptureFixture
) -> None:
    eid = ids.new()
    await store.create(execution(eid))
    store.append(event(eid, data={"i": 0}))
    # skip validation to smuggle in a value SQLite cannot bind
    store.append(EventRecord.model_construct(execution_id=eid, type="step.finished", at=object(), step=None, data={}, seq=0))
    store.append(event(eid, data={"i": 1}))
    with caplog.at_level(logging.ERROR, logger="agenthub.store"):
        with pytest.raises(sqlite3.Error):
            await store.flush()
    assert any(r.name == "agenthub.store" and r.levelno == logging.ERROR for r in caplog.records)

    await store.flush()  # reported once; the store keeps working
    store.append(event(eid, data={"i": 2}))
    await store.flush()
    events = await store.events(eid)
    assert [e.data["i"] for e in events] == [0, 1, 2]
    assert [e.seq for e in events] == [1, 2, 3]


async def test_odd_values_are_stored_as_json_without_failing(store: SqliteEventStore, ids: ExecutionIds) -> None:
    eid = ids.new()
    when = datetime.datetime(2025, 1, 2, 3, 4, 5)
    await store.create(execution(eid, arguments={"when": when}))
    loop: dict = {"name": "loop"}
    loop["self"] = loop
    store.append(event(eid, data={"when": when, "path": Path("/tmp/x")}))
    store.append(event(eid, data=loop))
    await store.flush()

    events = await store.events(eid)
    assert events[0].data == {"when": "2025-01-02 03:04:05", "path": "/tmp/x"}
    assert "loop" in events[1].data["unencodable"]
    assert (await store.get(eid)).arguments == {"when": "2025-01-02 03:04:05"}


# --- lookup and listing ---------------------------------------------------------------------


async def test_get_accepts_a_unique_prefix(store: SqliteEventStore) -> None:
    a = "0190a1b2-0000-7000-8000-000000000001"
    b = "0190a1b2-0000-7000-8000-000000000002"
    c = "0190ffff-0000-7000-8000-000000000003"
    for eid in (a, b, c):
        await store.create(execution(eid))

    assert (await store.get(a)).id == a
    assert (await store.get("0190f")).id == c
    assert (await store.get("0190FFFF")).id == c  # case does not matter
    assert (await store.get(a[:-1] + "2")).id == b
    assert await store.get("0190a1b2") is None  # ambiguous
    assert await store.get("0190") is None  # ambiguous
    assert await store.get("0191") is None  # unknown
    assert await store.get("") is None


async def test_list_filters_and_pages_newest_first(store: SqliteEventStore, ids: ExecutionIds) -> None:
    parent = ids.new()
    await store.create(execution(parent, status=ExecutionStatus.RUNNING))
    children = []
    for i in range(5):
        cid = ids.new()
        children.append(cid)
        await store.create(execution(cid, parent_id=parent, depth=1))
        if i % 2:
            await store.finish(cid, ExecutionStatus.FAILED, {"status": "error"})
    other = ids.new()
    await store.create(execution(other))
    everything = [parent, *children, other]

    assert [r.id for r in await store.list()] == everything[::-1]
    assert [r.id for r in await store.list(parent_id=parent)] == children[::-1]
    assert [r.id for r in await store.list(status=ExecutionStatus.FAILED)] == [children[3], children[1]]
    assert [r.id for r in await store.list(status=ExecutionStatus.PENDING, parent_id=parent)] == [
        children[4], children[2], children[0],
    ]  # fmt: skip
    assert [r.id for r in await store.list(limit=2)] == [other, children[4]]

    pages, before = [], None
    while page := await store.list(limit=3, before=before):
        pages.append([r.id for r in page])
        before = page[-1].id
    assert pages == [everything[::-1][0:3], everything[::-1][3:6], everything[::-1][6:]]
    assert await store.list(status=ExecutionStatus.TIMED_OUT) == []


async def test_request_cancel_flags_unfinished_executions(store: SqliteEventStore, ids: ExecutionIds) -> None:
    running, finished, quiet = ids.new(), ids.new(), ids.new()
    for eid in (running, finished, quiet):
        await store.create(execution(eid, status=ExecutionStatus.RUNNING))
    await store.finish(finished, ExecutionStatus.SUCCEEDED, {"status": "ok"})
    store.append(event(running, EventType.EXECUTION_STARTED))

    assert await store.request_cancel(running) is True
    assert await store.request_cancel(running) is True  # asked twice, flagged once
    assert await store.request_cancel(finished) is False
    assert await store.request_cancel(ids.new()) is False

    assert (await store.get(running)).cancel_requested is True
    assert (await store.get(finished)).cancel_requested is False
    assert await store.cancel_requested([running, finished, quiet, ids.new()]) == {running}
    assert await store.cancel_requested([]) == set()
    events = await store.events(running)
    assert [(e.seq, e.type) for e in events] == [(1, "execution.started"), (2, "execution.cancel_requested")]


async def test_seq_stays_unique_when_two_stores_append_to_one_execution(tmp_path: Path, ids: ExecutionIds) -> None:
    """The run's store and a CLI's store (another connection) both write events of one execution."""
    async with SqliteEventStore(tmp_path / "hub.db") as run, SqliteEventStore(tmp_path / "hub.db") as cli:
        eid = ids.new()
        await run.create(execution(eid, status=ExecutionStatus.RUNNING))
        for _ in range(3):
            run.append(event(eid))
        await run.flush()
        assert await cli.request_cancel(eid) is True
        run.append(event(eid, EventType.STEP_FAILED))
        await run.flush()
        assert [(e.seq, e.type) for e in await cli.events(eid)] == [
            (1, "step.finished"), (2, "step.finished"), (3, "step.finished"),
            (4, "execution.cancel_requested"), (5, "step.failed"),
        ]  # fmt: skip
        assert await run.cancel_requested([eid]) == {eid}


# --- lifecycle, durability and recovery ----------------------------------------------------


async def test_schema_and_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "hub.db"
    async with SqliteEventStore(path, synchronous="full"):
        pass
    assert path.exists()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {"executions", "events", "executions_status", "executions_parent"} <= names
    finally:
        conn.close()
    with pytest.raises(ValueError):
        SqliteEventStore(path, synchronous="sometimes")


async def test_close_is_idempotent_and_a_closed_store_refuses_writes(tmp_path: Path, ids: ExecutionIds) -> None:
    store = SqliteEventStore(tmp_path / "hub.db")
    await store.open()
    eid = ids.new()
    await store.create(execution(eid))
    store.append(event(eid))
    await store.close()  # flushes what was pending
    await store.close()
    await store.flush()
    with pytest.raises(RuntimeError):
        store.append(event(eid))
    with pytest.raises(RuntimeError):
        await store.create(execution(ids.new()))

    async with SqliteEventStore(tmp_path / "hub.db") as again:
        assert [e.seq for e in await again.events(eid)] == [1]


async def test_reopening_continues_seq_and_keeps_records(tmp_path: Path, ids: ExecutionIds) -> None:
    path = tmp_path / "hub.db"
    eid = ids.new()
    async with SqliteEventStore(path) as first:
        await first.create(execution(eid, status=ExecutionStatus.RUNNING, arguments={"a": 1}))
        for i in range(3):
            first.append(event(eid, data={"i": i}))
    async with SqliteEventStore(path) as second:  # same process: the owner is alive, no recovery
        got = await second.get(eid)
        assert got.status is ExecutionStatus.RUNNING and got.arguments == {"a": 1}
        for i in range(3, 5):
            second.append(event(eid, data={"i": i}))
        await second.flush()
        events = await second.events(eid)
    assert [(e.seq, e.data["i"]) for e in events] == [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]


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


async def test_recovery_fails_executions_of_dead_processes_only(tmp_path: Path, ids: ExecutionIds) -> None:
    path = tmp_path / "hub.db"
    host = socket.gethostname()
    dead, reused, mine, remote, done = (ids.new() for _ in range(5))
    created = time.time() - 10
    async with SqliteEventStore(path) as store:
        await store.create(execution(dead, playbook_path="demo/dead", status=ExecutionStatus.RUNNING,
                                     owner=f"{host}:{dead_pid()}:12345", created_at=created))  # fmt: skip
        await store.create(execution(reused, status=ExecutionStatus.PENDING, owner=f"{host}:{os.getpid()}:1"))
        await store.create(execution(mine, status=ExecutionStatus.RUNNING, owner=process_owner()))
        await store.create(execution(remote, status=ExecutionStatus.RUNNING, owner="elsewhere:1:1"))
        await store.create(execution(done, owner=f"{host}:{dead_pid()}:1"))
        await store.finish(done, ExecutionStatus.SUCCEEDED, {"status": "ok"})
        store.append(event(dead, EventType.EXECUTION_STARTED))

    t0 = time.time()
    async with SqliteEventStore(path) as store:  # open() recovers
        got = await store.get(dead)
        assert got.status is ExecutionStatus.FAILED
        assert got.finished_at is not None and got.finished_at >= t0 - 1
        env = got.envelope
        assert env["status"] == "error" and env["framework"] == "noetl"
        assert env["entrypoint"] == "demo/dead" and env["execution_id"] == dead
        assert 9 <= env["duration"] <= 60
        assert env["error"]["code"] == "PROCESS_DIED"
        assert env["error"]["kind"] == "agent.execution" and env["error"]["retryable"] is True
        events = await store.events(dead)
        assert [(e.seq, e.type) for e in events] == [(1, "execution.started"), (2, "execution.finished")]
        assert events[1].data == {
            "status": "failed",
            "error": {"code": "PROCESS_DIED", "message": env["error"]["message"]},
        }

        assert (await store.get(reused)).status is ExecutionStatus.FAILED
        assert (await store.get(mine)).status is ExecutionStatus.RUNNING
        assert (await store.get(remote)).status is ExecutionStatus.RUNNING
        assert (await store.get(done)).status is ExecutionStatus.SUCCEEDED
        for eid in (mine, remote, done):
            assert await store.events(eid) == []
        assert await store.recover() == []  # nothing left to recover
        assert [e.seq for e in await store.events(dead)] == [1, 2]


async def test_recover_returns_the_ids_it_failed(tmp_path: Path, ids: ExecutionIds) -> None:
    host = socket.gethostname()
    async with SqliteEventStore(tmp_path / "hub.db") as store:
        a, b = ids.new(), ids.new()
        await store.create(execution(a, status=ExecutionStatus.RUNNING, owner=f"{host}:{dead_pid()}:1"))
        await store.create(execution(b, status=ExecutionStatus.RUNNING))
        assert await store.recover() == [a]
        assert (await store.get(b)).status is ExecutionStatus.RUNNING


CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from hub.contract.records import EventRecord, ExecutionRecord
    from hub.store.sqlite import SqliteEventStore

    async def main(path, eid, n):
        store = SqliteEventStore(path)
        await store.open()
        await store.create(ExecutionRecord(id=eid, playbook_path="demo/crash", status="running",
                                           created_at=time.time()))
        for i in range(n):
            store.append(EventRecord(execution_id=eid, type="step.finished", at=time.time(),
                                     step="s", data={"i": i}))
        await store.flush()
        print("FLUSHED", flush=True)
        time.sleep(120)  # block: nothing more is written, nothing is closed

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


async def test_flushed_events_survive_kill_9_and_the_run_is_recovered(tmp_path: Path, ids: ExecutionIds) -> None:
    path, eid, n = tmp_path / "hub.db", ids.new(), 2000
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(path), eid, str(n),
        cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = await asyncio.wait_for(child.stdout.readline(), timeout=60)
        assert line.strip() == b"FLUSHED"

        # a second process reads the live run; its owner is alive, so nothing is recovered
        async with SqliteEventStore(path) as viewer:
            live = await viewer.get(eid)
            assert live.status is ExecutionStatus.RUNNING
            assert live.owner is not None and live.owner.split(":")[1] == str(child.pid)
            assert len(await viewer.events(eid)) == n
    finally:
        child.kill()  # SIGKILL: no close(), no atexit
        await child.wait()
    assert child.returncode == -9

    async with SqliteEventStore(path) as store:
        events = await store.events(eid)
        assert [e.data["i"] for e in events[:n]] == list(range(n))
        assert [e.seq for e in events] == list(range(1, n + 2))
        assert events[-1].type == "execution.finished"
        got = await store.get(eid)
        assert got.status is ExecutionStatus.FAILED
        assert got.envelope["error"]["code"] == "PROCESS_DIED"
        assert got.envelope["entrypoint"] == "demo/crash"


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
        await store.create(execution("new-1", started_by="ci-bot"))
        assert (await store.get("new-1")).started_by == "ci-bot"
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    finally:
        conn.close()
