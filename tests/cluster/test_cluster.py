"""The cluster with the real servers: `agenthub serve` front ends and `agenthub worker` processes on
one PostgreSQL database and one NATS JetStream stream, driven over REST and the official MCP client.

Each test starts its own processes (a few seconds each on this machine); they are the heaviest
tests of the suite and stay few.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

import anyio
import asyncpg
import pytest
from mcp import Client, types

from hub.contract.records import EventRecord
from hub.queue.worker import replay_from
from tests.cluster.cluster_support import REPO, RELAY, Cluster, CountingServer, Node

pytestmark = pytest.mark.cluster


async def _statuses(dsn: str) -> dict[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {r["id"]: r["status"] for r in await conn.fetch("SELECT id, status FROM executions")}
    finally:
        await conn.close()


async def _wait(predicate: Any, timeout: float = 90, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError("condition not met in time")


def _post(node: Node, path: str, **body: Any) -> dict[str, Any]:
    with node.api() as api:
        response = api.post(path, json=body) if body else api.post(path)
    assert response.status_code in (200, 202), response.text
    return response.json()


async def test_fifty_runs_on_two_workers_survive_a_kill_9_and_no_finished_step_runs_twice(
    cluster: Cluster, counter: CountingServer
) -> None:
    counter.delay = 0.1  # each step takes a while: the kill lands mid-run
    quick = {"AGENTHUB_QUEUE_ACK_WAIT": "2"}
    front = await asyncio.to_thread(cluster.front_end, "front", **quick)
    doomed = await asyncio.to_thread(cluster.worker, "doomed", "--max-concurrent", "8", **quick)
    survivor = await asyncio.to_thread(cluster.worker, "survivor", "--max-concurrent", "8", **quick)

    async def submit(n: int) -> str:
        envelope = await asyncio.to_thread(
            _post, front, "/api/executions", playbook="cluster/relay", arguments={"server": counter.url, "n": n}, wait=False
        )
        return envelope["execution_id"]

    ids = await asyncio.gather(*(submit(n) for n in range(50)))
    assert len(set(ids)) == 50

    conn = await asyncpg.connect(cluster.dsn)
    try:
        async def doomed_is_mid_run() -> bool:  # it runs something that has finished a step already
            return bool(await conn.fetchval(
                "SELECT count(*) FROM executions e WHERE e.status = 'running' AND split_part(e.owner, ':', 2) = $1 "
                "AND EXISTS (SELECT 1 FROM events v WHERE v.execution_id = e.id AND v.type = 'step.finished')",
                str(doomed.proc.pid),
            ))  # fmt: skip

        await _wait(doomed_is_mid_run, interval=0.02)
        doomed.proc.send_signal(signal.SIGKILL)
        doomed.proc.wait()

        async def all_finished() -> bool:
            statuses = await _statuses(cluster.dsn)
            return all(statuses.get(i) not in (None, "pending", "running") for i in ids)

        await _wait(all_finished, timeout=120)
        statuses = await _statuses(cluster.dsn)
        assert {statuses[i] for i in ids} == {"succeeded"}, statuses
        started_twice = await conn.fetchval(
            "SELECT count(*) FROM (SELECT execution_id FROM events WHERE type = 'execution.started' "
            "GROUP BY execution_id HAVING count(*) > 1) resumed"
        )
        envelopes = {r["id"]: r["envelope"] for r in await conn.fetch("SELECT id, envelope FROM executions")}
    finally:
        await conn.close()
    assert started_twice >= 1  # the kill interrupted runs, and another worker resumed them

    calls, keys = counter.per_step(), counter.keys()
    for eid in ids:
        per_step = [calls[(eid, step)] for step in ("/first", "/second", "/third")]
        assert all(n >= 1 for n in per_step), (eid, per_step)
        # only the step running at the kill may run again; every step that had finished ran once
        assert sum(n - 1 for n in per_step) <= 1, (eid, per_step)
        for step in ("/first", "/second", "/third"):
            assert len(keys[(eid, step)]) == 1, (eid, step, keys[(eid, step)])  # a repeat sends the same key
        assert '"counts"' in envelopes[eid]
    assert survivor.proc.poll() is None


async def test_a_remote_run_reports_progress_to_mcp_and_cancels_from_the_front_end(
    cluster: Cluster, counter: CountingServer
) -> None:
    front = await asyncio.to_thread(cluster.front_end)
    worker = await asyncio.to_thread(cluster.worker, "w1")

    seen: list[str] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    async with Client(front.url, mode="auto") as client:
        result = await client.call_tool("relay", {"server": counter.url, "n": 7}, progress_callback=progress)
        assert result.is_error is False, result
        assert result.structured_content["data"] == {"n": 7, "counts": [1, 1, 1]}
        for step in ("first", "second", "third"):
            assert any(f"step {step} finished" in m for m in seen), seen

        seen.clear()  # a sub-run is work too; its steps reach the caller through its parent's worker
        nested = await client.call_tool("nested", {"server": counter.url}, progress_callback=progress)
        assert nested.is_error is False, nested
        assert nested.structured_content["data"]["child"]["n"] == 5
        assert any("cluster/relay/third finished" in m for m in seen), seen
    parent_id = nested.structured_content["execution_id"]
    conn = await asyncpg.connect(cluster.dsn)
    try:
        child = await conn.fetchrow("SELECT depth, status, owner FROM executions WHERE parent_id = $1", parent_id)
    finally:
        await conn.close()
    assert child["depth"] == 1 and child["status"] == "succeeded"
    assert child["owner"].split(":")[1] == str(worker.proc.pid)  # run by the worker, not the front end

    started = await asyncio.to_thread(
        _post, front, "/api/executions", playbook="cluster/sleeper", arguments={"seconds": 120}, wait=False
    )
    eid = started["execution_id"]

    async def running() -> bool:
        return (await _statuses(cluster.dsn)).get(eid) == "running"

    await _wait(running)
    t0 = time.monotonic()
    cancelled = await asyncio.to_thread(_post, front, f"/api/executions/{eid}/cancel?wait=20")
    assert cancelled["status"] == "error" and cancelled["error"]["code"] == "CANCELLED", cancelled
    assert time.monotonic() - t0 < 60  # not the 120 s of the sleep: the worker stopped it
    assert (await _statuses(cluster.dsn))[eid] == "cancelled"


async def test_a_catalog_change_seen_by_one_front_end_reaches_the_clients_of_both(cluster: Cluster) -> None:
    other_catalog = cluster.tmp / "other-catalog"  # the second node's own copy, which nobody edits
    shutil.copytree(cluster.catalog, other_catalog)
    first = await asyncio.to_thread(cluster.front_end, "front-a")
    second = await asyncio.to_thread(cluster.front_end, "front-b", AGENTHUB_CATALOG=str(other_catalog))
    events = {"a": anyio.Event(), "b": anyio.Event()}

    def handler(name: str) -> Any:
        async def on_message(message: Any) -> None:
            if isinstance(message, types.ToolListChangedNotification):
                events[name].set()

        return on_message

    async with Client(first.url, mode="legacy", message_handler=handler("a")) as a, \
            Client(second.url, mode="legacy", message_handler=handler("b")) as b:
        await a.list_tools()
        await b.list_tools()  # sessions the servers notify on their GET streams
        await anyio.sleep(0.5)
        (cluster.catalog / "added.yaml").write_text(RELAY.replace("name: relay", "name: added").replace(
            "path: cluster/relay", "path: cluster/added").lstrip())
        with anyio.fail_after(30):
            await events["a"].wait()
            await events["b"].wait()


async def test_a_run_no_worker_finishes_fails_with_delivery_exhausted(cluster: Cluster) -> None:
    """Its only worker dies on the last delivery and no worker is left to ask for work (so JetStream
    never publishes its max-deliveries advisory): the front end's sweep fails the run."""
    once = {"AGENTHUB_QUEUE_ACK_WAIT": "1", "AGENTHUB_QUEUE_MAX_DELIVER": "1"}
    front = await asyncio.to_thread(cluster.front_end, "front", **once)
    worker = await asyncio.to_thread(cluster.worker, "w1", **once)
    started = await asyncio.to_thread(
        _post, front, "/api/executions", playbook="cluster/sleeper", arguments={"seconds": 120}, wait=False
    )
    eid = started["execution_id"]

    async def running() -> bool:
        return (await _statuses(cluster.dsn)).get(eid) == "running"

    await _wait(running)
    await asyncio.sleep(3.5)  # several sweeps (every ack_wait): a run its worker holds is left alone
    assert (await _statuses(cluster.dsn)).get(eid) == "running"
    worker.proc.send_signal(signal.SIGKILL)
    worker.proc.wait()

    async def failed() -> bool:
        return (await _statuses(cluster.dsn)).get(eid) == "failed"

    await _wait(failed, timeout=60)
    with front.api() as api:
        detail = api.get(f"/api/executions/{eid}").json()
    assert detail["envelope"]["error"]["code"] == "DELIVERY_EXHAUSTED", detail
    conn = await asyncpg.connect(cluster.dsn)
    try:
        delivered = await conn.fetch(
            "SELECT data FROM events WHERE execution_id = $1 AND type = 'execution.delivered'", eid
        )
        finished = await conn.fetchval(
            "SELECT count(*) FROM events WHERE execution_id = $1 AND type = 'execution.finished'", eid
        )
    finally:
        await conn.close()
    assert [json.loads(row["data"])["delivery"] for row in delivered] == [1]
    assert finished == 1  # failed once, by one node


def test_queue_without_a_postgres_store_is_refused(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTHUB_")}
    for command in (["serve", "--port", "0"], ["worker"]):
        done = subprocess.run(
            [sys.executable, "-m", "hub.cli.main", *command, "--db", str(tmp_path / "hub.db"),
             "--queue", "nats://127.0.0.1:4222"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2, done
        assert "needs a PostgreSQL store (--db postgresql://...)" in done.stderr, done.stderr
    worker = subprocess.run([sys.executable, "-m", "hub.cli.main", "worker", "--db", str(tmp_path / "hub.db")],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert worker.returncode == 2 and "--queue nats://" in worker.stderr, worker.stderr


def test_a_resumed_run_takes_finished_outputs_and_the_interrupted_attempt_from_its_log() -> None:
    def ev(type_: str, step: str | None, **data: Any) -> EventRecord:
        return EventRecord(execution_id="e", type=type_, at=0.0, step=step, data=data)

    log = [
        ev("execution.started", None),
        ev("step.started", "a", attempt=1), ev("step.finished", "a", attempt=1, output={"x": 1}),
        ev("step.started", "loop", attempt=1, iteration=0), ev("step.finished", "loop", output=0, iteration=0),
        ev("step.started", "loop", attempt=1, iteration=1), ev("step.retried", "loop", attempt=1, iteration=1),
        ev("step.started", "loop", attempt=2, iteration=1),
    ]  # fmt: skip
    replay, attempts = replay_from(log)
    assert replay == {("a", None): [{"x": 1}], ("loop", 0): [0]}
    assert attempts == {("loop", 1): 2}  # the interrupted attempt runs again under its own number


ASK = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: ask, description: Asks the caller's user.}
workflow:
  - step: ask
    tool: {kind: elicit, message: Name?, fields: {name: {type: string}}}
"""


async def test_a_worker_cannot_ask_the_caller_and_says_so(cluster: Cluster) -> None:
    (cluster.catalog / "ask.yaml").write_text(ASK.lstrip(), encoding="utf-8")
    front = await asyncio.to_thread(cluster.front_end)
    await asyncio.to_thread(cluster.worker, "w1")
    asked: list[types.ElicitRequestParams] = []

    async def on_elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    async with Client(front.url, mode="legacy", elicitation_callback=on_elicit) as client:
        result = await client.call_tool("ask", {})
    envelope = result.structured_content
    assert result.is_error and envelope["error"]["code"] == "NO_MCP_CALLER", envelope
    assert "cluster worker" in envelope["error"]["message"]
    assert asked == []  # the worker holds no connection to the caller
