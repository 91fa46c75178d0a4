"""The official `mcp` Client against a real `agenthub stdio` subprocess, in both protocol eras
(`era`: legacy = 2025-11-25 with initialize, auto = 2026-07-28 stateless)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import types
from mcp.shared.exceptions import MCPError
from mcp_support import ECHO, REPO, agenthub_json, eventually

HUB_TOOLS = {"hub_find_agents", "hub_execution_status", "hub_cancel_execution", "hub_diagnose_execution"}


async def list_all(client: Any) -> list[types.Tool]:
    tools: list[types.Tool] = []
    cursor = None
    while True:
        page = await client.list_tools(cursor=cursor, cache_mode="refresh")
        tools += page.tools
        cursor = page.next_cursor
        if cursor is None:
            return tools


async def test_handshake_lists_in_pages_with_hub_tools(connect, era):
    async with connect(env={"AGENTHUB_MCP_PAGE_SIZE": "2"}) as client:
        assert client.protocol_version == {"legacy": "2025-11-25", "auto": "2026-07-28"}[era]
        assert client.server_capabilities.tools is not None
        assert client.server_capabilities.tools.list_changed is True
        first = await client.list_tools(cache_mode="refresh")
        assert len(first.tools) == 2 and first.next_cursor
        tools = await list_all(client)
        names = [t.name for t in tools]
        assert names == sorted(names)
        assert set(names) == {"echo", "failing", "three_steps", "slow"} | HUB_TOOLS  # not `hidden`
        echo = next(t for t in tools if t.name == "echo")
        assert echo.title == "Echo" and echo.description == "Echoes a text with its length."
        assert echo.input_schema["required"] == ["text"]
        assert echo.annotations is not None and echo.annotations.read_only_hint is True
        assert echo.output_schema is not None
        assert echo.output_schema["properties"]["status"]["enum"] == ["ok", "error", "running"]
        with pytest.raises(MCPError) as bad:
            await client.list_tools(cursor="not-a-cursor", cache_mode="refresh")
        assert bad.value.error.code == types.INVALID_PARAMS


async def test_call_returns_the_envelope_as_structured_content(connect):
    async with connect() as client:
        await client.list_tools()
        result = await client.call_tool("echo", {"text": "ab", "times": 2})  # the Client checks the output schema
        assert result.is_error is False
        envelope = result.structured_content
        assert envelope["status"] == "ok" and envelope["data"] == {"text": "abab", "length": 4}
        assert envelope["framework"] == "noetl" and envelope["entrypoint"] == "echo"
        (text,) = result.content  # no resource_link on a finished call (the id is in the envelope)
        assert isinstance(text, types.TextContent) and text.text.startswith("ok: echo")
        assert envelope["execution_id"] in text.text and '"abab"' in text.text


async def test_failing_playbook_is_an_error_result_with_the_code(connect):
    async with connect() as client:
        result = await client.call_tool("failing", {})
        assert result.is_error is True
        error = result.structured_content["error"]
        assert error["code"] == "PYTHON_ERROR" and error["kind"] == "agent.execution"
        assert "boom" in error["message"] and error["step"]["name"] == "explode"
        assert result.content[0].text.startswith("error PYTHON_ERROR in step explode")
        assert result.structured_content["execution_id"]


async def test_invalid_arguments_give_input_validation_and_run_nothing(connect, tmp_path, mcp_catalog):
    async with connect() as client:
        result = await client.call_tool("echo", {"text": 5, "extra": 1})
        assert result.is_error is True
        error = result.structured_content["error"]
        assert error["kind"] == "input.validation" and error["code"] == "INPUT_INVALID"
        assert "input.text" in error["message"] and "extra" in error["message"]
        assert {e["path"] for e in error["details"]["errors"]} == {"input", "input.text"}
        execution_id = result.structured_content["execution_id"]
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("no_such_tool", {})
        assert unknown.value.error.code == types.INVALID_PARAMS
        with pytest.raises(MCPError):
            await client.call_tool("hidden", {})  # not exposed: not a tool
    shown = agenthub_json("executions", "show", execution_id, db=tmp_path / "hub.db", catalog=mcp_catalog)
    assert shown["execution"]["status"] == "failed"
    assert not [e for e in shown["events"] if e["type"].startswith("step.")]


async def test_progress_notifications_arrive_in_order(connect):
    seen: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, message))

    async with connect() as client:
        result = await client.call_tool("three_steps", {}, progress_callback=on_progress)
        assert result.structured_content["data"] == {"done": True}
    assert [m for _, m in seen] == [
        f"step {name} {verb}" for name in ("one", "two", "three") for verb in ("started", "finished")
    ]
    progress = [p for p, _ in seen]
    assert progress == sorted(progress) and len(set(progress)) == len(progress)


async def test_client_cancel_is_recorded_in_the_store(connect, tmp_path, mcp_catalog):
    db = tmp_path / "hub.db"
    async with connect() as client:
        with pytest.raises(MCPError) as timed_out:
            await client.call_tool("slow", {"seconds": 30}, read_timeout_seconds=1.0)
        assert "timed out" in str(timed_out.value)

        def cancelled() -> Any:
            runs = agenthub_json("executions", "list", db=db, catalog=mcp_catalog)
            slow = [r for r in runs if r["playbook_path"] == "slow"]
            return slow if slow and slow[0]["status"] == "cancelled" else None

        (run,) = await eventually(cancelled)
    shown = agenthub_json("executions", "show", run["id"], db=db, catalog=mcp_catalog)
    assert shown["execution"]["envelope"]["error"]["code"] == "CANCELLED"


async def test_a_long_call_answers_running_and_goes_on(connect):
    async with connect(env={"AGENTHUB_CALL_TIMEOUT": "0.5"}) as client:
        await client.list_tools()
        result = await client.call_tool("slow", {"seconds": 2})  # still checked against the output schema
        assert result.is_error is False
        envelope = result.structured_content
        assert envelope["status"] == "running" and envelope["execution_id"] and envelope["data"] is None
        assert result.content[0].text.startswith("running:")
        link = result.content[1]  # a running answer links the report to watch
        assert isinstance(link, types.ResourceLink)
        assert link.uri == f"agenthub://executions/{envelope['execution_id']}"
        status = await client.call_tool(
            "hub_execution_status", {"execution_id": envelope["execution_id"][:20], "wait": 20}
        )
        assert status.is_error is False
        done = status.structured_content
        assert done["finished"] is True and done["status"] == "succeeded"
        assert done["envelope"]["status"] == "ok" and done["envelope"]["data"] == {"slept": 2}
        assert f"Execution {envelope['execution_id']}" in done["report"] and "nap" in done["report"]


async def test_hub_tools_find_status_and_cancel(connect):
    async with connect(env={"AGENTHUB_CALL_TIMEOUT": "0.3"}) as client:
        await client.list_tools()
        found = await client.call_tool("hub_find_agents", {"capabilities": ["counting", "waiting"]})
        assert [a["name"] for a in found.structured_content["agents"]] == ["slow", "three_steps"]
        both = await client.call_tool("hub_find_agents", {"capabilities": ["echo", "text"], "match": "all"})
        assert [a["name"] for a in both.structured_content["agents"]] == ["echo"]
        agents = await client.call_tool("hub_find_agents", {"agents_only": True, "text": "sleeps"})
        (slow,) = agents.structured_content["agents"]
        assert slow["path"] == "slow" and slow["version"] == 1 and slow["agent"] is True
        everything = await client.call_tool("hub_find_agents", {})
        assert {a["name"] for a in everything.structured_content["agents"]} >= {"hidden", "echo"}

        running = await client.call_tool("slow", {"seconds": 30})
        execution_id = running.structured_content["execution_id"]
        cancelled = await client.call_tool("hub_cancel_execution", {"execution_id": execution_id})
        assert cancelled.structured_content == {"execution_id": execution_id, "status": "cancelled", "cancelled": True}
        again = await client.call_tool("hub_cancel_execution", {"execution_id": execution_id})
        assert again.structured_content["cancelled"] is False
        status = await client.call_tool("hub_execution_status", {"execution_id": execution_id})
        assert status.structured_content["envelope"]["error"]["code"] == "CANCELLED"

        unknown = await client.call_tool("hub_execution_status", {"execution_id": "ffffffff"})
        assert unknown.is_error is True
        assert unknown.structured_content["error"]["code"] == "INPUT_INVALID"
        bad = await client.call_tool("hub_execution_status", {"wait": -1})
        assert bad.is_error is True and "input.execution_id" in bad.structured_content["error"]["message"]


async def test_resources_report_and_source(connect, mcp_catalog):
    async with connect() as client:
        result = await client.call_tool("echo", {"text": "hi"})
        execution_id = result.structured_content["execution_id"]
        report = await client.read_resource(f"agenthub://executions/{execution_id}")
        assert f"Execution {execution_id}" in report.contents[0].text and "succeeded" in report.contents[0].text
        as_json = await client.read_resource(f"agenthub://executions/{execution_id}/json")
        document = json.loads(as_json.contents[0].text)
        assert document["execution"]["status"] == "succeeded"
        assert [e["type"] for e in document["events"]][-1] == "execution.finished"
        source = await client.read_resource("agenthub://playbooks/echo")
        assert source.contents[0].text == (mcp_catalog / "echo.yaml").read_text()
        assert source.contents[0].mime_type == "application/yaml"
        listed = await client.list_resources()
        assert "agenthub://playbooks/echo" in {str(r.uri) for r in listed.resources}
        templates = await client.list_resource_templates()
        assert {t.uri_template for t in templates.resource_templates} == {
            "agenthub://executions/{id}", "agenthub://executions/{id}/json", "agenthub://playbooks/{+path}",
        }
        with pytest.raises(MCPError) as missing:
            await client.read_resource("agenthub://executions/nope")
        assert missing.value.error.code == types.INVALID_PARAMS


class ChangeWatcher:
    """Counts tools list_changed notifications, heard one way per era (`handler`: a 2026 client's
    SDK hands its listen events to a message_handler too, so hearing both ways counts each twice)."""

    def __init__(self, era: str) -> None:
        self.count = 0
        self.waited = 0
        self.changed = anyio.Event()
        self.handler = self.legacy_handler if era == "legacy" else None

    def seen(self) -> None:
        self.count += 1
        self.changed.set()

    async def legacy_handler(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self.seen()

    async def wait(self, timeout: float = 30) -> None:
        """Wait for the tools list_changed of the one change made since the last wait. The hub
        sends one per change, so a notification counted here cannot be the next change's."""
        with anyio.fail_after(timeout):
            while self.count == self.waited:
                await self.changed.wait()
                self.changed = anyio.Event()
        self.waited += 1
        assert self.count == self.waited, f"one change, {self.count - self.waited + 1} tools list_changed"


async def _follow(client: Any, era: str, watcher: ChangeWatcher, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
    """Modern era: listen for tools list_changed on `subscriptions/listen`."""
    async with client.listen(tools_list_changed=True) as subscription:
        task_status.started()
        async for _event in subscription:
            watcher.seen()


async def test_list_changed_on_add_edit_remove(connect, era, mcp_catalog):
    watcher = ChangeWatcher(era)
    async with connect(message_handler=watcher.handler) as client, anyio.create_task_group() as tasks:
        if era == "auto":
            await tasks.start(_follow, client, era, watcher)
        else:
            await client.list_tools()  # legacy: the server remembers the session it can notify
        added = mcp_catalog / "added.yaml"
        added.write_text(ECHO.replace("name: echo", "name: added"))
        await watcher.wait()
        assert "added" in {t.name for t in await list_all(client)}
        added.write_text(ECHO.replace("name: echo", "name: added").replace("Echoes a text", "Repeats a text"))
        await watcher.wait()
        tool = next(t for t in await list_all(client) if t.name == "added")
        assert tool.description == "Repeats a text with its length."
        added.unlink()
        await watcher.wait()
        assert "added" not in {t.name for t in await list_all(client)}
        tasks.cancel_scope.cancel()


async def test_broken_edit_keeps_the_previous_version_serving(connect, era, mcp_catalog):
    watcher = ChangeWatcher(era)
    with tempfile.TemporaryFile("w+") as errlog:
        async with connect(message_handler=watcher.handler, errlog=errlog) as client, \
                anyio.create_task_group() as tasks:
            if era == "auto":
                await tasks.start(_follow, client, era, watcher)
            else:
                await client.list_tools()
            echo = mcp_catalog / "echo.yaml"
            echo.write_text(ECHO.replace("kind: python", "kind: pythn"))

            def logged() -> bool:
                errlog.seek(0)
                return "echo.yaml" in errlog.read()

            await eventually(logged, timeout=10)
            assert watcher.count == 0
            result = await client.call_tool("echo", {"text": "still"})
            assert result.structured_content["data"] == {"text": "still", "length": 5}
            assert "echo" in {t.name for t in await list_all(client)}
            echo.write_text(ECHO.replace("Echoes a text", "Now echoes a text"))
            await watcher.wait()
            tool = next(t for t in await list_all(client) if t.name == "echo")
            assert tool.description == "Now echoes a text with its length."
            tasks.cancel_scope.cancel()
        errlog.seek(0)
        log = errlog.read()
    assert "pythn" in log and "WARNING agenthub: catalog:" in log


INITIALIZE = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def start_raw(tmp_path: Path, catalog: Path, *messages: dict[str, Any]) -> subprocess.Popen[str]:
    """`agenthub stdio` driven by hand (no client library), with `messages` already sent."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.main", "stdio", "--catalog", str(catalog), "--db", str(tmp_path / "hub.db")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )
    assert proc.stdin is not None
    for message in messages:
        proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()
    return proc


def test_stdout_carries_only_protocol_messages(tmp_path: Path, mcp_catalog: Path) -> None:
    (mcp_catalog / "broken.yaml").write_text("not: [a, playbook")  # a warning on stderr, never on stdout
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "x"}}}
    proc = start_raw(tmp_path, mcp_catalog, INITIALIZE, INITIALIZED, call)
    killer = threading.Timer(60, proc.kill)
    killer.start()
    try:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        replies = [json.loads(proc.stdout.readline()) for _ in range(2)]
        proc.stdin.close()  # the client is done: the server ends
        proc.wait()
        rest, errors = proc.stdout.read(), proc.stderr.read()
    finally:
        killer.cancel()
    assert proc.returncode == 0, errors
    assert rest == ""
    assert [r.get("id") for r in replies] == [1, 2]
    assert replies[1]["result"]["structuredContent"]["data"] == {"text": "x", "length": 1}
    assert "broken.yaml" in errors


async def test_sigterm_cancels_running_executions_then_exits(tmp_path: Path, mcp_catalog: Path) -> None:
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "slow", "arguments": {}}}
    proc = start_raw(tmp_path, mcp_catalog, INITIALIZE, INITIALIZED, call)
    db = tmp_path / "hub.db"
    try:
        def runs() -> Any:
            return agenthub_json("executions", "list", db=db, catalog=mcp_catalog)

        await eventually(runs)
        proc.send_signal(signal.SIGTERM)
        assert await anyio.to_thread.run_sync(lambda: proc.wait(90)) == -signal.SIGTERM
    finally:
        proc.kill()
        proc.communicate()
    (run,) = runs()
    assert run["status"] == "cancelled"
