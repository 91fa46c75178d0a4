"""Catalog prompts (`kind: Prompt`) and resources (`kind: Resource`), and resource subscriptions,
through the official client against a real `agenthub serve` over streamable HTTP, in both eras
(2025-11-25 `resources/subscribe`; 2026-07-28 `subscriptions/listen` with resourceSubscriptions)."""

from __future__ import annotations

import base64
import textwrap
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_support import SLOW

from hub.http.auth import TokenEntry, append_token, hash_token
from tests.http.http_support import Served, start_server

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVQI12P4z8AAAAMBAQAY3Y2wAAAAAElFTkSuQmCC"
DOCUMENTS = {
    "review": """
        apiVersion: agenthub/v1
        kind: Prompt
        metadata: {name: review, title: Review a playbook, description: Asks for a review.}
        arguments:
          path: {description: Catalog path, values_from: playbooks}
          tone: {description: How blunt, enum: [gentle, blunt], default: gentle}
          focus: {description: What to look at, examples: [errors, naming, speed], required: false}
        messages:
          - {role: user, content: "Review {{ path }}, {{ tone }}ly.{% if focus %} Focus on {{ focus }}.{% endif %}"}
          - role: user
            content: {type: resource, resource: {uri: "agenthub://playbooks/{{ path }}", mimeType: application/yaml, text: "(source)"}}
          - role: assistant
            content: {type: image, data: "PNG_DATA", mimeType: image/png}
    """.replace("PNG_DATA", PNG),
    "runbook": """
        apiVersion: agenthub/v1
        kind: Resource
        metadata: {name: runbook, description: What to do when a run fails.}
        uri: docs://runbook
        mimeType: text/markdown
        text: "# Runbook v1"
    """,
    "logo": """
        apiVersion: agenthub/v1
        kind: Resource
        metadata: {name: logo}
        uri: docs://logo.png
        mimeType: image/png
        blob: "PNG_DATA"
    """.replace("PNG_DATA", PNG),
    "order": """
        apiVersion: agenthub/v1
        kind: Resource
        metadata: {name: order, description: One order as JSON.}
        uriTemplate: shop://orders/{id}
        mimeType: application/json
        text: '{{ {"id": id, "status": "open"} | tojson }}'
    """,
    "slow": SLOW,
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("prompts-resources")
    catalog = tmp / "catalog"
    catalog.mkdir()
    for name, text in DOCUMENTS.items():
        (catalog / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    server = start_server(tmp / "serve", catalog)
    yield server
    server.stop()


@pytest.fixture(params=["legacy", "auto"])
def era(request: pytest.FixtureRequest) -> str:
    return request.param


async def test_catalog_prompts_are_listed_rendered_and_completed(served: Served, era: str):
    async with Client(served.mcp_url, mode=era) as client:
        assert client.server_capabilities.prompts is not None
        prompts = [p for p in (await client.list_prompts()).prompts if p.name == "review"]
        assert [(p.name, p.title, p.description) for p in prompts] == [("review", "Review a playbook", "Asks for a review.")]
        assert [(a.name, a.required) for a in prompts[0].arguments] == [("path", True), ("tone", False), ("focus", False)]

        got = await client.get_prompt("review", {"path": "slow", "focus": "errors"})
        first, embedded, image = got.messages
        assert first.content.text == "Review slow, gentlely. Focus on errors."  # the default tone
        assert embedded.content.type == "resource" and str(embedded.content.resource.uri) == "agenthub://playbooks/slow"
        assert image.role == "assistant" and image.content.data == PNG
        hostile = await client.get_prompt("review", {"path": "{{ 7*7 }}", "tone": "blunt"})
        assert hostile.messages[0].content.text.startswith("Review {{ 7*7 }}, bluntly")  # arguments are data

        with pytest.raises(MCPError, match="missing required argument 'path'"):
            await client.get_prompt("review", {})
        with pytest.raises(MCPError, match="'tone' must be one of gentle, blunt"):
            await client.get_prompt("review", {"path": "x", "tone": "rude"})
        with pytest.raises(MCPError, match="unknown argument"):
            await client.get_prompt("review", {"path": "x", "colour": "red"})
        with pytest.raises(MCPError, match="Unknown prompt"):
            await client.get_prompt("nope", {})

        ref = types.PromptReference(name="review")
        assert (await client.complete(ref, {"name": "tone", "value": "b"})).completion.values == ["blunt"]
        assert (await client.complete(ref, {"name": "focus", "value": ""})).completion.values == ["errors", "naming", "speed"]
        assert (await client.complete(ref, {"name": "path", "value": "sl"})).completion.values == ["slow"]


async def test_catalog_resources_are_listed_and_read(served: Served, era: str):
    async with Client(served.mcp_url, mode=era) as client:
        listed = {str(r.uri): r for r in (await client.list_resources()).resources}
        assert {"docs://logo.png", "docs://runbook", "agenthub://playbooks/slow"} <= set(listed)
        assert listed["docs://runbook"].mime_type == "text/markdown"
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert "shop://orders/{id}" in templates and "agenthub://executions/{id}" in templates

        text = (await client.read_resource("docs://runbook")).contents[0]
        assert text.text == "# Runbook v1" and text.mime_type == "text/markdown"
        blob = (await client.read_resource("docs://logo.png")).contents[0]
        assert base64.b64decode(blob.blob)[:4] == b"\x89PNG" and blob.mime_type == "image/png"
        order = (await client.read_resource("shop://orders/A-17")).contents[0]
        assert order.text == '{"id": "A-17", "status": "open"}' and str(order.uri) == "shop://orders/A-17"
        with pytest.raises(MCPError, match="Resource not found"):
            await client.read_resource("shop://orders/a/b")  # {id} is one segment


def _start_slow_run(served: Served, seconds: float) -> str:
    with served.client() as api:
        answer = api.post("/api/executions", json={"playbook": "slow", "arguments": {"seconds": seconds}, "wait": False})
        return answer.json()["execution_id"]


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # subscribe: removed in 2026, served to 2025
async def test_a_legacy_subscriber_is_told_when_a_run_and_a_catalog_resource_change(served: Served):
    updated: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updated.append(str(message.params.uri))

    execution = f"agenthub://executions/{_start_slow_run(served, 1.0)}"
    async with Client(served.mcp_url, mode="legacy", message_handler=on_message) as client:
        assert client.server_capabilities.resources.subscribe is True
        await client.subscribe_resource(execution)
        await client.subscribe_resource("docs://runbook")
        with anyio.fail_after(30):
            while execution not in updated:  # the run finishes: its report changed
                await anyio.sleep(0.1)
        runbook = served.catalog / "runbook.yaml"
        runbook.write_text(runbook.read_text().replace("v1", "v2"))
        with anyio.fail_after(30):
            while "docs://runbook" not in updated:
                await anyio.sleep(0.1)
        assert (await client.read_resource("docs://runbook")).contents[0].text == "# Runbook v2"
        await client.unsubscribe_resource("docs://runbook")
        count = updated.count("docs://runbook")
        # a second subscriber is the barrier: once it is told of v3, the hub has noticed the change
        # and sent its notifications (to every subscriber of the URI, in subscription order)
        witnessed: list[str] = []

        async def on_witness(message: Any) -> None:
            if isinstance(message, types.ResourceUpdatedNotification):
                witnessed.append(str(message.params.uri))

        async with Client(served.mcp_url, mode="legacy", message_handler=on_witness) as witness:
            await witness.subscribe_resource("docs://runbook")
            runbook.write_text(runbook.read_text().replace("v2", "v3"))
            with anyio.fail_after(30):
                while "docs://runbook" not in witnessed:
                    await anyio.sleep(0.05)
            assert (await witness.read_resource("docs://runbook")).contents[0].text == "# Runbook v3"
        await anyio.sleep(0.3)  # a notification already sent to the first client has arrived by now
        assert updated.count("docs://runbook") == count  # unsubscribed: not told again


async def test_a_2026_listener_is_told_when_a_run_it_watches_changes(served: Served):
    execution = f"agenthub://executions/{_start_slow_run(served, 1.0)}"
    async with Client(served.mcp_url) as client:
        assert client.protocol_version == "2026-07-28"
        async with client.listen(resource_subscriptions=[execution]) as subscription:
            with anyio.fail_after(30):
                async for event in subscription:
                    if getattr(event, "uri", None) == execution:
                        break
        report = (await client.read_resource(execution)).contents[0].text
        assert "succeeded" in report


ASKING = """
    apiVersion: agenthub/v1
    kind: Prompt
    metadata: {name: incident, description: Opens an incident review.}
    arguments:
      service: {description: Which service, enum: [billing, search]}
      summary: {description: One line, ask: What happened?}
    messages:
      - {role: user, content: "Incident on {{ service }}: {{ summary }}"}
"""


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_a_prompt_asks_the_user_for_an_argument_the_client_left_out(served: Served, era: str):
    (served.catalog / "incident.yaml").write_text(textwrap.dedent(ASKING).lstrip(), encoding="utf-8")
    asked: list[types.ElicitRequestParams] = []
    answer = {"action": "accept"}

    async def elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        if answer["action"] != "accept":
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content={"summary": "card payments time out"})

    async with Client(served.mcp_url, mode=era, elicitation_callback=elicit) as client:
        with anyio.fail_after(30):  # the watcher picks the new file up within a second
            while "incident" not in {p.name for p in (await client.list_prompts()).prompts}:
                await anyio.sleep(0.2)
        got = await client.get_prompt("incident", {"service": "billing"})
        assert got.messages[0].content.text == "Incident on billing: card payments time out"
        assert len(asked) == 1 and asked[0].message == "What happened?"
        assert asked[0].requested_schema["required"] == ["summary"]
        given = await client.get_prompt("incident", {"service": "search", "summary": "index lag"})
        assert given.messages[0].content.text == "Incident on search: index lag" and len(asked) == 1
        answer["action"] = "decline"
        with pytest.raises(MCPError, match="'summary' was not given"):
            await client.get_prompt("incident", {"service": "billing"})
    async with Client(served.mcp_url, mode=era) as client:  # no elicitation: nobody to ask
        with pytest.raises(MCPError, match="missing required argument 'summary'"):
            await client.get_prompt("incident", {"service": "billing"})


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # subscribe: removed in 2026, served to 2025
async def test_prompts_resources_and_subscriptions_over_stdio(connect, era: str, mcp_catalog):
    for name in ("review", "runbook"):
        (mcp_catalog / f"{name}.yaml").write_text(textwrap.dedent(DOCUMENTS[name]).lstrip(), encoding="utf-8")
    updated: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updated.append(str(message.params.uri))

    async with connect(message_handler=on_message) as client:
        got = await client.get_prompt("review", {"path": "echo", "tone": "blunt"})
        assert got.messages[0].content.text == "Review echo, bluntly."
        assert (await client.read_resource("docs://runbook")).contents[0].text == "# Runbook v1"
        runbook = mcp_catalog / "runbook.yaml"
        if era == "legacy":
            await client.subscribe_resource("docs://runbook")
            runbook.write_text(runbook.read_text().replace("v1", "v2"))
            with anyio.fail_after(30):
                while "docs://runbook" not in updated:
                    await anyio.sleep(0.1)
        else:
            async with client.listen(resource_subscriptions=["docs://runbook"]) as subscription:
                runbook.write_text(runbook.read_text().replace("v1", "v2"))
                with anyio.fail_after(30):
                    async for event in subscription:
                        if getattr(event, "uri", None) == "docs://runbook":
                            break
        assert (await client.read_resource("docs://runbook")).contents[0].text == "# Runbook v2"


@asynccontextmanager
async def _as(served: Served, token: str, era: str) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http, \
            Client(streamable_http_client(served.mcp_url, http_client=http), mode=era) as client:
        yield client


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")  # subscribe: removed in 2026, served to 2025
async def test_a_subscription_never_reaches_a_run_the_caller_may_not_read(tmp_path):
    tokens, catalog = tmp_path / "tokens.yaml", tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "slow.yaml").write_text(textwrap.dedent(SLOW).lstrip(), encoding="utf-8")
    owner, other = "owner-token-0123456789", "other-token-0123456789"
    for subject, raw in (("owner", owner), ("other", other)):
        append_token(tokens, TokenEntry(sha256=hash_token(raw), subject=subject, scopes=[]))
    served = start_server(tmp_path / "serve", catalog, "--tokens-file", str(tokens), "--isolate-subjects")
    try:
        with served.client(owner) as api:
            started = api.post("/api/executions", json={"playbook": "slow", "arguments": {"seconds": 30}, "wait": False})
            uri = f"agenthub://executions/{started.json()['execution_id']}"
        async with _as(served, other, "legacy") as client:
            with pytest.raises(MCPError, match="Resource not found"):
                await client.subscribe_resource(uri)
        async with _as(served, other, "auto") as client:
            async with client.listen(resource_subscriptions=[uri]) as subscription:
                assert not (subscription.honored.resource_subscriptions or [])  # not honored: never fires
        async with _as(served, owner, "legacy") as client:
            await client.subscribe_resource(uri)  # its own run: fine
        async with _as(served, owner, "auto") as client:
            async with client.listen(resource_subscriptions=[uri]) as subscription:
                assert subscription.honored.resource_subscriptions == [uri]
    finally:
        served.stop()
