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
from http_support import REPO, Served, notified_client, start_server
from mcp import Client, types
from mcp.client.subscriptions import PromptsListChanged, ResourcesListChanged, ToolsListChanged

FIXTURES = REPO / "playbooks" / ".conformance"


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Iterator[Served]:
    catalog = tmp_path / "catalog"
    shutil.copytree(FIXTURES, catalog)
    served = start_server(tmp_path / "serve", catalog, env={"AGENTHUB_CONFORMANCE_CATALOG": str(catalog)})
    yield served
    served.stop()


EVERY_KIND = frozenset({"tools", "prompts", "resources"})


class Heard:
    """The list_changed kinds a client heard since the last catalog change it waited for, by either
    era's way of telling it.

    The hub tells each change as tools, prompts and resources list_changed, in that order on one
    stream. So a test waits for all three after each change (`after`): a test that waited for one
    kind only could take the tail of the previous change's three (its prompts still on the way when
    the tools one arrived) for the next change's, and look before the hub had reloaded."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self._arrived = anyio.Event()

    def _heard(self, kind: str) -> None:
        self.kinds.append(kind)
        self._arrived.set()

    async def legacy(self, message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            self._heard("tools")
        elif isinstance(message, types.PromptListChangedNotification):
            self._heard("prompts")
        elif isinstance(message, types.ResourceListChangedNotification):
            self._heard("resources")

    async def follow(self, client: Client, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        async with client.listen(tools_list_changed=True, prompts_list_changed=True,
                                 resources_list_changed=True) as subscription:
            task_status.started()
            async for event in subscription:
                if isinstance(event, ToolsListChanged):
                    self._heard("tools")
                elif isinstance(event, PromptsListChanged):
                    self._heard("prompts")
                elif isinstance(event, ResourcesListChanged):
                    self._heard("resources")

    async def after(self, action: Any) -> None:
        """Run `action` (one catalog change), then wait until its three list_changed arrived, each
        once: nothing of it is still on the way when the test makes the next change."""
        assert self.kinds == [], f"list_changed with no change made: {self.kinds}"
        await action()
        with anyio.fail_after(20):
            while set(self.kinds) != EVERY_KIND:
                await self._arrived.wait()
                self._arrived = anyio.Event()
        assert sorted(self.kinds) == sorted(EVERY_KIND), f"one change, told more than once: {self.kinds}"
        self.kinds.clear()


@asynccontextmanager
async def listening(served: Served, era: str) -> AsyncIterator[tuple[Client, Heard]]:
    heard = Heard()
    # one way of hearing per era: a 2026 client's SDK hands listen events to a message_handler too
    handler = heard.legacy if era == "legacy" else None
    async with notified_client(served.mcp_url, era, message_handler=handler) as client, \
            anyio.create_task_group() as tasks:
        if era == "auto":
            await tasks.start(heard.follow, client)
        yield client, heard
        tasks.cancel_scope.cancel()


async def _call_ok(client: Client, name: str) -> None:
    result = await client.call_tool(name, {})
    assert not result.is_error, result.structured_content


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_the_triggers_change_the_served_catalog_and_clients_are_told(fixture_copy: Served, era: str):
    catalog = fixture_copy.catalog
    async with listening(fixture_copy, era) as (client, heard):
        await heard.after(lambda: _call_ok(client, "test_trigger_tool_change"))
        assert (catalog / "test_toggled_tool.yaml").exists()
        assert "test_toggled_tool" in {t.name for t in (await client.list_tools(cache_mode="refresh")).tools}
        await heard.after(lambda: _call_ok(client, "test_trigger_tool_change"))  # toggles back
        assert not (catalog / "test_toggled_tool.yaml").exists()
        assert "test_toggled_tool" not in {t.name for t in (await client.list_tools(cache_mode="refresh")).tools}

        await heard.after(lambda: _call_ok(client, "test_trigger_prompt_change"))
        assert "test_toggled_prompt" in {p.name for p in (await client.list_prompts(cache_mode="refresh")).prompts}
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
