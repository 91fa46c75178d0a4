"""The hub-level MCP tools, beside the playbooks under the reserved `hub_` prefix (the catalog
refuses playbook names with it): find agents, an execution's status and report, cancel one.

They answer with their own structured objects rather than an agent envelope (they start no
execution, so there is no execution id to give). A failure (bad arguments, an unknown execution)
is an `isError` result whose structured content carries only `error`, in the envelope's error
shape with code INPUT_INVALID, so clients branch on it the same way.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import types

from catalog.entries import CatalogEntry
from catalog.schema import DIALECT, validate_arguments
from hub.app import Hub
from hub.contract.envelope import ErrorInfo
from hub.contract.errors import ErrorCode
from hub.mcp.tools import ERROR_SCHEMA, current_caller, entry_visible, envelope_schema, execution_link
from hub.contract.records import ExecutionRecord, ExecutionStatus
from hub.report import execution_report

FIND_AGENTS = "hub_find_agents"
EXECUTION_STATUS = "hub_execution_status"
CANCEL_EXECUTION = "hub_cancel_execution"
DIAGNOSE_EXECUTION = "hub_diagnose_execution"
POLL_INTERVAL = 0.1
MAX_WAIT = 300.0
CANCEL_WAIT = 5.0

_ID = {"type": "string", "minLength": 1, "description": "An execution id, or a unique prefix of one."}
_STATUS = {"enum": [s.value for s in ExecutionStatus]}


def _object(properties: dict[str, Any], required: list[str] | None = None, *, closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"$schema": DIALECT, "type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema


_AGENT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "The MCP tool name."},
        "path": {"type": "string", "description": "The catalog path."},
        "version": {"type": "integer"},
        "title": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "description": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "capabilities": {"type": "array", "items": {"type": "string"}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "agent": {"type": "boolean"},
        "exposed": {"type": "boolean", "description": "Listed as an MCP tool (else only a sub-run target)."},
    },
    "required": ["name", "path", "version", "capabilities", "tags", "agent", "exposed"],
}

HUB_TOOLS: list[types.Tool] = [
    types.Tool(
        name=FIND_AGENTS,
        title="Find agents",
        description=(
            "Search the hub's catalog of playbooks and agents by capability, tag or free text. "
            "Every filter given must match; `capabilities` match any of them unless match is 'all'."
        ),
        input_schema=_object({
            "capabilities": {"type": "array", "items": {"type": "string"}, "description": "Capabilities to look for."},
            "match": {"enum": ["any", "all"], "default": "any", "description": "Any or all of `capabilities`."},
            "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags that must all be present."},
            "text": {"type": "string", "description": "Words that must all appear in name, title, description, ..."},
            "agents_only": {"type": "boolean", "default": False, "description": "Only playbooks marked `agent: true`."},
            "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        }),
        output_schema=_object({
            "agents": {"type": "array", "items": _AGENT},
            "total": {"type": "integer", "description": "Matches before `limit`."},
            "error": ERROR_SCHEMA,
        }, closed=False),
        annotations=types.ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    ),
    types.Tool(
        name=EXECUTION_STATUS,
        title="Execution status",
        description=(
            "The status, envelope and report of an execution (e.g. one a tool call answered as "
            "'running'). With `wait`, waits up to that many seconds for it to finish first."
        ),
        input_schema=_object({
            "execution_id": _ID,
            "wait": {"type": "number", "minimum": 0, "maximum": MAX_WAIT, "default": 0,
                     "description": "Seconds to wait for the execution to finish."},
        }, ["execution_id"]),
        output_schema=_object({
            "execution_id": {"type": "string"},
            "playbook": {"type": "string"},
            "status": _STATUS,
            "finished": {"type": "boolean"},
            "envelope": {k: v for k, v in envelope_schema().items() if k != "$schema"},
            "report": {"type": "string"},
            "error": ERROR_SCHEMA,
        }, closed=False),
        annotations=types.ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False),
    ),
    types.Tool(
        name=CANCEL_EXECUTION,
        title="Cancel an execution",
        description="Cancel a running execution; answers with its status once it stopped (or after a few seconds).",
        input_schema=_object({"execution_id": _ID}, ["execution_id"]),
        output_schema=_object({
            "execution_id": {"type": "string"},
            "status": _STATUS,
            "cancelled": {"type": "boolean", "description": "This call stopped it (false: it had already ended)."},
            "error": ERROR_SCHEMA,
        }, closed=False),
        annotations=types.ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
        ),
    ),
]

# -- troubleshoot: hub_diagnose_execution (the on-demand diagnosis of troubleshoot.ondemand) ------
HUB_TOOLS.append(types.Tool(
    name=DIAGNOSE_EXECUTION,
    title="Diagnose a failed execution",
    description=(
        "Why did an execution fail? Classifies it (transient_5xx, auth, rate_limit, bad_request, timeout, "
        "infra, configuration, dependency, input_validation, tool_error, cancelled, unknown) with a root "
        "cause, a suggested action and a pooled confidence: rules first, then the local Ollama model, then "
        "OpenAI when unsure. Works whatever the auto-troubleshoot opt-in says; records a diagnosis.finished event."
    ),
    input_schema=_object({
        "execution_id": _ID,
        "escalate_to": {"enum": ["openai", "claude", "none"], "description": "Override the configured escalation target."},
        "budget": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_WAIT,
                   "description": "Seconds for the whole diagnosis (default: the configured budget)."},
    }, ["execution_id"]),
    output_schema=_object({
        "execution_id": {"type": "string"},
        "category": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "root_cause": {"type": "string"},
        "suggested_action": {"type": "string"},
        "source": {"type": "string", "description": "The tier whose answer was kept."},
        "escalated": {"type": "boolean"},
        "tiers": {"type": "array", "items": {"type": "object"}},
        "error": ERROR_SCHEMA,
    }, closed=False),
    annotations=types.ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False,
                                      open_world_hint=True),
))
HUB_TOOL_NAMES = frozenset(tool.name for tool in HUB_TOOLS)
_SCHEMAS = {tool.name: tool.input_schema for tool in HUB_TOOLS}


def _failure(message: str, details: dict[str, Any] | None = None) -> types.CallToolResult:
    error = ErrorInfo.of(ErrorCode.INPUT_INVALID, message, details=details)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=f"error {error.code}: {message}")],
        structured_content={"error": error.model_dump(mode="json", exclude_none=True)},
        is_error=True,
    )


def _ok(text: str, data: dict[str, Any], *extra: types.ContentBlock) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text), *extra], structured_content=data, is_error=False
    )


def _agent(entry: CatalogEntry) -> dict[str, Any]:
    return {
        "name": entry.name, "path": entry.path, "version": entry.version, "title": entry.title,
        "description": entry.description, "capabilities": entry.capabilities, "tags": entry.tags,
        "agent": entry.agent, "exposed": entry.expose,
    }


class HubTools:
    """Runs the `hub_*` tools against one hub, within what the caller's scopes allow."""

    def __init__(self, hub: Hub, *, execution_links: bool = False) -> None:
        self.hub = hub
        self.execution_links = execution_links
        self._handlers: dict[str, Callable[[dict[str, Any], frozenset[str] | None], Awaitable[types.CallToolResult]]] = {
            FIND_AGENTS: self.find_agents,
            EXECUTION_STATUS: self.execution_status,
            CANCEL_EXECUTION: self.cancel_execution,
            DIAGNOSE_EXECUTION: self.diagnose_execution,
        }

    def _links(self, execution_id: str) -> list[types.ContentBlock]:
        """A link to the execution's report, only when the server was asked for links (see
        `hub.mcp.tools.envelope_result`)."""
        return [execution_link(execution_id)] if self.execution_links else []

    async def call(self, name: str, arguments: dict[str, Any], scopes: frozenset[str] | None) -> types.CallToolResult:
        problems = validate_arguments(_SCHEMAS[name], arguments)
        if problems:
            return _failure("; ".join(f"{where}: {message}" for where, message in problems),
                            {"errors": [{"path": w, "message": m} for w, m in problems]})
        return await self._handlers[name](arguments, scopes)

    async def find_agents(self, args: dict[str, Any], scopes: frozenset[str] | None) -> types.CallToolResult:
        capabilities = args.get("capabilities") or []
        every = args.get("match", "any") == "all"
        found = [
            entry for entry in self.hub.catalog.find(
                agent=True if args.get("agents_only") else None,
                capabilities_any=() if every else capabilities,
                capabilities_all=capabilities if every else (),
                tags=args.get("tags") or (),
                text=args.get("text") or None,
            )
            if entry_visible(entry, scopes)
        ]
        shown = [_agent(entry) for entry in found[: args.get("limit", 50)]]
        lines = [f"{len(found)} match(es)"] + [
            f"- {a['name']} ({a['path']}@{a['version']}): {a['title'] or a['description'] or ''}".rstrip(": ")
            for a in shown
        ]
        return _ok("\n".join(lines), {"agents": shown, "total": len(found)})

    async def _visible_record(self, execution_id: str, scopes: frozenset[str] | None) -> ExecutionRecord | None:
        """The execution, unless unknown or one the caller may not touch (`hub.contract.access`;
        told apart from unknown by nothing, so ids of hidden executions do not leak)."""
        record = await self.hub.store.get(execution_id)
        if record is None:
            return None
        return record if self.hub.access.allows(record, current_caller()) else None

    async def execution_status(self, args: dict[str, Any], scopes: frozenset[str] | None) -> types.CallToolResult:
        record = await self._visible_record(args["execution_id"], scopes)
        if record is None:
            return _failure(f"input.execution_id: no execution matches {args['execution_id']!r}")
        deadline = time.monotonic() + float(args.get("wait", 0))
        while not record.status.finished and time.monotonic() < deadline:
            await anyio.sleep(min(POLL_INTERVAL, max(deadline - time.monotonic(), 0)))
            record = await self.hub.store.get(record.id) or record
        envelope = await self.hub.engine.snapshot(record.id)
        assert envelope is not None  # the record exists
        await self.hub.store.flush()
        events = await self.hub.store.events(record.id)
        children = list(reversed(await self.hub.store.list(parent_id=record.id, limit=1000)))
        report = execution_report(record, events, children)
        data = {
            "execution_id": record.id, "playbook": record.playbook_path, "status": record.status.value,
            "finished": record.status.finished, "envelope": envelope.for_client().to_dict(), "report": report,
        }
        return _ok(report, data, *self._links(record.id))

    async def cancel_execution(self, args: dict[str, Any], scopes: frozenset[str] | None) -> types.CallToolResult:
        record = await self._visible_record(args["execution_id"], scopes)
        if record is None:
            return _failure(f"input.execution_id: no execution matches {args['execution_id']!r}")
        if record.status.finished:
            return _ok(f"{record.id} had already ended: {record.status.value}",
                       {"execution_id": record.id, "status": record.status.value, "cancelled": False})
        await self.hub.engine.cancel(record.id)
        deadline = time.monotonic() + CANCEL_WAIT
        while not record.status.finished and time.monotonic() < deadline:
            await anyio.sleep(POLL_INTERVAL)
            record = await self.hub.store.get(record.id) or record
        stopped = record.status is ExecutionStatus.CANCELLED
        text = (f"{record.id} {record.status.value}" if record.status.finished
                else f"{record.id}: cancel requested; still {record.status.value} after {CANCEL_WAIT:g}s")
        return _ok(text, {"execution_id": record.id, "status": record.status.value, "cancelled": stopped})

    async def diagnose_execution(self, args: dict[str, Any], scopes: frozenset[str] | None) -> types.CallToolResult:
        """`hub_diagnose_execution`: troubleshoot.ondemand.diagnose_execution for one visible execution."""
        from catalog.model import TroubleshootKnobs
        from troubleshoot.diagnosis import render_diagnosis
        from troubleshoot.ondemand import NotDiagnosable, diagnose_execution

        record = await self._visible_record(args["execution_id"], scopes)
        if record is None:
            return _failure(f"input.execution_id: no execution matches {args['execution_id']!r}")
        knobs = TroubleshootKnobs(escalate_to=args.get("escalate_to"), budget=args.get("budget"))
        try:
            diagnosis = await diagnose_execution(self.hub, record.id, knobs=knobs, providers=self.hub.troubleshoot.providers)
        except NotDiagnosable as exc:
            return _failure(f"input.execution_id: {exc}")
        text = render_diagnosis(diagnosis, execution_id=record.id, playbook=record.playbook_path)
        return _ok(text, {"execution_id": record.id, **diagnosis.to_dict()}, *self._links(record.id))
