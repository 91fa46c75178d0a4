"""What the MCP server publishes for the catalog: tool descriptors with the envelope as output
schema, caller scopes, list cursors, and the `CallToolResult` rendering of an envelope.

Kept apart from `hub.mcp.server` so the HTTP side (and the REST API) can rely on the same scope
rule and the same result shape without importing the server itself.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, get_args

from mcp import types
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.shared.exceptions import MCPError

from catalog.entries import CatalogEntry
from catalog.schema import DIALECT
from hub.contract.access import ANONYMOUS, Caller, strictest_scopes
from hub.contract.envelope import Envelope
from hub.contract.errors import ErrorKind
from hub.mcp.content import result_blocks
from hub.mcp.portable import portable

T = TypeVar("T")

EXECUTION_URI = "agenthub://executions/{id}"
EXECUTION_JSON_URI = "agenthub://executions/{id}/json"
PLAYBOOK_URI = "agenthub://playbooks/{+path}"
_CURSOR_PREFIX = "v1:"
_DATA_ID = "urn:agenthub:tool-output:{name}"
_TEXT_DATA_LIMIT = 600
_TEXT_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
"""`json.dumps(data, ensure_ascii=False, default=str)` without an encoder built per call."""


def execution_uri(execution_id: str) -> str:
    return EXECUTION_URI.format(id=execution_id)


def playbook_uri(path: str) -> str:
    return PLAYBOOK_URI.replace("{+path}", path)


# -- scopes ------------------------------------------------------------------------------------


def caller_scopes() -> frozenset[str] | None:
    """The scopes of the access token the current request carries, or None when it carries none.

    None means "no auth configured" (stdio, or HTTP without a token verifier): with auth on, the
    SDK's middleware refuses a request without a valid token before any handler runs, so a handler
    never sees an unauthenticated request while auth is configured.
    """
    token = get_access_token()
    return None if token is None else frozenset(token.scopes)


def caller_subject() -> str | None:
    """Who the current request's token names (its subject, else its client id); None without auth."""
    token = get_access_token()
    if token is None:
        return None
    return getattr(token, "subject", None) or token.client_id


def may_use(required: Iterable[str], scopes: frozenset[str] | None) -> bool:
    """A playbook's `metadata.scopes` are all required; no token (None) means no restriction."""
    return scopes is None or set(required) <= scopes


def entry_visible(entry: CatalogEntry, scopes: frozenset[str] | None, current: CatalogEntry | None = None) -> bool:
    """Whether a caller with `scopes` may see and call this playbook. For a pinned old version,
    pass the `current` version of its path: the strictest of both applies (docs/security.md)."""
    return scopes is None or may_use(entry_scopes(entry, current), scopes)


def entry_scopes(entry: CatalogEntry, current: CatalogEntry | None = None) -> list[str]:
    """The scopes a caller needs for `entry`: its own and its path's current version's."""
    return list(strictest_scopes(entry.scopes, current.scopes if current else None))


def current_caller() -> Caller:
    """The identity of the current request (`ANONYMOUS` without auth)."""
    token = get_access_token()
    if token is None:
        return ANONYMOUS
    return Caller(subject=getattr(token, "subject", None) or token.client_id, scopes=frozenset(token.scopes))


# -- cursors -----------------------------------------------------------------------------------


def encode_cursor(last_key: str) -> str:
    """An opaque cursor: the sort key of the last item served (keyset paging, so a catalog change
    between pages neither repeats nor skips the items that stayed)."""
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + last_key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The key a cursor carries; MCPError(INVALID_PARAMS) when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith(_CURSOR_PREFIX):
        raise MCPError(types.INVALID_PARAMS, f"invalid cursor {cursor[:40]!r}")
    return raw[len(_CURSOR_PREFIX):]


def paginate(
    items: Sequence[T],
    key: Callable[[T], str],
    cursor: str | None,
    size: int,
    *,
    keys: Sequence[str] | None = None,
    visible: Callable[[T], bool] | None = None,
) -> tuple[list[T], str | None]:
    """One page of `items` (sorted by `key`) after `cursor`, and the next cursor (None at the end).

    `keys` (the items' keys, precomputed) and `visible` (a filter applied while paging) keep a
    page's cost proportional to the page, not to the whole catalog.
    """
    start = 0
    if cursor:
        sorted_keys = keys if keys is not None else [key(item) for item in items]
        start = bisect.bisect_right(sorted_keys, decode_cursor(cursor))
    if visible is None:
        page = list(items[start:start + size])
        more = start + size < len(items)
    else:
        page, index = [], start
        while index < len(items) and len(page) < size:
            if visible(items[index]):
                page.append(items[index])
            index += 1
        more = any(visible(items[i]) for i in range(index, len(items)))  # stops at the first one
    return page, encode_cursor(key(page[-1])) if more and page else None


# -- schemas -----------------------------------------------------------------------------------

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Present exactly when status is error.",
    "properties": {
        "kind": {"enum": list(get_args(ErrorKind))},
        "code": {"type": "string", "description": "Symbolic UPPER_SNAKE code (docs/errors.md)."},
        "message": {"type": "string"},
        "retryable": {"type": "boolean"},
        "step": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
            "required": ["name", "kind"],
        },
        "details": {"type": "object"},
        "diagnosis": {"type": "object", "description": "Added by the troubleshoot agent."},
    },
    "required": ["kind", "code", "message"],
}


def _has_ref(schema: Any) -> bool:
    if isinstance(schema, dict):
        return any(k in ("$ref", "$dynamicRef") or _has_ref(v) for k, v in schema.items())
    if isinstance(schema, list):
        return any(_has_ref(v) for v in schema)
    return False


_JSON_TYPES = ("object", "array", "string", "number", "boolean", "null")


def envelope_schema(output: dict[str, Any] | None = None, *, name: str = "data") -> dict[str, Any]:
    """The full JSON Schema of the agent envelope; `data` typed by `output` when the run succeeded.

    `data` is only checked when `status` is "ok" (a running or failed run has none). An output
    schema using `$ref` is embedded as its own resource (`$id`), so its internal references still
    resolve; one without is inlined. The hub tools list this one; playbook tools list the compact
    `tool_output_schema`.
    """
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "type": "object",
        "properties": {
            "status": {"enum": ["ok", "error", "running"],
                       "description": "running: the call stopped waiting; the run goes on."},
            "framework": {"type": "string"},
            "entrypoint": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "data": {"anyOf": [{"type": kind} for kind in _JSON_TYPES],
                     "description": "The playbook's result (null unless status is ok)."},
            "execution_id": {"type": "string"},
            "duration": {"type": "number", "description": "Seconds."},
            "error": ERROR_SCHEMA,
        },
        "required": ["status", "framework", "execution_id", "duration"],
        "allOf": [{"if": {"properties": {"status": {"const": "error"}}}, "then": {"required": ["error"]}}],
    }
    _type_data(schema, output, name)
    return schema


def tool_output_schema(output: dict[str, Any] | None = None, *, name: str = "data") -> dict[str, Any]:
    """The `outputSchema` a playbook tool lists: the envelope in its compact form.

    Every tool carrying the full envelope schema (1.2 KB) made a tools/list page 8x the size of a
    bare server's. This form keeps what a client's validation and a model's reading need (an
    object with `status` and `execution_id`, `data` typed by the playbook's `output:` when the
    run succeeded) and leaves the rest to the server's instructions and the README's envelope
    section (the hub tools' schemas carry the full one); every
    envelope the full schema accepts, this one accepts too (the tests hold both to that).
    """
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"status": {"enum": ["ok", "error", "running"]}, "execution_id": {"type": "string"}},
        "required": ["status", "execution_id"],
    }
    _type_data(schema, output, name)
    return schema


def _type_data(schema: dict[str, Any], output: dict[str, Any] | None, name: str) -> None:
    """Add "when status is ok, `data` follows `output`" to an envelope schema (in place)."""
    if output is None:
        return
    data = copy.deepcopy(output)
    data.pop("$schema", None)
    if _has_ref(data):
        data.setdefault("$id", _DATA_ID.format(name=name))
        schema["$defs"] = {"data": data}
        data = {"$ref": data["$id"]}
    schema.setdefault("allOf", []).append({"if": {"properties": {"status": {"const": "ok"}}},
                                           "then": {"properties": {"data": data}}})


def default_description(entry: CatalogEntry) -> str:
    """What a playbook without `description` is described as (some clients, and the conformance
    suite, refuse a tool without one): its title, else a summary of its inputs. E.g.
    "Runs the playbook reports/daily. Inputs: day (string, required), limit (integer)."."""
    if entry.title:
        return entry.title
    schema = entry.input_schema or {}
    required = set(schema.get("required") or [])
    inputs = []
    for name, spec in (schema.get("properties") or {}).items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        kind = "/".join(kind) if isinstance(kind, list) else kind
        facts = ", ".join(f for f in (kind, "required" if name in required else None) if f)
        inputs.append(f"{name} ({facts})" if facts else name)
    summary = f" Inputs: {', '.join(inputs)}." if inputs else " No inputs."
    return f"Runs the playbook {entry.path}.{summary}"


NEEDS_META = "agenthub/client_capabilities"
"""The `_meta` key of a tool listing the client capabilities its playbook needs (elicitation,
sampling, roots), so a client can tell before calling that it will be asked."""


def tool_for_entry(entry: CatalogEntry, needs: frozenset[str] = frozenset()) -> types.Tool:
    """The MCP tool of one exposed playbook; `needs`: the client capabilities its steps need."""
    facts = entry.facts
    annotations = None if facts.annotations is None else types.ToolAnnotations(**facts.annotations)
    return types.Tool(
        name=entry.name,
        title=facts.title or (annotations.title if annotations else None),
        description=facts.description or default_description(entry),
        input_schema=portable(entry.input_schema),
        output_schema=portable(tool_output_schema(entry.output_schema, name=entry.name)),
        annotations=annotations,
        _meta={NEEDS_META: sorted(needs)} if needs else None,
    )


# -- results -----------------------------------------------------------------------------------


def _clip(text: str, limit: int = _TEXT_DATA_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def envelope_text(envelope: Envelope, wait: float | None = None) -> str:
    """A short human rendering of an envelope: status, data or error, execution id."""
    where = envelope.entrypoint or "playbook"
    if envelope.status == "running":
        waited = f" after {wait:g}s" if wait is not None else ""
        return (f"running: {where} is still running{waited} (execution {envelope.execution_id}); "
                "ask hub_execution_status for its result, or hub_cancel_execution to stop it.")
    if envelope.error is not None:
        error = envelope.error
        step = f" in step {error.step.name}" if error.step else ""
        return f"error {error.code}{step}: {error.message} (execution {envelope.execution_id})"
    data = _TEXT_ENCODER.encode(envelope.data)
    return f"ok: {where} in {envelope.duration:.3f}s (execution {envelope.execution_id})\n{_clip(data)}"


def execution_link(execution_id: str) -> types.ResourceLink:
    return types.ResourceLink(
        type="resource_link",
        uri=execution_uri(execution_id),
        name=f"execution-{execution_id}",
        title=f"Execution {execution_id}",
        description="The execution's report: steps, timings, errors, result.",
        mime_type="text/plain",
    )


def envelope_result(envelope: Envelope, wait: float | None = None, *, link: bool = False) -> types.CallToolResult:
    """The `CallToolResult` of a playbook call: the client's view of the envelope (no tracebacks,
    `Envelope.for_client`) as structured content and a short text; `isError` exactly when the
    envelope's status is error.

    A `resource_link` to the execution's report rides along only on a `running` answer (where the
    client needs somewhere to look next) or when the server was asked for links (`link`): some
    clients turn every link into a file block their model then refuses (LangChain's MCP adapters
    with OpenAI), and the execution id is in the structured content anyway.
    """
    # the playbook's own blocks (text, images, audio, resources) first: a client showing only the
    # first block shows the playbook's answer; the hub's summary (status, execution id) follows
    content: list[types.ContentBlock] = result_blocks(envelope.data) if envelope.status == "ok" else []
    content.append(types.TextContent(type="text", text=envelope_text(envelope, wait)))
    if link or envelope.status == "running":
        content.append(execution_link(envelope.execution_id))
    return types.CallToolResult(
        content=content,
        structured_content=envelope.for_client().to_dict(),
        is_error=envelope.status == "error",
    )


def envelope_wire(envelope: Envelope, *, link: bool = False) -> types.CallToolResult | dict[str, Any]:
    """`envelope_result` of a finished run as the wire dict its model would dump to, built
    directly when it holds only the summary text (most calls: no content blocks, no link): the SDK
    checks it against `CallToolResult` all the same, without a model built and dumped first."""
    if link or envelope.status == "running" or (envelope.status == "ok" and result_blocks(envelope.data)):
        return envelope_result(envelope, link=link)
    return {
        "content": [{"type": "text", "text": envelope_text(envelope)}],
        "structuredContent": envelope.for_client().to_dict(),
        "isError": envelope.status == "error",
        "resultType": "complete",
    }
