"""The MCP server in-process (the `mcp` Client connected straight to `HubMcpServer.server`): scope
filtering, schemas, paging, sub-run progress, and the catalog watcher."""

from __future__ import annotations

import asyncio
import json

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, types
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.shared.exceptions import MCPError
from mcp_support import ECHO

from catalog.watch import EventWatcher, PollingWatcher, changed_files, fingerprint
from hub.contract.records import EventRecord
from hub.mcp.server import HubMcpServer
from hub.mcp.tools import decode_cursor, encode_cursor, envelope_schema, paginate, tool_output_schema

GUARDED = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: guarded, scopes: ["ops:run"], capabilities: [ops]}
workflow:
  - step: s
    tool: {kind: noop}
    result: {ok: true}
"""

WITH_REFS = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: with_refs}
output:
  type: object
  $defs:
    item: {type: object, properties: {n: {type: integer}}, required: [n]}
  properties:
    items: {type: array, items: {$ref: "#/$defs/item"}}
  required: [items]
workflow:
  - step: s
    tool: {kind: noop}
    result: {items: [{n: 1}, {n: 2}]}
"""

PARENT = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: parent}
workflow:
  - step: call
    tool: {kind: playbook, path: echo}
    input: {text: hi}
"""


class TokenScopes:
    """Server middleware standing in for the HTTP auth middleware: every request carries a token
    with `scopes` (None: no token, as without auth)."""

    def __init__(self) -> None:
        self.scopes: list[str] | None = None

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        if self.scopes is None:
            return await call_next(ctx)
        token = AccessToken(token="t", client_id="test", scopes=self.scopes)
        reset = auth_context_var.set(AuthenticatedUser(token))
        try:
            return await call_next(ctx)
        finally:
            auth_context_var.reset(reset)


@contextlib.asynccontextmanager
async def serving(hub: Any, **options: Any) -> AsyncIterator[tuple[HubMcpServer, TokenScopes]]:
    server = HubMcpServer(await hub(), **options)
    scopes = TokenScopes()
    server.server.middleware.append(scopes)
    yield server, scopes


async def names(client: Client) -> list[str]:
    return [t.name for t in (await client.list_tools(cache_mode="refresh")).tools]


async def test_token_scopes_filter_what_a_caller_sees_and_calls(hub, write_playbook):
    write_playbook("echo", ECHO)
    write_playbook("ops/guarded", GUARDED)
    async with serving(hub) as (server, token), Client(server.server) as client:
        assert "guarded" in await names(client)  # no token: no auth configured, everything
        token.scopes = ["other"]
        assert "guarded" not in await names(client) and "echo" in await names(client)
        with pytest.raises(MCPError) as refused:
            await client.call_tool("guarded", {})
        assert refused.value.error.code == types.INVALID_PARAMS and "Unknown tool" in refused.value.error.message
        found = await client.call_tool("hub_find_agents", {"capabilities": ["ops"]})
        assert found.structured_content == {"agents": [], "total": 0}
        with pytest.raises(MCPError):
            await client.read_resource("agenthub://playbooks/ops/guarded")
        token.scopes = ["ops:run", "other"]
        assert "guarded" in await names(client)
        result = await client.call_tool("guarded", {})
        assert result.structured_content["data"] == {"ok": True}
        execution_id = result.structured_content["execution_id"]
        token.scopes = ["other"]  # someone else may not see that execution either
        status = await client.call_tool("hub_execution_status", {"execution_id": execution_id})
        assert status.is_error is True
        with pytest.raises(MCPError):
            await client.read_resource(f"agenthub://executions/{execution_id}")
    assert server.visible_tools(frozenset()) == [t for t in server.visible_tools(None) if t.name != "guarded"]


async def test_output_schema_with_refs_still_validates(hub, write_playbook):
    write_playbook("with_refs", WITH_REFS)
    async with serving(hub) as (server, _), Client(server.server) as client:
        (tool,) = [t for t in (await client.list_tools()).tools if t.name == "with_refs"]
        assert tool.output_schema is not None and "$defs" in tool.output_schema
        result = await client.call_tool("with_refs", {})  # the Client resolves the $ref and validates
        assert result.structured_content["data"] == {"items": [{"n": 1}, {"n": 2}]}


def test_envelope_schema_types_data_only_on_success():
    from jsonschema import Draft202012Validator

    schema = Draft202012Validator(envelope_schema({"type": "object", "required": ["x"]}))
    base = {"framework": "noetl", "execution_id": "e", "duration": 0.1}
    assert schema.is_valid({**base, "status": "ok", "data": {"x": 1}})
    assert not schema.is_valid({**base, "status": "ok", "data": {}})
    assert schema.is_valid({**base, "status": "running", "data": None})
    assert not schema.is_valid({**base, "status": "error", "data": None})  # error needs `error`
    error = {"kind": "agent.execution", "code": "PYTHON_ERROR", "message": "boom", "retryable": False}
    assert schema.is_valid({**base, "status": "error", "data": None, "error": error})


def test_the_compact_tool_schema_accepts_every_envelope_the_full_one_does():
    from jsonschema import Draft202012Validator

    output = {"type": "object", "required": ["x"]}
    full, compact = (Draft202012Validator(make(output)) for make in (envelope_schema, tool_output_schema))
    base = {"framework": "noetl", "entrypoint": "p", "execution_id": "e", "duration": 0.1}
    error = {"kind": "agent.execution", "code": "PYTHON_ERROR", "message": "boom", "retryable": False}
    envelopes = [
        {**base, "status": "ok", "data": {"x": 1}},
        {**base, "status": "running", "data": None},
        {**base, "status": "error", "data": None, "error": error},
        {**base, "status": "error", "data": None, "error": {**error, "diagnosis": {"category": "unknown"}}},
    ]
    for envelope in envelopes:
        assert full.is_valid(envelope) and compact.is_valid(envelope)
    assert not compact.is_valid({**base, "status": "ok", "data": {}})  # data still typed on success
    assert not compact.is_valid({**base, "status": "done"}) and not compact.is_valid({"status": "ok"})
    assert len(json.dumps(tool_output_schema(), separators=(",", ":"))) < 200


def test_cursors_are_opaque_and_keyset():
    items = ["a", "b", "c", "d", "e"]
    page, cursor = paginate(items, str, None, 2)
    assert page == ["a", "b"] and cursor is not None and "b" not in cursor
    assert decode_cursor(cursor) == "b"
    # an item added before the cursor neither repeats nor shifts the next page
    page, cursor = paginate(["a", "aa", *items[1:]], str, cursor, 2)
    assert page == ["c", "d"]
    assert paginate(items, str, cursor, 2) == (["e"], None)
    assert paginate(items, str, encode_cursor("zzz"), 2) == ([], None)
    for bad in ("%%%", encode_cursor("x")[:-1] + "@", "djI6eA"):  # not base64 / not ours
        with pytest.raises(MCPError) as refused:
            decode_cursor(bad)
        assert refused.value.error.code == types.INVALID_PARAMS


async def test_sub_run_steps_show_up_in_progress(hub, write_playbook):
    write_playbook("echo", ECHO)
    write_playbook("parent", PARENT)
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with serving(hub) as (server, _), Client(server.server) as client:
        result = await client.call_tool("parent", {}, progress_callback=on_progress)
        assert result.structured_content["data"] == {"text": "hi", "length": 2}
    assert seen == ["step call started", "step echo/echo started", "step echo/echo finished", "step call finished"]


async def test_a_subscribed_run_is_checked_by_reading_only_its_new_events(hub, write_playbook):
    """Each 0.5 s check of a subscribed execution costs what was appended since the last one, not
    the whole run: the store is asked for events after the seq seen last."""
    write_playbook("echo", ECHO)
    async with serving(hub) as (server, _), Client(server.server) as client:
        result = await client.call_tool("echo", {"text": "hi"})
    store, execution_id = server.hub.store, result.structured_content["execution_id"]
    uri = f"agenthub://executions/{execution_id}"
    reads: list[tuple[int, int]] = []
    events = store.events

    async def recording(execution: str, *, after_seq: int = 0, limit: int | None = None) -> list[EventRecord]:
        found = await events(execution, after_seq=after_seq, limit=limit)
        reads.append((after_seq, len(found)))
        return found

    store.events = recording
    first = await server.resources.fingerprint(uri, None)
    last = len(await events(execution_id))
    assert first == f"succeeded:{last}" and reads == [(0, last)]
    assert await server.resources.fingerprint(uri, first) == first  # nothing new: nothing read
    assert reads[-1] == (last, 0)
    store.append(EventRecord(execution_id=execution_id, type="diagnosis.finished", at=0.0))
    await store.flush()
    second = await server.resources.fingerprint(uri, first)
    assert second == f"succeeded:{last + 1}" and reads[-1] == (last, 1)


def test_fingerprint_sees_playbook_files_only(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("a")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".hidden.yaml").write_text("x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "b.yaml").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yml").write_text("c")
    before = fingerprint(tmp_path)
    assert set(before) == {"a.yaml", "sub/c.yml"}
    (tmp_path / "a.yaml").write_text("aa")
    (tmp_path / "sub" / "c.yml").unlink()
    (tmp_path / "d.yaml").write_text("d")
    assert changed_files(before, fingerprint(tmp_path)) == {"a.yaml", "sub/c.yml", "d.yaml"}
    assert fingerprint(tmp_path / "missing") == {}


async def test_polling_watcher_yields_each_change(tmp_path: Path):
    watcher = PollingWatcher(tmp_path, interval=0.02)
    changes = watcher.changes(await watcher.scan())
    (tmp_path / "new.yaml").write_text("x")
    with anyio.fail_after(30):  # a hang guard
        assert await anext(changes) == {"new.yaml"}
    (tmp_path / "new.yaml").unlink()
    with anyio.fail_after(30):  # a hang guard
        assert await anext(changes) == {"new.yaml"}
    await changes.aclose()


async def test_event_watcher_yields_playbook_changes_only(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    watching = asyncio.Event()
    changes = EventWatcher(tmp_path, on_watching=watching.set).changes()
    first = asyncio.ensure_future(anext(changes))
    await asyncio.wait_for(watching.wait(), 30)  # the OS watch is live (a hang guard)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".hidden.yaml").write_text("x")
    (tmp_path / "sub" / "new.yaml").write_text("x")
    with anyio.fail_after(30):  # a hang guard
        assert await first == {"sub/new.yaml"}
    (tmp_path / "sub" / "new.yaml").unlink()
    with anyio.fail_after(30):  # a hang guard
        assert await anext(changes) == {"sub/new.yaml"}
    await changes.aclose()


async def test_event_watcher_waits_for_a_missing_root(tmp_path: Path):
    root = tmp_path / "later"
    watching = asyncio.Event()
    changes = EventWatcher(root, interval=0.02, on_watching=watching.set).changes()
    first = asyncio.ensure_future(anext(changes))
    await asyncio.wait_for(watching.wait(), 30)  # it looked: the root is missing (a hang guard)
    root.mkdir()
    (root / "a.yaml").write_text("x")
    with anyio.fail_after(30):  # a hang guard
        assert "a.yaml" in await first or await first == {"."}
    await changes.aclose()


async def test_an_event_watch_the_os_refuses_falls_back_to_polling(tmp_path: Path, monkeypatch, caplog):
    """The OS can refuse a watch (the inotify watch limit: watchfiles raises OSError). That must not
    become a retry loop that burns a core: the watcher says so once and polls instead. The refusal
    is injected: reaching the real per-user limit would change the machine for everyone on it."""
    import watchfiles

    attempts: list[Path] = []

    async def refused(path, **_options):
        attempts.append(path)
        raise OSError("OS file watch limit reached")
        yield  # an async generator, like watchfiles.awatch

    monkeypatch.setattr(watchfiles, "awatch", refused)
    watching = asyncio.Event()
    watcher = EventWatcher(tmp_path, interval=0.02, on_watching=watching.set)
    watcher.fallback_interval = 0.02
    changes = watcher.changes()
    first = asyncio.ensure_future(anext(changes))
    await asyncio.wait_for(watching.wait(), 30)  # the polling that took over has its reference (a hang guard)
    (tmp_path / "new.yaml").write_text("x")
    with anyio.fail_after(30):  # a hang guard
        assert await first == {"new.yaml"}
    await changes.aclose()
    assert attempts == [tmp_path]  # one refusal, no retry loop
    warnings = [r.getMessage() for r in caplog.records if "OS file events" in r.getMessage()]
    assert len(warnings) == 1 and "watch limit reached" in warnings[0] and "polling" in warnings[0]


async def test_a_cancelled_event_watch_stops_its_os_watch(tmp_path: Path):
    """watchfiles waits on its OS watch thread without letting a cancellation in: cancelling the
    consumer must stop that thread, not leave it (and the process's exit) to its idle timeout,
    an hour here."""
    watcher = EventWatcher(tmp_path, idle_timeout_ms=3_600_000)

    async def consume() -> None:
        async for _ in watcher.changes():
            pass

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consume)
        await asyncio.sleep(0.3)  # the watch task is there once the consumer runs
        (watch,) = watcher.watch_tasks
        tasks.cancel_scope.cancel()
    await asyncio.wait({watch}, timeout=60)  # a hang guard: it ends within the 50 ms step
    assert watch.done() and not watch.cancelled() and watch.exception() is None
    assert not watcher.watch_tasks


async def test_hub_watch_reloads_and_keeps_a_broken_edit_out(hub, write_playbook, caplog):
    echo = write_playbook("echo", ECHO)
    instance = await hub()
    changed = anyio.Event()
    calls: list[int] = []

    async def on_change() -> None:
        calls.append(instance.catalog.generation)
        changed.set()

    watching = anyio.Event()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(lambda: instance.watch(on_change, interval=0.05, on_watching=watching.set))
        with anyio.fail_after(30):  # a hang guard
            await watching.wait()
        echo.write_text(ECHO.replace("kind: python", "kind: nope"))
        with anyio.fail_after(30):  # a hang guard
            while not any("nope" in r.getMessage() for r in caplog.records):
                await anyio.sleep(0.05)
        assert calls == [] and instance.catalog.get("echo").version == 1
        echo.write_text(ECHO.replace("Echoes a text", "Says a text"))
        with anyio.fail_after(30):  # a hang guard
            await changed.wait()
        assert instance.catalog.get("echo").description == "Says a text with its length."
        tasks.cancel_scope.cancel()
    assert len(calls) == 1


@pytest.mark.parametrize("mode", ["events", "poll"])
async def test_hub_watch_sees_an_edit_made_as_soon_as_it_says_it_watches(hub, write_playbook, mode):
    """Servers say they serve once the hub watches (`on_watching`): an edit made at once is seen."""
    write_playbook("echo", ECHO)
    instance = await hub(watch=mode)
    watching, changed = anyio.Event(), anyio.Event()

    async def on_change() -> None:
        changed.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(lambda: instance.watch(on_change, interval=0.05, on_watching=watching.set))
        with anyio.fail_after(30):  # a hang guard
            await watching.wait()
        write_playbook("late", ECHO.replace("name: echo", "name: late"))  # at once, no grace period
        with anyio.fail_after(30):  # a hang guard: the change is seen within ~1 s
            await changed.wait()
        assert instance.catalog.get("late") is not None
        tasks.cancel_scope.cancel()


def test_paginate_filters_while_paging_with_precomputed_keys():
    items = [f"t{i:02d}" for i in range(10)]
    even = lambda name: int(name[1:]) % 2 == 0  # noqa: E731
    page, cursor = paginate(items, str, None, 2, keys=items, visible=even)
    assert page == ["t00", "t02"] and cursor
    page, cursor = paginate(items, str, cursor, 2, keys=items, visible=even)
    assert page == ["t04", "t06"]
    page, cursor = paginate(items, str, cursor, 2, keys=items, visible=even)
    assert page == ["t08"] and cursor is None  # nothing visible after t08: no further page
    assert paginate(items, str, None, 5, visible=lambda _: False) == ([], None)


async def test_a_call_that_asks_for_nothing_runs_without_a_relay(hub, write_playbook, monkeypatch):
    """No progress callback and no logs asked for: nothing could reach the caller, so no relay
    task runs (`hub.mcp.progress_relay.needs_relay`); with a callback, one does."""
    import hub.mcp.server as server_module

    write_playbook("echo", ECHO)
    relays: list[str] = []
    real = server_module.relay_progress

    async def counted(ctx, events, root_id, *rest):
        relays.append(root_id)
        await real(ctx, events, root_id, *rest)

    monkeypatch.setattr(server_module, "relay_progress", counted)
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with serving(hub) as (server, _), Client(server.server) as client:
        quiet = await client.call_tool("echo", {"text": "hi"})
        assert quiet.structured_content["data"] == {"text": "hi", "length": 2} and relays == []
        await client.call_tool("echo", {"text": "hi"}, progress_callback=on_progress)
    assert len(relays) == 1 and seen == ["step echo started", "step echo finished"]
