"""The MCP resources of the hub: each execution's report (text, and JSON with its events), each
playbook's YAML source, and the catalog's own `kind: Resource` documents (fixed URIs and URI
templates, `catalog.resources`), by URI; the playbooks and fixed resources are also listed.
Scope-filtered like the tools: a pinned `path@N` needs the scopes of both it and the current
version, an execution is readable under `hub.contract.access` (the scopes stored on it, and
subject isolation when on). `fingerprint(uri)` is what subscriptions watch
(`hub.mcp.resource_updates`)."""

from __future__ import annotations

import base64
import json
from typing import Any

from mcp import types
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError

from catalog.entries import ResourceEntry
from hub.app import Hub
from hub.contract.envelope import Failure, without_tracebacks
from hub.contract.templates import Templates
from hub.mcp.tools import (
    EXECUTION_JSON_URI,
    EXECUTION_URI,
    PLAYBOOK_URI,
    caller_scopes,
    current_caller,
    entry_visible,
    paginate,
    playbook_uri,
)
from hub.report import execution_report


class HubResources:
    """The `resources/*` handlers over one hub."""

    def __init__(self, hub: Hub, page_size: int) -> None:
        self.hub = hub
        self.page_size = page_size
        self.templates = Templates()

    async def list_resources(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        """The catalog's fixed resources and every visible playbook's source, sorted by URI."""
        scopes = caller_scopes()
        listed: list[types.Resource] = [
            types.Resource(uri=r.name, name=r.resource.metadata.name, title=r.resource.metadata.title,
                           description=r.resource.metadata.description, mime_type=r.resource.mime_type)
            for r in self.hub.catalog.resources() if r.resource.uri is not None
        ]
        listed += [
            types.Resource(
                uri=playbook_uri(e.path), name=e.path, title=e.title, description=e.description,
                mime_type="application/yaml", size=len(e.source.encode("utf-8")),
            )
            for e in self.hub.catalog.entries() if entry_visible(e, scopes)
        ]
        listed.sort(key=lambda r: str(r.uri))
        page, cursor = paginate(listed, lambda r: str(r.uri), params.cursor if params else None, self.page_size)
        return types.ListResourcesResult(resources=page, next_cursor=cursor)

    async def list_resource_templates(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        catalog_templates = [
            types.ResourceTemplate(uri_template=r.name, name=r.resource.metadata.name, title=r.resource.metadata.title,
                                   description=r.resource.metadata.description, mime_type=r.resource.mime_type)
            for r in self.hub.catalog.resources() if r.resource.uri_template is not None
        ]
        return types.ListResourceTemplatesResult(resource_templates=[
            *catalog_templates,
            types.ResourceTemplate(uri_template=EXECUTION_URI, name="execution-report", title="Execution report",
                                   description="Steps, timings, errors and result of one execution.",
                                   mime_type="text/plain"),
            types.ResourceTemplate(uri_template=EXECUTION_JSON_URI, name="execution-json", title="Execution record",
                                   description="One execution with its events and sub-executions, as JSON.",
                                   mime_type="application/json"),
            types.ResourceTemplate(uri_template=PLAYBOOK_URI, name="playbook-source", title="Playbook source",
                                   description="A playbook's YAML by catalog path (`path@N` for a version).",
                                   mime_type="application/yaml"),
        ])

    async def read_resource(
        self, ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        """An execution report or a playbook's source; an unknown URI, or one the caller's scopes do
        not allow, is MCPError(INVALID_PARAMS) with the uri in `data` (2026-07-28 "not found")."""
        uri = str(params.uri)
        found = self.catalog_resource(uri)
        if found is not None:
            return types.ReadResourceResult(contents=[self._catalog_contents(uri, *found)])
        scopes = caller_scopes()
        executions, playbooks = EXECUTION_URI.split("{")[0], PLAYBOOK_URI.split("{")[0]
        text: str | None = None
        mime = "text/plain"
        if uri.startswith(executions):
            text, mime = await self._execution_resource(uri.removeprefix(executions), scopes)
        elif uri.startswith(playbooks):
            entry = self.hub.catalog.get(uri.removeprefix(playbooks))
            if entry is not None and entry_visible(entry, scopes, self.hub.catalog.get(entry.path)):
                text, mime = entry.source, "application/yaml"
        if text is None:
            raise MCPError(types.INVALID_PARAMS, f"Resource not found: {uri}", {"uri": uri})
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type=mime, text=text)])

    async def _execution_resource(self, rest: str, scopes: frozenset[str] | None) -> tuple[str | None, str]:
        execution_id, _, variant = rest.partition("/")
        if variant not in ("", "json"):
            return None, ""
        store = self.hub.store
        record = await store.get(execution_id)
        if record is None or record.id != execution_id:  # a URI names one execution exactly
            return None, ""
        if not self.hub.access.allows(record, current_caller()):
            return None, ""
        await store.flush()
        events = await store.events(record.id)
        children = list(reversed(await store.list(parent_id=record.id, limit=1000)))
        if variant == "json":
            document = {
                "execution": record.model_dump(mode="json"),
                "events": [e.model_dump(mode="json") for e in events],
                "children": [c.id for c in children],
            }
            return json.dumps(without_tracebacks(document), ensure_ascii=False, default=str), "application/json"
        return execution_report(record, events, children), "text/plain"

    def catalog_resource(self, uri: str) -> tuple[ResourceEntry, dict[str, str]] | None:
        """The catalog resource a URI names, with the URI's variables: a fixed URI first, then the
        templates in URI order."""
        resources = self.hub.catalog.resources()
        for entry in sorted(resources, key=lambda r: r.resource.uri is None):
            variables = entry.resource.match(uri)
            if variables is not None:
                return entry, variables
        return None

    def _catalog_contents(
        self, uri: str, entry: ResourceEntry, variables: dict[str, str]
    ) -> types.TextResourceContents | types.BlobResourceContents:
        resource = entry.resource
        if resource.blob is not None:
            return types.BlobResourceContents(uri=uri, mime_type=resource.mime_type, blob=resource.blob)
        text = resource.text or ""
        if resource.uri_template is not None:
            try:
                text = str(self.templates.render_text(text, variables, f"{entry.name}.text"))
            except Failure as exc:
                raise MCPError(types.INTERNAL_ERROR, f"resource {entry.name!r} did not render: {exc.error.message}",
                               {"uri": uri}) from None
        return types.TextResourceContents(uri=uri, mime_type=resource.mime_type, text=text)

    async def readable(self, uri: str) -> bool:
        """Whether the current caller may subscribe to `uri`: the hub's own resources only when
        it may read them now (the same scope and access rules as resources/read, so a
        subscription never tells anyone when another subject's run changes); other URIs always
        (a subscription to a catalog resource that does not exist yet fires when it appears)."""
        executions, playbooks = EXECUTION_URI.split("{")[0], PLAYBOOK_URI.split("{")[0]
        if uri.startswith(playbooks):
            entry = self.hub.catalog.get(uri.removeprefix(playbooks))
            return entry is not None and entry_visible(entry, caller_scopes(), self.hub.catalog.get(entry.path))
        if uri.startswith(executions):
            execution_id, _, variant = uri.removeprefix(executions).partition("/")
            record = await self.hub.store.get(execution_id) if variant in ("", "json") else None
            return record is not None and record.id == execution_id and self.hub.access.allows(record, current_caller())
        return not uri.startswith(executions.split("//")[0] + "//")

    async def fingerprint(self, uri: str, previous: str | None = None) -> str | None:
        """The version of the resource at `uri` a subscriber would notice change: a catalog
        document's digest, or an execution's status and last event seq (None: nothing there).
        `previous` is the version seen last time: an execution's events are read only after its
        seq, so a poll costs what was appended since, not the whole run (events are numbered
        1, 2, ... per execution and never rewritten)."""
        found = self.catalog_resource(uri)
        if found is not None:
            return found[0].digest
        executions, playbooks = EXECUTION_URI.split("{")[0], PLAYBOOK_URI.split("{")[0]
        if uri.startswith(playbooks):
            entry = self.hub.catalog.get(uri.removeprefix(playbooks))
            return entry.digest if entry is not None else None
        if not uri.startswith(executions):
            return None
        execution_id = uri.removeprefix(executions).partition("/")[0]
        record = await self.hub.store.get(execution_id)
        if record is None or record.id != execution_id:
            return None
        last = _seen_seq(previous)
        new = await self.hub.store.events(execution_id, after_seq=last)
        return f"{record.status.value}:{new[-1].seq if new else last}"


def _seen_seq(version: str | None) -> int:
    """The last event seq in an execution's version (`"running:12"` -> 12; 0 when unknown)."""
    seq = (version or "").rpartition(":")[2]
    return int(seq) if seq.isdigit() else 0
