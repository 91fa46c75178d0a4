"""The store's SQLite schema and the mapping between its rows and the record models."""

from __future__ import annotations

import json
import logging
import reprlib
import sqlite3
from typing import Any

from hub.contract.records import ExecutionRecord, ExecutionStatus

log = logging.getLogger("agenthub.store")

SCHEMA_VERSION = 3
"""1: the first schema. 2: `executions.started_by`. 3: `executions.required_scopes` (JSON list)."""
SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
UNFINISHED = (ExecutionStatus.PENDING.value, ExecutionStatus.RUNNING.value)
MAX_VARS = 500  # ids per `IN (...)` query, well under SQLite's variable limit

SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY,
    parent_id TEXT,
    playbook_path TEXT NOT NULL,
    playbook_version INTEGER,
    playbook_name TEXT,
    status TEXT NOT NULL,
    arguments TEXT NOT NULL DEFAULT '{}',
    depth INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    created_at REAL NOT NULL,
    finished_at REAL,
    envelope TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    started_by TEXT,
    required_scopes TEXT
);
CREATE INDEX IF NOT EXISTS executions_status ON executions(status);
CREATE INDEX IF NOT EXISTS executions_parent ON executions(parent_id);
CREATE TABLE IF NOT EXISTS events (
    execution_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at REAL NOT NULL,
    step TEXT,
    data TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (execution_id, seq)
);
"""

EXECUTION_COLUMNS = (
    "id, parent_id, playbook_path, playbook_version, playbook_name, status, arguments, depth, "
    "owner, created_at, finished_at, envelope, cancel_requested, started_by, required_scopes"
)


_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"))
"""What `json.dumps(value, default=str, separators=...)` would build for every call (it keeps no
state between calls); built once, it saves a tenth of a short run's store writes."""


def dumps(value: Any) -> str:
    """JSON text that never fails: odd values become strings, unencodable ones their repr."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError, RecursionError) as exc:  # circular, too deep, huge integers
        # the engine refuses such values at its boundaries; this keeps one that slips through
        # from failing the write (and with it the batch, and the execution's end)
        log.warning("storing a placeholder for an unencodable value: %s", type(exc).__name__)
        return json.dumps({"unencodable": _bounded_repr(value)})


def _bounded_repr(value: Any) -> str:
    """A short repr that survives cycles, deep nesting and huge integers."""
    try:
        return reprlib.repr(value)
    except Exception:  # noqa: BLE001 - any repr failure: the type is enough
        return f"<{type(value).__name__}>"


def execution_from_row(row: sqlite3.Row) -> ExecutionRecord:
    return ExecutionRecord(
        id=row["id"],
        parent_id=row["parent_id"],
        playbook_path=row["playbook_path"],
        playbook_version=row["playbook_version"],
        playbook_name=row["playbook_name"],
        status=ExecutionStatus(row["status"]),
        arguments=json.loads(row["arguments"]) if row["arguments"] else {},
        depth=row["depth"],
        owner=row["owner"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        envelope=json.loads(row["envelope"]) if row["envelope"] else None,
        cancel_requested=bool(row["cancel_requested"]),
        started_by=row["started_by"],
        required_scopes=json.loads(row["required_scopes"]) if row["required_scopes"] else None,
    )


MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE executions ADD COLUMN started_by TEXT",),
    2: ("ALTER TABLE executions ADD COLUMN required_scopes TEXT",),
}
"""The statements that bring a database of schema N to N + 1 (applied in order)."""
