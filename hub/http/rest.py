"""The REST API under `/api`: the hub for agents and scripts that do not speak MCP.

Every endpoint is declared once in `RestApi.endpoints()`; the router and the OpenAPI document
(`GET /api/openapi.json`) are both built from that table and the models of `hub.http.rest_models`.

Status codes of `POST /api/executions`: see `EXECUTE_STATUSES` (also in the OpenAPI document).

Scopes: a playbook's `metadata.scopes` are all required to run it and to read it (for a pinned old
version, the strictest of it and the current version). An execution is readable, cancellable and
diagnosable under `hub.contract.access`: the scopes stored on it when it started, and with
`--isolate-subjects` only by the subject that started it (or the admin scope). Lists leave out what the caller may not use (the same rule as MCP `tools/list`),
so a page of executions may be shorter than `limit`. With auth off, everything is visible.
`metadata.expose` is about MCP only: REST lists and runs every served playbook (the `expose` field
of a summary says whether MCP lists it).
A client that disconnects while waiting does not cancel the run (REST runs are jobs; cancel is
explicit), unlike an MCP `tools/call`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from mcp.shared.exceptions import MCPError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import ASGIApp

from catalog.entries import CatalogEntry
from hub.app import Hub
from hub.http.auth import missing_scopes
from hub.contract.envelope import Envelope
from hub.mcp.tools import caller_scopes, current_caller, entry_scopes, may_use, paginate
from hub.http.openapi import Answer, Endpoint, PathParam, openapi_document
from hub.contract.records import ExecutionRecord
from hub.http.plumbing import (
    ApiProblem,
    Handler,
    MethodDispatch,
    check_pinned_ref,
    envelope_status,
    guarded,
    parse_body,
    parse_query,
)
from hub.http.rest_models import (
    ApiErrorBody,
    AuthErrorBody,
    CancelQuery,
    CatalogEntryDetail,
    CatalogEntrySummary,
    CatalogPage,
    CatalogQuery,
    DiscoveryQuery,
    EntryQuery,
    Event,
    EventPage,
    EventsQuery,
    ExecuteRequest,
    ExecutionDetail,
    ExecutionPage,
    ExecutionsQuery,
    ExecutionSummary,
    StepSummary,
)
from troubleshoot.diagnosis import ExecutionDiagnosis

log = logging.getLogger("agenthub.rest")


RETRY_AFTER_SECONDS = 1
CANCEL_POLL_INTERVAL = 0.05

EXECUTE_STATUSES = """The body is always an envelope, except for 403 and a malformed request.
* 200: the run ended, `ok` *or* `error` (a failing playbook is a successful API call; the envelope
  says what failed).
* 202: the run goes on (`wait: false`, or `wait_timeout` passed first); `Location` names the
  execution to poll; the body is the running envelope.
* 404: no such playbook (`PLAYBOOK_NOT_FOUND` envelope). 422: the arguments do not match the input
  schema (`INPUT_INVALID` envelope, each problem's path in `error.details.errors`), or the request
  body itself is wrong (`REQUEST_INVALID`). 429: the hub runs its maximum of executions
  (`TOO_MANY_EXECUTIONS` envelope, `Retry-After`). Nothing ran in these cases, but a run that got
  as far as the engine is recorded as a failed execution, as on every other surface.
* 403: the playbook needs scopes the token lacks (RFC 6750 body; nothing is recorded)."""


class RestApi:
    """The `/api` endpoints of one hub. `wrap` adds host checks and auth around secured routes."""

    def __init__(
        self,
        hub: Hub,
        *,
        auth_enabled: bool,
        resource_metadata_url: str | None = None,
        title: str = "agenthub REST API",
        version: str = "0.1.0",
    ) -> None:
        self.hub = hub
        self.auth_enabled = auth_enabled
        self.resource_metadata_url = resource_metadata_url
        self.title = title
        self.version = version
        self._openapi: dict[str, Any] | None = None

    # -- the table -----------------------------------------------------------------------------

    def endpoints(self) -> list[tuple[Endpoint, Handler]]:
        execution_id = PathParam("execution_id", "An execution id (a unique prefix is accepted).")
        not_found = Answer("No such execution (`NOT_FOUND`).", ApiErrorBody)
        forbidden = Answer("The playbook needs scopes the token lacks (RFC 6750 `insufficient_scope`).",
                           AuthErrorBody)
        location = {"Location": "The execution to poll: /api/executions/{id}."}
        return [
            (Endpoint("GET", "/api/catalog", "list_catalog", "List and search the catalog",
                      {200: Answer("One page of entries, sorted by path.", CatalogPage)},
                      description="Discovery by kind, agent flag, capability (any of), capabilities_all, tag and "
                                  "text; keyset pagination with `limit` and `cursor`.",
                      tag="catalog", query=CatalogQuery), self.list_catalog),
            (Endpoint("GET", "/api/catalog/{path}", "get_catalog_entry", "One catalog entry with its schemas",
                      {200: Answer("The entry.", CatalogEntryDetail),
                       403: forbidden,
                       404: Answer("No such entry or version (`NOT_FOUND`).", ApiErrorBody)},
                      tag="catalog", query=EntryQuery,
                      path_params=(PathParam("path", "Catalog path or tool name; `path@N` pins a version.",
                                             catch_all=True),)), self.get_entry),
            (Endpoint("GET", "/api/agents", "list_agents", "List agents (entries with `agent: true`)",
                      {200: Answer("One page of agents, sorted by path.", CatalogPage)},
                      description="NoETL-style agent discovery: capability (any of), capabilities_all, tag, text.",
                      tag="catalog", query=DiscoveryQuery), self.list_agents),
            (Endpoint("POST", "/api/executions", "execute", "Run a playbook",
                      {200: Answer("The run ended: an `ok` or `error` envelope.", Envelope),
                       202: Answer("The run goes on: a `running` envelope.", Envelope, location),
                       403: forbidden,
                       404: Answer("No such playbook: a `PLAYBOOK_NOT_FOUND` envelope.", Envelope),
                       422: Answer("Arguments invalid: an `INPUT_INVALID` envelope; or the request body is "
                                   "wrong: `REQUEST_INVALID`.", (Envelope, ApiErrorBody)),
                       429: Answer("Too many executions running: a `TOO_MANY_EXECUTIONS` envelope.", Envelope,
                                   {"Retry-After": "Seconds to wait before trying again."})},
                      description=EXECUTE_STATUSES,
                      tag="executions", body=ExecuteRequest), self.execute),
            (Endpoint("GET", "/api/executions", "list_executions", "List executions, newest first",
                      {200: Answer("One page of executions.", ExecutionPage)},
                      tag="executions", query=ExecutionsQuery), self.list_executions),
            (Endpoint("GET", "/api/executions/{execution_id}", "get_execution", "One execution and its envelope",
                      {200: Answer("The execution; `envelope` is final or running.", ExecutionDetail),
                       403: forbidden, 404: not_found},
                      tag="executions", path_params=(execution_id,)), self.get_execution),
            (Endpoint("GET", "/api/executions/{execution_id}/events", "list_events", "Events of one execution",
                      {200: Answer("Events in order, those after `after_seq`.", EventPage),
                       403: forbidden, 404: not_found},
                      tag="executions", query=EventsQuery, path_params=(execution_id,)), self.list_events),
            (Endpoint("POST", "/api/executions/{execution_id}/cancel", "cancel_execution", "Cancel an execution",
                      {200: Answer("It stopped: its final envelope (`CANCELLED`, unless it ended first).", Envelope),
                       202: Answer("Cancel requested; still running after `wait` seconds.", Envelope, location),
                       403: forbidden, 404: not_found,
                       409: Answer("It had already finished (`ALREADY_FINISHED`).", ApiErrorBody)},
                      tag="executions", query=CancelQuery, path_params=(execution_id,)), self.cancel),
            (Endpoint("POST", "/api/executions/{execution_id}/diagnose", "diagnose_execution",
                      "Diagnose a failed execution",
                      {200: Answer("The diagnosis (also recorded as a `diagnosis.finished` event).", ExecutionDiagnosis),
                       403: forbidden, 404: not_found,
                       409: Answer("It did not fail: it succeeded or still runs (`NOT_FAILED`).", ApiErrorBody)},
                      description="Rules first, then the local Ollama model, then OpenAI when the pooled confidence "
                                  "is below the threshold; the configured troubleshoot settings apply, whatever the "
                                  "auto-troubleshoot opt-in says.",
                      tag="executions", path_params=(execution_id,)), self.diagnose),
        ]

    def routes(
        self, wrap: Callable[[ASGIApp], ASGIApp], public: Callable[[ASGIApp], ASGIApp] = lambda app: app
    ) -> list[Route]:
        """The routes; `wrap` adds host checks and auth, `public` the host checks only (the
        OpenAPI document needs no token, but DNS-rebinding protection applies to every route)."""
        by_path: dict[str, dict[str, ASGIApp]] = {}  # one route per path: a 405 lists every method
        names: dict[str, str] = {}
        for endpoint, handler in self.endpoints():
            by_path.setdefault(endpoint.route_path, {})[endpoint.method] = wrap(request_response(guarded(handler)))
            names.setdefault(endpoint.route_path, endpoint.operation_id)
        routes = [Route(path, MethodDispatch(apps), methods=list(apps), name=names[path]) for path, apps in by_path.items()]
        routes.append(Route("/api/openapi.json", public(request_response(self.openapi_json)), methods=["GET"],
                            name="openapi"))
        return routes

    def openapi(self) -> dict[str, Any]:
        if self._openapi is None:
            table = [endpoint for endpoint, _ in self.endpoints()]
            table.append(Endpoint("GET", "/api/openapi.json", "openapi", "This document",
                                  {200: Answer("The OpenAPI 3.1 document.")}, tag="meta", secured=False))
            self._openapi = openapi_document(
                table, title=self.title, version=self.version, auth_enabled=self.auth_enabled,
                description="The agenthub REST API: catalog discovery and playbook executions, beside "
                            "the MCP endpoint at /mcp. Runs answer with the agent envelope.",
            )
        return self._openapi

    async def openapi_json(self, request: Request) -> Response:
        return JSONResponse(self.openapi())

    # -- scopes --------------------------------------------------------------------------------

    def _forbidden(self, required: list[str], missing: list[str]) -> JSONResponse:
        description = f"Required scope: {' '.join(missing)}"
        header = f'Bearer error="insufficient_scope", error_description="{description}", scope="{" ".join(required)}"'
        if self.resource_metadata_url:
            header += f', resource_metadata="{self.resource_metadata_url}"'
        body = {"error": "insufficient_scope", "error_description": description, "scope": " ".join(required)}
        return JSONResponse(body, status_code=403, headers={"WWW-Authenticate": header})

    def _check_entry(self, entry: CatalogEntry) -> JSONResponse | None:
        """A 403 answer when the caller may not use this entry (a pinned version: the strictest
        of it and the current one), else None."""
        scopes = caller_scopes()
        required = entry_scopes(entry, self.hub.catalog.get(entry.path))
        if may_use(required, scopes):
            return None
        return self._forbidden(required, missing_scopes(sorted(scopes or ()), required))

    def _check_record(self, record: ExecutionRecord, asked: str) -> JSONResponse | None:
        """None when the caller may touch the execution (`hub.contract.access`); else a 403 when
        the caller lacks scopes the execution requires, or the 404 of an unknown id otherwise
        (another subject's execution, or one whose scopes are unknown: its existence stays hidden)."""
        caller = current_caller()
        if self.hub.access.allows(record, caller):
            return None
        required = list(record.required_scopes or ())
        missing = missing_scopes(sorted(caller.scopes or ()), required)
        if missing:
            return self._forbidden(required, missing)
        raise ApiProblem(404, "NOT_FOUND", f"no execution {asked!r}")

    async def _record(self, execution_id: str) -> ExecutionRecord:
        record = await self.hub.store.get(execution_id)
        if record is None:
            raise ApiProblem(404, "NOT_FOUND", f"no execution {execution_id!r}")
        return record

    # -- catalog -------------------------------------------------------------------------------

    def _page(self, entries: list[CatalogEntry], limit: int, cursor: str | None) -> JSONResponse:
        scopes = caller_scopes()
        visible = [e for e in entries if may_use(e.scopes, scopes)]
        try:
            page, next_cursor = paginate(visible, lambda e: e.path, cursor, limit)
        except MCPError:
            raise ApiProblem(422, "REQUEST_INVALID", "cursor is not one this API gave out",
                             {"errors": [{"loc": ["query", "cursor"], "msg": "invalid cursor",
                                          "type": "value_error"}]}) from None
        body = CatalogPage(items=[CatalogEntrySummary.of(e) for e in page], next_cursor=next_cursor, total=len(visible))
        return JSONResponse(body.model_dump(mode="json"))

    async def list_catalog(self, request: Request) -> Response:
        q = parse_query(request, CatalogQuery)
        found = self.hub.catalog.find(kind=q.kind, agent=q.agent, capabilities_any=q.capability,
                                      capabilities_all=q.capabilities_all, tags=q.tag, text=q.q)
        return self._page(found, q.limit, q.cursor)

    async def list_agents(self, request: Request) -> Response:
        q = parse_query(request, DiscoveryQuery)
        found = self.hub.catalog.find(agent=True, capabilities_any=q.capability,
                                      capabilities_all=q.capabilities_all, tags=q.tag, text=q.q)
        return self._page(found, q.limit, q.cursor)

    async def get_entry(self, request: Request) -> Response:
        q = parse_query(request, EntryQuery)
        ref = request.path_params["path"]
        check_pinned_ref(ref)
        entry = await asyncio.to_thread(self.hub.catalog.get, ref, q.version)  # may read the ledger
        if entry is None:
            pinned = f" version {q.version}" if q.version else ""
            raise ApiProblem(404, "NOT_FOUND", f"no catalog entry {ref!r}{pinned}")
        refused = self._check_entry(entry)
        if refused is not None:
            return refused
        meta = entry.playbook.metadata
        detail = CatalogEntryDetail(
            **CatalogEntrySummary.of(entry).model_dump(),
            versions=self.hub.catalog.versions(entry.path),
            input_schema=entry.input_schema,
            output_schema=entry.output_schema,
            annotations=meta.annotations.model_dump(by_alias=True, exclude_none=True) if meta.annotations else None,
            steps=[StepSummary(step=s.step, kind=s.kind) for s in entry.playbook.workflow],
        )
        return JSONResponse(detail.model_dump(mode="json"))

    # -- executions ----------------------------------------------------------------------------

    def _envelope_response(self, request: Request, envelope: Envelope) -> JSONResponse:
        status = envelope_status(envelope)
        headers: dict[str, str] = {}
        if status == 202:
            headers["Location"] = f"{request.scope.get('root_path', '')}/api/executions/{envelope.execution_id}"
        elif status == 429:
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return JSONResponse(envelope.for_client().to_dict(), status_code=status, headers=headers)

    async def execute(self, request: Request) -> Response:
        body = await parse_body(request, ExecuteRequest)
        check_pinned_ref(body.playbook)
        entry = self.hub.catalog.get(body.playbook, body.version)
        if entry is not None:
            refused = self._check_entry(entry)
            if refused is not None:
                return refused
        caller = current_caller()
        handle = await self.hub.engine.start(
            entry if entry is not None else body.playbook, body.arguments, version=body.version, timeout=body.timeout,
            started_by=caller.subject, caller_scopes=caller.scopes,
        )
        if body.wait and not handle.task.done():
            wait = body.wait_timeout if body.wait_timeout is not None else self.hub.config.call_timeout
            await asyncio.wait([handle.task], timeout=wait)
        if handle.task.done():
            envelope = handle.task.result()
        else:
            await handle.durable()
            envelope = await self.hub.engine.snapshot(handle.execution_id)
            assert envelope is not None  # durable above
        return self._envelope_response(request, envelope)

    async def list_executions(self, request: Request) -> Response:
        q = parse_query(request, ExecutionsQuery)
        records = await self.hub.store.list(status=q.status, parent_id=q.parent_id, limit=q.limit + 1, before=q.before)
        more = len(records) > q.limit
        records = records[:q.limit]
        next_before = records[-1].id if more and records else None
        caller = current_caller()
        records = [r for r in records if self.hub.access.allows(r, caller)]
        body = ExecutionPage(items=[ExecutionSummary.of(r) for r in records], next_before=next_before)
        return JSONResponse(body.model_dump(mode="json"))

    async def get_execution(self, request: Request) -> Response:
        record = await self._record(request.path_params["execution_id"])
        refused = self._check_record(record, request.path_params["execution_id"])
        if refused is not None:
            return refused
        envelope = await self.hub.engine.snapshot(record.id)
        assert envelope is not None
        summary = ExecutionSummary.of(record).model_dump(mode="json")
        return JSONResponse({**summary, "arguments": record.arguments, "envelope": envelope.for_client().to_dict()})

    async def list_events(self, request: Request) -> Response:
        q = parse_query(request, EventsQuery)
        record = await self._record(request.path_params["execution_id"])
        refused = self._check_record(record, request.path_params["execution_id"])
        if refused is not None:
            return refused
        events = await self.hub.store.events(record.id, after_seq=q.after_seq, limit=q.limit)
        body = EventPage(
            execution_id=record.id,
            items=[Event.of(e) for e in events],
            next_after_seq=events[-1].seq if events else q.after_seq,
            finished=record.status.finished and len(events) < q.limit,
        )
        return JSONResponse(body.model_dump(mode="json"))

    async def cancel(self, request: Request) -> Response:
        q = parse_query(request, CancelQuery)
        record = await self._record(request.path_params["execution_id"])
        refused = self._check_record(record, request.path_params["execution_id"])
        if refused is not None:
            return refused
        if record.status.finished:
            raise ApiProblem(409, "ALREADY_FINISHED", f"execution {record.id} already {record.status.value}",
                             {"status": record.status.value})
        await self.hub.engine.cancel(record.id)
        deadline = time.monotonic() + q.wait
        while True:
            envelope = await self.hub.engine.snapshot(record.id)
            assert envelope is not None
            if envelope.status != "running" or time.monotonic() >= deadline:
                break
            await asyncio.sleep(CANCEL_POLL_INTERVAL)
        return self._envelope_response(request, envelope)

    # -- troubleshoot ----------------------------------------------------------------------------

    async def diagnose(self, request: Request) -> Response:
        """POST /api/executions/{id}/diagnose: troubleshoot.ondemand.diagnose_execution."""
        from troubleshoot.ondemand import NotDiagnosable, diagnose_execution

        record = await self._record(request.path_params["execution_id"])
        refused = self._check_record(record, request.path_params["execution_id"])
        if refused is not None:
            return refused
        try:
            diagnosis = await diagnose_execution(self.hub, record.id, providers=self.hub.troubleshoot.providers)
        except NotDiagnosable as exc:
            raise ApiProblem(409, "NOT_FAILED", str(exc), {"status": record.status.value}) from None
        body = ExecutionDiagnosis(execution_id=record.id, **diagnosis.model_dump())
        return JSONResponse(body.model_dump(mode="json", exclude_none=True))

