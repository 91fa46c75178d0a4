"""The conformance fixtures `test_trigger_tool_change` / `test_trigger_prompt_change`: ordinary
playbooks that add or remove a document in the served copy of the fixture catalog, so the hub's
own watcher reloads and list_changed reaches clients of both eras (the suite listens on a 2026
`subscriptions/listen` stream; a 2025 session hears it on its GET stream). Without
AGENTHUB_CONFORMANCE_CATALOG they write nothing, so the repository's folder never changes."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from http_support import REPO, Served, start_server
from mcp import Client, types
from mcp.client.subscriptions import PromptsListChanged, ToolsListChanged

FIXTURES = REPO / "playbooks" / ".conformance"


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Iterator[Served]:
    catalog = tmp_path / "catalog"
    shutil.copytree(FIXTURES, catalog)
    served = start_server(tmp_path / "serve", catalog, env={"AGENTHUB_CONFORMANCE_CATALOG": str(catalog)})
    yield served
    served.stop()


class Heard:
    """The list_changed kinds a client heard, by either era's way of telling it."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    async def legacy(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self.kinds.append("tools")
        elif isinstance(message, types.PromptListChangedNotification):
            self.kinds.append("prompts")

    async def follow(self, client: Client, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        async with client.listen(tools_list_changed=True, prompts_list_changed=True) as subscription:
            task_status.started()
            async for event in subscription:
                if isinstance(event, ToolsListChanged):
                    self.kinds.append("tools")
                elif isinstance(event, PromptsListChanged):
                    self.kinds.append("prompts")

    async def after(self, action: Any, kind: str) -> None:
        """Run `action`, then wait until a `kind` list_changed arrives that came after it."""
        before = self.kinds.count(kind)
        await action()
        with anyio.fail_after(20):
            while self.kinds.count(kind) == before:
                await anyio.sleep(0.05)


@asynccontextmanager
async def listening(served: Served, era: str) -> AsyncIterator[tuple[Client, Heard]]:
    heard = Heard()
    async with Client(served.mcp_url, mode=era, message_handler=heard.legacy) as client, \
            anyio.create_task_group() as tasks:
        if era == "auto":
            await tasks.start(heard.follow, client)
        else:
            await client.list_tools()  # the session the server will notify on its GET stream
        yield client, heard
        tasks.cancel_scope.cancel()


async def _call_ok(client: Client, name: str) -> None:
    result = await client.call_tool(name, {})
    assert not result.is_error, result.structured_content


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_the_triggers_change_the_served_catalog_and_clients_are_told(fixture_copy: Served, era: str):
    catalog = fixture_copy.catalog
    async with listening(fixture_copy, era) as (client, heard):
        await heard.after(lambda: _call_ok(client, "test_trigger_tool_change"), "tools")
        assert (catalog / "test_toggled_tool.yaml").exists()
        assert "test_toggled_tool" in {t.name for t in (await client.list_tools(cache_mode="refresh")).tools}
        await heard.after(lambda: _call_ok(client, "test_trigger_tool_change"), "tools")  # toggles back
        assert not (catalog / "test_toggled_tool.yaml").exists()

        await heard.after(lambda: _call_ok(client, "test_trigger_prompt_change"), "prompts")
        assert "test_toggled_prompt" in {p.name for p in (await client.list_prompts()).prompts}
        got = await client.get_prompt("test_toggled_prompt")
        assert got.messages[0].content.text == "This prompt comes and goes."


async def test_without_a_catalog_copy_the_triggers_write_nothing(tmp_path: Path):
    before = sorted(p.name for p in FIXTURES.iterdir())
    served = start_server(tmp_path / "serve", FIXTURES)  # the repository's folder itself, no env
    try:
        async with Client(served.mcp_url) as client:
            result = await client.call_tool("test_trigger_tool_change", {})
            assert result.is_error
            assert "AGENTHUB_CONFORMANCE_CATALOG is not set" in result.structured_content["error"]["message"]
            assert "toggle_catalog_file" not in {t.name for t in (await client.list_tools()).tools}  # a helper
    finally:
        served.stop()
    assert sorted(p.name for p in FIXTURES.iterdir()) == before
