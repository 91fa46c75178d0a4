"""Readable reports of executions for the terminal: one execution's steps, timings, errors, result."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from hub.contract.records import EventRecord, ExecutionRecord


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) + f".{int(ts % 1 * 1000):03d}"


def _json(value: Any, limit: int = 2000) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more characters)"


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


@dataclass
class StepRow:
    step: str
    kind: str
    iteration: int | None
    attempt: int
    status: str = "running"
    duration: float | None = None
    note: str = ""


def step_rows(events: list[EventRecord]) -> list[StepRow]:
    """One row per step attempt (per loop item), in the order they started."""
    rows: dict[tuple[str, Any, Any], StepRow] = {}
    for event in events:
        data = event.data
        key = (event.step or "", data.get("iteration"), data.get("attempt", 1))
        if event.type == "step.started":
            rows[key] = StepRow(event.step or "", data.get("kind", ""), data.get("iteration"), data.get("attempt", 1))
            continue
        row = rows.get(key)
        if row is None:
            if event.type != "step.failed":
                continue
            row = rows[key] = StepRow(event.step or "", data.get("kind", ""), data.get("iteration"), data.get("attempt", 1))
        error = data.get("error") or {}
        if event.type == "step.finished":
            row.status, row.duration = "ok", data.get("duration")
            if "child_execution_id" in data:
                row.note = f"sub-run {data['child_execution_id']}"
        elif event.type == "step.retried":
            row.status = "retried"
            row.note = f"{error.get('code', '')}; retry in {data.get('delay', 0):g}s"
        elif event.type == "step.failed":
            row.status, row.duration = "failed", data.get("duration")
            row.note = f"{error.get('code', '')}: {error.get('message', '')}"
    return list(rows.values())


def execution_report(record: ExecutionRecord, events: list[EventRecord], children: list[ExecutionRecord]) -> str:
    envelope = record.envelope or {}
    version = f"@{record.playbook_version}" if record.playbook_version else ""
    took = envelope.get("duration")
    lines = [
        f"Execution {record.id}",
        f"  playbook:   {record.playbook_path}{version}" + (f" ({record.playbook_name})" if record.playbook_name else ""),
        f"  status:     {record.status.value}" + (f" in {took:.3f}s" if isinstance(took, (int, float)) else ""),
        f"  started:    {_when(record.created_at)}",
        f"  finished:   {_when(record.finished_at)}",
    ]
    if record.parent_id:
        lines.append(f"  parent:     {record.parent_id}")
    if record.started_by:
        lines.append(f"  started by: {record.started_by}")
    if record.cancel_requested:
        lines.append("  cancel:     requested")
    lines.append(f"  arguments:  {json.dumps(record.arguments, ensure_ascii=False, default=str)}")
    rows = step_rows(events)
    lines += ["", f"Steps ({len(rows)} attempts, {len(events)} events)"]
    if rows:
        width = max(len(_row_name(r)) for r in rows)
        for row in rows:
            took_text = f"{row.duration:.3f}s" if isinstance(row.duration, (int, float)) else "-"
            attempt = f"try {row.attempt}" if row.attempt > 1 else ""
            lines.append(
                f"  {_row_name(row):<{width}}  {row.kind:<9} {row.status:<8} {took_text:>9}  {attempt:<6} {row.note}".rstrip()
            )
    else:
        lines.append("  (no steps ran)")
    if children:
        lines += ["", "Sub-executions"]
        lines += [f"  {c.id}  {c.playbook_path}  {c.status.value}" for c in children]
    error = envelope.get("error")
    if error:
        lines += ["", "Error"]
        retry = " (retryable)" if error.get("retryable") else ""
        lines.append(f"  {error.get('code')} [{error.get('kind')}]{retry}")
        lines.append(_indent(str(error.get("message", "")), "  "))
        if error.get("step"):
            lines.append(f"  in step {error['step'].get('name')} ({error['step'].get('kind')})")
        if error.get("diagnosis"):
            lines += ["  diagnosis:", _indent(_json(error["diagnosis"]), "    ")]
    elif record.envelope is not None:
        lines += ["", "Result", _indent(_json(envelope.get("data")))]
    return "\n".join(lines)


def _row_name(row: StepRow) -> str:
    return row.step if row.iteration is None else f"{row.step}[{row.iteration}]"


def executions_table(records: list[ExecutionRecord]) -> str:
    if not records:
        return "no executions"
    lines = [f"{'ID':<36}  {'STATUS':<10}  {'STARTED':<23}  PLAYBOOK"]
    for r in records:
        version = f"@{r.playbook_version}" if r.playbook_version else ""
        lines.append(f"{r.id:<36}  {r.status.value:<10}  {_when(r.created_at):<23}  {r.playbook_path}{version}")
    return "\n".join(lines)
