"""Opening the hub's SQLite file the same way everywhere: WAL, a busy timeout, retried set-up.

Several processes open the one database at once (a server, `agenthub run`, `agenthub executions
show`). Switching to WAL takes a lock that SQLite does not always wait for through the busy
handler (the first opener may be mid-recovery), so the set-up is retried for a while instead of
failing with "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
import time

BUSY_TIMEOUT_MS = 5000
_SETUP_RETRY_SECONDS = 10.0


def connect(path: str | os.PathLike[str], *, wal: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (explicit BEGIN), usable from any one thread at a time."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if wal:
            _retry_locked(lambda: _ensure_wal(conn))
    except BaseException:
        conn.close()
        raise
    return conn


def _ensure_wal(conn: sqlite3.Connection) -> None:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if str(mode).lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")


def _retry_locked(action: object) -> None:
    deadline = time.monotonic() + _SETUP_RETRY_SECONDS
    delay = 0.01
    while True:
        try:
            action()  # type: ignore[operator]
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
