"""The durable version ledger on both backends (SQLite files, PostgreSQL databases), with two
processes racing for numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.store.backends import Backend

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ledger(backend: Backend):
    with backend.ledger() as led:
        yield led


def test_same_content_same_version_new_content_next(ledger) -> None:
    assert ledger.record("demo/a.yaml", "v: 1") == 1
    assert ledger.record("demo/a.yaml", "v: 1") == 1
    assert ledger.record("demo/a.yaml", "v: 2") == 2
    assert ledger.record("demo/a.yaml", "v: 3") == 3
    assert ledger.record("demo/a.yaml", "v: 1") == 1  # a revert gets its old number back
    assert ledger.record("demo/a.yaml", "v: 4") == 4
    assert ledger.record("demo/b.yaml", "v: 1") == 1  # numbering is per path
    assert ledger.versions("demo/a.yaml") == [1, 2, 3, 4]
    assert ledger.versions("demo/b.yaml") == [1]
    assert ledger.versions("demo/none.yaml") == []


def test_record_many_numbers_a_whole_load_like_record_does(ledger) -> None:
    assert ledger.record("a.yaml", "a1") == 1
    got = ledger.record_many([("a.yaml", "a1"), ("a.yaml", "a2"), ("b.yaml", "b1"), ("a.yaml", "a3"), ("b.yaml", "b1")])
    assert got == [1, 2, 1, 3, 1]  # known, new, new path, new, repeated within the call
    assert ledger.versions("a.yaml") == [1, 2, 3] and ledger.content("a.yaml", 3) == "a3"
    assert ledger.record_many([]) == []


def test_content_round_trip(ledger) -> None:
    text = "name: hi\nsteps:\n  - name: ünïcode ✓\n"
    version = ledger.record("p.yaml", text)
    assert ledger.content("p.yaml", version) == text
    assert ledger.content("p.yaml", version + 1) is None
    assert ledger.content("other.yaml", version) is None


def test_numbers_survive_reopening_and_share_the_store_file(backend: Backend) -> None:
    with backend.ledger() as first:
        assert first.record("p.yaml", "a") == 1
        assert first.record("p.yaml", "b") == 2

    import asyncio

    async def use_store() -> None:
        async with backend.store() as store:
            assert await store.list() == []

    asyncio.run(use_store())
    with backend.ledger() as second:
        assert second.record("p.yaml", "b") == 2
        assert second.record("p.yaml", "c") == 3
        assert second.content("p.yaml", 1) == "a"


def test_closed_ledger_refuses_and_close_is_idempotent(backend: Backend) -> None:
    led = backend.ledger()
    led.close()
    led.close()
    with pytest.raises(RuntimeError):
        led.record("p", "x")


CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from tests.store.backends import Backend

    kind, path, name, go = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    ledger = Backend(kind, path).ledger()
    while not os.path.exists(go):
        time.sleep(0.001)
    got = {}
    for i in range(40):
        for content in (f"{name}-{i}", f"shared-{i}"):
            got[content] = ledger.record("race.yaml", content)
    print(json.dumps(got))
    """
)


def test_two_processes_recording_at_once_get_distinct_numbers(backend: Backend, tmp_path: Path) -> None:
    go = tmp_path / "go"
    with backend.ledger() as first:
        assert first.versions("race.yaml") == []  # the schema exists before the race
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, backend.name, backend.where, name, str(go)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for name in ("left", "right")
    ]
    time.sleep(0.3)
    go.touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(json.loads(out))
    left, right = results

    shared = {k: v for k, v in left.items() if k.startswith("shared-")}
    assert shared == {k: v for k, v in right.items() if k.startswith("shared-")}  # one number per content
    numbers = {**left, **right}
    assert len(numbers) == 120
    assert sorted(numbers.values()) == list(range(1, 121))  # distinct and gap-free
    with backend.ledger() as ledger:
        assert ledger.versions("race.yaml") == list(range(1, 121))
        for content, version in numbers.items():
            assert ledger.content("race.yaml", version) == content
