"""Request and response shapes of the REST API (`/api`), as pydantic models.

They are the single source of the OpenAPI document (`hub.http.openapi`) and of the handlers' parsing
(`hub.http.rest`), so the document cannot drift from what the server does. Query models are
strict (`extra="forbid"`): a misspelt filter is a 422, not a silently wider answer.

Error bodies, two shapes:
* `ApiErrorBody` (`{"error": {"code", "message", "details"}}`) for everything the API itself
  refuses (unknown route or id, bad query or body, body too large, wrong content type).
* `AuthErrorBody` (`{"error", "error_description"}`, RFC 6750) for 401 and 403, which MCP and REST
  share (the SDK's bearer middleware answers 401 on both).
A run's own failure is never one of these: it is an `Envelope` with `status: "error"`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from catalog.entries import CatalogEntry
from hub.contract.envelope import Envelope
from hub.contract.records import EventRecord, ExecutionRecord, ExecutionStatus

MAX_VERSION = 2**31 - 1
"""Catalog versions and event numbers are bounded here, at the edge, so an oversized number is a
422 naming the field rather than an integer overflow deeper down (SQLite integers are 64-bit)."""
MAX_SEQ = 2**63 - 1
MAX_TIMEOUT = 366 * 24 * 3600.0
"""A year: deadlines beyond it are refused rather than overflowing the event loop's clock."""

API_ERROR_CODES: dict[str, str] = {
    "NOT_FOUND": "No such route, catalog entry or execution.",
    "METHOD_NOT_ALLOWED": "The route exists but not for this HTTP method.",
    "REQUEST_MALFORMED": "The body is not JSON.",
    "REQUEST_INVALID": "The query or body does not match the endpoint's schema (`details.errors`).",
    "UNSUPPORTED_MEDIA_TYPE": "A body was sent without `Content-Type: application/json`.",
    "PAYLOAD_TOO_LARGE": "The body is over the server's request size limit.",
    "ALREADY_FINISHED": "Cancel of an execution that has already finished (`details.status`).",
    "HOST_NOT_ALLOWED": "DNS-rebinding protection: the Host header is not one this hub serves.",
    "ORIGIN_NOT_ALLOWED": "DNS-rebinding protection: the Origin header is not allowed.",
    "INTERNAL_ERROR": "A bug in the hub; the message says what. Please report it.",
}
"""The `code`s of `ApiErrorBody`; documented in the OpenAPI document too."""


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors --------------------------------------------------------------------------------------


class ApiErrorInfo(Model):
    code: str = Field(description="One of: " + ", ".join(API_ERROR_CODES) + ".")
    message: str
    details: dict[str, Any] | None = None


class ApiErrorBody(Model):
    """What the API answers when it refuses a request itself (not a run's failure)."""

    error: ApiErrorInfo


class AuthErrorBody(Model):
    """RFC 6750 bearer-token error (401 and 403), shared with the MCP endpoint."""

    model_config = ConfigDict(extra="allow")

    error: Literal["invalid_token", "insufficient_scope", "invalid_request"]
    error_description: str
    scope: str | None = Field(default=None, description="On 403: the scopes the call needs.")


# -- health --------------------------------------------------------------------------------------


class Health(Model):
    status: Literal["ok"] = "ok"


class Readiness(Model):
    status: Literal["ready", "starting", "unavailable"]
    playbooks: int = Field(description="Catalog entries served.")
    problems: int = Field(description="Catalog files with problems (not served, or an older version served).")
    running: int = Field(description="Executions running in this process.")
    sessions: int = Field(default=0, description="2025-era MCP sessions this process keeps for notifications.")
    detail: str | None = None


# -- catalog -------------------------------------------------------------------------------------


class DiscoveryQuery(Model):
    """Discovery filters of the agents list (all given filters must match)."""

    capability: list[str] = Field(
        default_factory=list, description="Any of these capabilities (repeatable, or comma-separated)."
    )
    capabilities_all: list[str] = Field(
        default_factory=list, description="All of these capabilities (repeatable, or comma-separated)."
    )
    tag: list[str] = Field(default_factory=list, description="All of these tags (repeatable, or comma-separated).")
    q: str | None = Field(
        default=None, description="Text: every word appears in name, path, title, description, capabilities or tags."
    )
    limit: int = Field(default=50, ge=1, le=500, description="Page size.")
    cursor: str | None = Field(default=None, description="`next_cursor` of the previous page.")


class CatalogQuery(DiscoveryQuery):
    """Discovery filters of the catalog list."""

    kind: str | None = Field(default=None, description='Entry kind, e.g. "Playbook".')
    agent: bool | None = Field(default=None, description="Only agents (true) or only non-agents (false).")


class EntryQuery(Model):
    version: int | None = Field(default=None, ge=1, le=MAX_VERSION,
                                description="A catalog version; default the served one.")


class StepSummary(Model):
    step: str
    kind: str


class CatalogEntrySummary(Model):
    path: str = Field(description="Catalog id.")
    version: int
    name: str = Field(description="The MCP tool name.")
    kind: str
    title: str | None = None
    description: str | None = None
    agent: bool
    capabilities: list[str]
    tags: list[str]
    scopes: list[str] = Field(description="Scopes a caller needs to run it.")
    expose: bool = Field(description="Listed as an MCP tool.")

    @classmethod
    def of(cls, entry: CatalogEntry) -> CatalogEntrySummary:
        return CatalogEntrySummary(
            path=entry.path, version=entry.version, name=entry.name, kind=entry.kind, title=entry.title,
            description=entry.description, agent=entry.agent, capabilities=entry.capabilities,
            tags=entry.tags, scopes=entry.scopes, expose=entry.expose,
        )


class CatalogEntryDetail(CatalogEntrySummary):
    versions: list[int] = Field(description="Every version the ledger knows for this path.")
    input_schema: dict[str, Any] = Field(description="JSON Schema 2020-12 of the arguments.")
    output_schema: dict[str, Any] | None = Field(default=None, description="JSON Schema of the result, if declared.")
    annotations: dict[str, Any] | None = Field(default=None, description="MCP tool hints.")
    steps: list[StepSummary]


class CatalogPage(Model):
    items: list[CatalogEntrySummary]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null at the end.")
    total: int = Field(description="Entries matching the filters, over all pages.")


# -- executions ----------------------------------------------------------------------------------


class ExecuteRequest(Model):
    """Run a playbook. `timeout` bounds the run itself; `wait_timeout` only how long this request waits."""

    playbook: str = Field(min_length=1, description="Catalog path, tool name, or `path@version`.")
    arguments: dict[str, Any] = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1, le=MAX_VERSION, description="Run this catalog version.")
    wait: bool = Field(default=True, description="Wait for the end (up to `wait_timeout`); false answers 202 at once.")
    timeout: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT, description="The execution's deadline, seconds.")
    wait_timeout: float | None = Field(
        default=None, gt=0, le=3600,
        description="Seconds to wait before answering 202 with a running envelope; default the hub's call timeout.",
    )


class ExecutionsQuery(Model):
    status: ExecutionStatus | None = None
    parent_id: str | None = Field(default=None, description="Only sub-runs of this execution.")
    limit: int = Field(default=50, ge=1, le=500)
    before: str | None = Field(default=None, description="`next_before` of the previous page (an execution id).")


class ExecutionSummary(Model):
    id: str
    parent_id: str | None = None
    playbook_path: str
    playbook_version: int | None = None
    playbook_name: str | None = None
    status: ExecutionStatus
    depth: int
    created_at: float = Field(description="Unix seconds.")
    finished_at: float | None = None
    cancel_requested: bool
    started_by: str | None = Field(default=None, description="Subject of the token that started it (auth on).")

    @classmethod
    def of(cls, record: ExecutionRecord) -> ExecutionSummary:
        return ExecutionSummary.model_validate(record.model_dump(include=set(ExecutionSummary.model_fields)))


class ExecutionDetail(ExecutionSummary):
    arguments: dict[str, Any] = Field(description="As run, secrets redacted.")
    envelope: Envelope = Field(description="The final envelope, or a running one.")


class ExecutionPage(Model):
    items: list[ExecutionSummary]
    next_before: str | None = Field(default=None, description="Pass as `before` for the next page; null at the end.")


class EventsQuery(Model):
    after_seq: int = Field(default=0, ge=0, le=MAX_SEQ, description="Only events with a greater `seq`.")
    limit: int = Field(default=200, ge=1, le=1000)


class Event(Model):
    seq: int
    type: str = Field(description="execution.started, step.started, step.finished, step.failed, ...")
    at: float = Field(description="Unix seconds.")
    step: str | None = None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: EventRecord) -> Event:
        return cls(seq=event.seq, type=event.type, at=event.at, step=event.step, data=event.data)


class EventPage(Model):
    execution_id: str
    items: list[Event]
    next_after_seq: int = Field(description="Pass as `after_seq` to follow the execution.")
    finished: bool = Field(description="The execution has ended and this page reaches its last event.")


class CancelQuery(Model):
    wait: float = Field(default=5.0, ge=0, le=60, description="Seconds to wait for the run to stop.")
