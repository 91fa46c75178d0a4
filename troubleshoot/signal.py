"""The failure signal: what a failed execution looked like, small and safe to send to a model.

Built from the stored envelope and events (never from live objects), so the hook, the CLI's
`diagnose`, the REST and MCP tools and the evaluation corpus all see the same thing. When the
failure came from a sub-run (`PLAYBOOK_FAILED`), the signal follows `child_execution_id` down to
the run where it really happened: the root step, its code and its traceback are what explain it;
the chain of outer runs is kept beside them.

Bounded on purpose: a 2B local model's context is small and every token sent to a cloud model
costs; the signal is at most `MAX_SIGNAL_CHARS` of JSON (oldest events go first, then the
traceback and the message are shortened). Every string in it has been through the `Scrubber`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from hub.contract.records import EventRecord, ExecutionRecord
from hub.contract.store import EventStore
from troubleshoot.redaction import Scrubber

MAX_SIGNAL_CHARS = 6000
MAX_MESSAGE = 800
MAX_LINE = 240
MAX_TRACEBACK_LINES = 10
MAX_EVENTS = 12
MAX_CHAIN = 16
_EVENT_PAGE = 500
_EXCEPTION_AT_START = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Exit|Interrupt|Refused|Reset))\b:?")
_HTTP_CODE = re.compile(r"^HTTP_STATUS_(\d{3})$")


class EventBrief(BaseModel):
    """One event, as much as a diagnosis needs."""

    seq: int
    type: str
    step: str | None = None
    kind: str | None = None
    attempt: int | None = None
    code: str | None = None
    message: str | None = None


class ChainLink(BaseModel):
    """One run on the way from the diagnosed execution down to the one that really failed."""

    execution_id: str
    playbook: str | None = None
    step: str | None = None
    code: str | None = None


class FailureSignal(BaseModel):
    """The facts of one failure (redacted, bounded). Field names are what the prompt shows."""

    execution_id: str
    playbook: str | None = None
    status: str | None = Field(default=None, description="failed | timed_out | cancelled")
    failed_step: str | None = None
    tool_kind: str | None = None
    framework: str | None = None
    error_kind: str
    error_code: str
    error_message: str
    retryable: bool = False
    http_status: int | None = None
    exception_type: str | None = None
    traceback_tail: list[str] = Field(default_factory=list)
    body_excerpt: str | None = None
    attempts: int | None = Field(default=None, description="Attempts of the failed step (retries + 1).")
    chain: list[ChainLink] = Field(
        default_factory=list, description="Outer runs down to the root failure, when it came from a sub-run."
    )
    last_events: list[EventBrief] = Field(default_factory=list)

    def prompt_json(self) -> str:
        """Compact JSON for a prompt: empty fields left out."""
        return json.dumps(self.model_dump(mode="json", exclude_none=True, exclude_defaults=True), ensure_ascii=False)


def _clip(text: Any, limit: int) -> str | None:
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _brief(event: EventRecord) -> EventBrief:
    data = event.data or {}
    error = data.get("error") if isinstance(data.get("error"), dict) else {}
    return EventBrief(
        seq=event.seq, type=event.type, step=event.step, kind=data.get("kind"),
        attempt=data.get("attempt"), code=error.get("code"), message=_clip(error.get("message"), 160),
    )


def signal_from(
    envelope: Mapping[str, Any],
    events: Sequence[EventRecord],
    *,
    playbook: str | None = None,
    status: str | None = None,
    scrubber: Scrubber | None = None,
    chain: Sequence[ChainLink] = (),
    execution_id: str | None = None,
) -> FailureSignal:
    """The signal of one failed run from its envelope (a dict, as stored) and its events."""
    error = envelope.get("error") or {}
    details = error.get("details") or {}
    step = error.get("step") or {}
    step_name = step.get("name")
    code = str(error.get("code") or "UNKNOWN")
    message = str(error.get("message") or "")
    http_status = details.get("http_status")
    if not isinstance(http_status, int):
        match = _HTTP_CODE.match(code)
        http_status = int(match.group(1)) if match else None
    exception_type = details.get("exception_type")
    if not exception_type:
        match = _EXCEPTION_AT_START.match(message)
        exception_type = match.group(1) if match else None
    traceback = details.get("traceback") or []
    if isinstance(traceback, str):
        traceback = traceback.splitlines()
    counted = ("step.started", "step.failed", "step.retried")
    attempts = max(
        ((e.data or {}).get("attempt") or 1 for e in events if e.step == step_name and e.type in counted),
        default=None,
    )
    signal = FailureSignal(
        execution_id=execution_id or str(envelope.get("execution_id") or ""),
        playbook=playbook or envelope.get("entrypoint"),
        status=status,
        failed_step=step_name,
        tool_kind=step.get("kind"),
        framework=details.get("framework") or step.get("kind"),
        error_kind=str(error.get("kind") or "agent.execution"),
        error_code=code,
        error_message=_clip(message, MAX_MESSAGE) or "",
        retryable=bool(error.get("retryable")),
        http_status=http_status,
        exception_type=exception_type,
        traceback_tail=[_clip(line, MAX_LINE) or "" for line in list(traceback)[-MAX_TRACEBACK_LINES:]],
        body_excerpt=_clip(details.get("body_excerpt"), 300),
        attempts=attempts,
        chain=list(chain),
        last_events=[_brief(e) for e in list(events)[-MAX_EVENTS:]],
    )
    return bound(scrub(signal, scrubber or Scrubber()))


def scrub(signal: FailureSignal, scrubber: Scrubber) -> FailureSignal:
    """The same signal with every string scrubbed (values by name, then token shapes)."""
    return FailureSignal.model_validate(scrubber(signal.model_dump(mode="json")))


def bound(signal: FailureSignal, limit: int = MAX_SIGNAL_CHARS) -> FailureSignal:
    """Shrink until the prompt JSON fits: oldest events first, then traceback, then the message."""
    signal = signal.model_copy(deep=True)
    while len(signal.prompt_json()) > limit and signal.last_events:
        signal.last_events.pop(0)
    while len(signal.prompt_json()) > limit and len(signal.traceback_tail) > 2:
        signal.traceback_tail.pop(0)
    overflow = len(signal.prompt_json()) - limit
    if overflow > 0:
        keep = max(len(signal.error_message) - overflow - 3, 80)
        signal.error_message = signal.error_message[:keep] + "..."
        signal.body_excerpt = None
    return signal


async def _tail_events(store: EventStore, execution_id: str, keep: int) -> list[EventRecord]:
    """The last `keep` events plus every event of failed/retried steps, paging so a run with many
    thousand events is never loaded whole."""
    tail: list[EventRecord] = []
    after = 0
    while True:
        page = await store.events(execution_id, after_seq=after, limit=_EVENT_PAGE)
        if not page:
            break
        tail = (tail + page)[-max(keep, _EVENT_PAGE) :]
        after = page[-1].seq
        if len(page) < _EVENT_PAGE:
            break
    return tail


async def collect_signal(
    store: EventStore,
    record: ExecutionRecord,
    envelope: Mapping[str, Any] | None = None,
    *,
    status: str | None = None,
    scrubber: Scrubber | None = None,
) -> FailureSignal:
    """The signal of a stored failed execution, following sub-runs down to the root failure.

    `envelope` overrides the stored one (the hook runs before the envelope is stored). Call
    `store.flush()` first when events may still be queued."""
    current = dict(envelope if envelope is not None else (record.envelope or {}))
    current_record = record
    chain: list[ChainLink] = []
    for _ in range(MAX_CHAIN):
        error = current.get("error") or {}
        child_id = (error.get("details") or {}).get("child_execution_id")
        if not child_id:
            break
        child = await store.get(str(child_id))
        if child is None or not child.envelope or not (child.envelope.get("error")):
            break
        chain.append(_link(current_record, current))
        current_record, current = child, dict(child.envelope)
    if chain:
        chain.append(_link(current_record, current))
    events = await _tail_events(store, current_record.id, MAX_EVENTS)
    return signal_from(
        current, events, playbook=current_record.playbook_path, scrubber=scrubber, chain=chain,
        status=status if current_record is record and status else _status(current_record),
        execution_id=record.id,
    )


def _status(record: ExecutionRecord) -> str | None:
    return record.status.value if record.status.finished else None


def _link(record: ExecutionRecord, envelope: Mapping[str, Any]) -> ChainLink:
    error = envelope.get("error") or {}
    return ChainLink(
        execution_id=record.id, playbook=record.playbook_path,
        step=(error.get("step") or {}).get("name"), code=error.get("code"),
    )
