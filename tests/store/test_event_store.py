"""The event store contract, one suite on both backends: SQLite files and PostgreSQL databases.

Each test runs once per backend (`tests/store/conftest.py`); a PostgreSQL test gets its own
database, dropped afterwards. Crashes and liveness use real child processes.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from hub.contract.records import EventRecord, EventType, ExecutionRecord, ExecutionStatus
from hub.contract.store import EventStore
from hub.engine.ids import ExecutionIds
from hub.store.process_owner import process_owner

REPO = Path(__file__).resolve().parents[2]
from tests.store.backends import Backend


@pytest.fixture
def ids() -> ExecutionIds:
    return ExecutionIds()


@pytest.fixture
async def store(backend: Backend):
    s = backend.store()
    await s.open()
    yield s
    await s.close()


def execution(id_: str, **fields: Any) -> ExecutionRecord:
    fields.setdefault("playbook_path", "demo/hello")
    fields.setdefault("created_at", time.time())
    return ExecutionRecord(id=id_, **fields)


def event(execution_id: str, type_: str = EventType.STEP_FINISHED, **fields: Any) -> EventRecord:
    return EventRecord(execution_id=execution_id, type=type_, at=time.time(), **fields)


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid



async def test_create_append_flush_and_read_back(store: EventStore, ids: ExecutionIds) -> None:
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
    store: EventStore, ids: ExecutionIds
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
    store: EventStore, ids: ExecutionIds
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


async def test_status_changes_are_checked(store: EventStore, ids: ExecutionIds) -> None:
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
    store: EventStore, ids: ExecutionIds, caplog: pytest.LogCaptureFixture
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
    store: EventStore, ids: ExecutionIds, caplog: pytest.LogCaptureFixture, backend: Backend
) -> None:
    eid = ids.new()
    await store.create(execution(eid))
    store.append(event(eid, data={"i": 0}))
    # skip validation to smuggle in a value SQLite cannot bind
    store.append(EventRecord.model_construct(execution_id=eid, type="step.finished", at=object(), step=None, data={}, seq=0))
    store.append(event(eid, data={"i": 1}))
    with caplog.at_level(logging.ERROR, logger="agenthub.store"):
        with pytest.raises(backend.write_error):
            await store.flush()
    assert any(r.name == "agenthub.store" and r.levelno == logging.ERROR for r in caplog.records)

    await store.flush()  # reported once; the store keeps working
    store.append(event(eid, data={"i": 2}))
    await store.flush()
    events = await store.events(eid)
    assert [e.data["i"] for e in events] == [0, 1, 2]
    assert [e.seq for e in events] == [1, 2, 3]


async def test_odd_values_are_stored_as_json_without_failing(store: EventStore, ids: ExecutionIds) -> None:
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


async def test_get_accepts_a_unique_prefix(store: EventStore) -> None:
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


async def test_list_filters_and_pages_newest_first(store: EventStore, ids: ExecutionIds) -> None:
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


async def test_request_cancel_flags_unfinished_executions(store: EventStore, ids: ExecutionIds) -> None:
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


async def test_seq_stays_unique_when_two_stores_append_to_one_execution(backend: Backend, ids: ExecutionIds) -> None:
    """The run's store and a CLI's store (another connection) both write events of one execution."""
    async with backend.store() as run, backend.store() as cli:
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


async def test_close_is_idempotent_and_a_closed_store_refuses_writes(backend: Backend, ids: ExecutionIds) -> None:
    store = backend.store()
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

    async with backend.store() as again:
        assert [e.seq for e in await again.events(eid)] == [1]


async def test_reopening_continues_seq_and_keeps_records(backend: Backend, ids: ExecutionIds) -> None:
    eid = ids.new()
    async with backend.store() as first:
        await first.create(execution(eid, status=ExecutionStatus.RUNNING, arguments={"a": 1}))
        for i in range(3):
            first.append(event(eid, data={"i": i}))
    async with backend.store() as second:  # same process: the owner is alive, no recovery
        got = await second.get(eid)
        assert got.status is ExecutionStatus.RUNNING and got.arguments == {"a": 1}
        for i in range(3, 5):
            second.append(event(eid, data={"i": i}))
        await second.flush()
        events = await second.events(eid)
    assert [(e.seq, e.data["i"]) for e in events] == [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]


async def test_recovery_fails_executions_of_dead_processes_only(backend: Backend, ids: ExecutionIds) -> None:
    host = socket.gethostname()
    dead, reused, mine, remote, done = (ids.new() for _ in range(5))
    created = time.time() - 10
    async with backend.store() as store:
        await store.create(execution(dead, playbook_path="demo/dead", status=ExecutionStatus.RUNNING,
                                     owner=f"{host}:{dead_pid()}:12345", created_at=created))  # fmt: skip
        await store.create(execution(reused, status=ExecutionStatus.PENDING, owner=f"{host}:{os.getpid()}:1"))
        await store.create(execution(mine, status=ExecutionStatus.RUNNING, owner=process_owner()))
        await store.create(execution(remote, status=ExecutionStatus.RUNNING, owner="elsewhere:1:1"))
        await store.create(execution(done, owner=f"{host}:{dead_pid()}:1"))
        await store.finish(done, ExecutionStatus.SUCCEEDED, {"status": "ok"})
        store.append(event(dead, EventType.EXECUTION_STARTED))

    t0 = time.time()
    async with backend.store() as store:  # open() recovers
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


async def test_recover_returns_the_ids_it_failed(backend: Backend, ids: ExecutionIds) -> None:
    host = socket.gethostname()
    async with backend.store() as store:
        a, b = ids.new(), ids.new()
        await store.create(execution(a, status=ExecutionStatus.RUNNING, owner=f"{host}:{dead_pid()}:1"))
        await store.create(execution(b, status=ExecutionStatus.RUNNING))
        assert await store.recover() == [a]
        assert (await store.get(b)).status is ExecutionStatus.RUNNING



CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from hub.contract.records import EventRecord, ExecutionRecord
    from tests.store.backends import Backend

    async def main(kind, path, eid, n):
        store = Backend(kind, path).store()
        await store.open()
        await store.create(ExecutionRecord(id=eid, playbook_path="demo/crash", status="running",
                                           created_at=time.time()))
        for i in range(n):
            store.append(EventRecord(execution_id=eid, type="step.finished", at=time.time(),
                                     step="s", data={"i": i}))
        await store.flush()
        print("FLUSHED", flush=True)
        time.sleep(120)  # block: nothing more is written, nothing is closed

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
    """
)


async def test_flushed_events_survive_kill_9_and_the_run_is_recovered(backend: Backend, ids: ExecutionIds) -> None:
    eid, n = ids.new(), 2000
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, backend.name, backend.where, eid, str(n),
        cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = await asyncio.wait_for(child.stdout.readline(), timeout=60)
        assert line.strip() == b"FLUSHED"

        # a second process reads the live run; its owner is alive, so nothing is recovered
        async with backend.store() as viewer:
            live = await viewer.get(eid)
            assert live.status is ExecutionStatus.RUNNING
            assert live.owner is not None and live.owner.split(":")[1] == str(child.pid)
            assert len(await viewer.events(eid)) == n
    finally:
        child.kill()  # SIGKILL: no close(), no atexit
        await child.wait()
    assert child.returncode == -9

    async with backend.store() as store:
        events = await store.events(eid)
        assert [e.data["i"] for e in events[:n]] == list(range(n))
        assert [e.seq for e in events] == list(range(1, n + 2))
        assert events[-1].type == "execution.finished"
        got = await store.get(eid)
        assert got.status is ExecutionStatus.FAILED
        assert got.envelope["error"]["code"] == "PROCESS_DIED"
        assert got.envelope["entrypoint"] == "demo/crash"
