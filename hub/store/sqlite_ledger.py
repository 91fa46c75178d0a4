"""The durable version ledger: playbook version numbers that survive restarts.

It lives in the store's SQLite file, on its own connection (the catalog loads in a worker thread,
apart from the store's writer). Two processes may load the catalog at once, so a new number is
taken under `BEGIN IMMEDIATE`: the write lock is held from reading max(version) to inserting
max + 1, and the loser of a race re-reads and finds the winner's row. A catalog load records all
its new contents in one such transaction (`record_many`), not one commit per file.

The same file keeps the catalog's parse cache (`catalog.parse_cache`): checked documents by a key
of their content, so a restart loads them back instead of parsing every file again.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from catalog.versions import digest
from hub.store.sqlite_connect import connect


_SCHEMA = """
CREATE TABLE IF NOT EXISTS playbook_versions (
    path TEXT NOT NULL,
    version INTEGER NOT NULL,
    digest TEXT NOT NULL,
    content TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (path, version),
    UNIQUE (path, digest)
);
CREATE TABLE IF NOT EXISTS parsed_documents (
    key TEXT PRIMARY KEY,
    blob BLOB NOT NULL
)
"""
_KEYS_PER_QUERY = 500


class SqliteLedger:
    """`catalog.versions.VersionLedger` on SQLite; synchronous and safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = connect(self.path)
        try:
            self._conn.executescript(_SCHEMA)
        except BaseException:
            self._conn.close()
            raise

    def record(self, path: str, content: str) -> int:
        return self.record_many([(path, content)])[0]

    def record_many(self, items: Sequence[tuple[str, str]]) -> list[int]:
        keyed = [(path, digest(content), content) for path, content in items]
        with self._lock:
            conn = self._open()
            known = self._known_versions(conn, [path for path, _, _ in keyed])
            versions = [known.get((path, key)) for path, key, _ in keyed]
            if all(v is not None for v in versions):
                return versions  # type: ignore[return-value]
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                for i, (path, key, content) in enumerate(keyed):
                    if versions[i] is not None:
                        continue
                    known = self._known(conn, path, key)  # another process may have won the race
                    if known is None:
                        (known,) = conn.execute(
                            "SELECT COALESCE(MAX(version), 0) + 1 FROM playbook_versions WHERE path = ?",
                            (path,),
                        ).fetchone()
                        conn.execute(
                            "INSERT INTO playbook_versions (path, version, digest, content, recorded_at) "
                            "VALUES (?, ?, ?, ?, ?)",
                            (path, known, key, content, now),
                        )
                    versions[i] = known
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return versions  # type: ignore[return-value]

    def content(self, path: str, version: int) -> str | None:
        with self._lock:
            row = self._open().execute(
                "SELECT content FROM playbook_versions WHERE path = ? AND version = ?", (path, version)
            ).fetchone()
        return None if row is None else row[0]

    def versions(self, path: str) -> list[int]:
        with self._lock:
            rows = self._open().execute(
                "SELECT version FROM playbook_versions WHERE path = ? ORDER BY version", (path,)
            ).fetchall()
        return [r[0] for r in rows]

    def cached_parses(self, keys: Sequence[str]) -> dict[str, bytes]:
        """`catalog.parse_cache.ParseCache`: the checked documents stored under these keys."""
        found: dict[str, bytes] = {}
        with self._lock:
            conn = self._open()
            for i in range(0, len(keys), _KEYS_PER_QUERY):
                chunk = list(keys[i:i + _KEYS_PER_QUERY])
                rows = conn.execute(
                    f"SELECT key, blob FROM parsed_documents WHERE key IN ({', '.join('?' * len(chunk))})", chunk
                ).fetchall()
                found.update((key, bytes(blob)) for key, blob in rows)
        return found

    def cache_parses(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Store checked documents in one transaction (a key already there is kept)."""
        with self._lock:
            conn = self._open()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT OR IGNORE INTO parsed_documents (key, blob) VALUES (?, ?)", items)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Release the connection; idempotent."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SqliteLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the ledger is closed")
        return self._conn

    @staticmethod
    def _known_versions(conn: sqlite3.Connection, paths: Sequence[str]) -> dict[tuple[str, str], int]:
        """(path, digest) -> version of every content recorded for these paths, a query per 500
        paths (a restart of 10,000 files asked 10,000 times)."""
        unique = list(dict.fromkeys(paths))
        found: dict[tuple[str, str], int] = {}
        for i in range(0, len(unique), _KEYS_PER_QUERY):
            chunk = unique[i:i + _KEYS_PER_QUERY]
            rows = conn.execute(
                f"SELECT path, digest, version FROM playbook_versions WHERE path IN ({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            found.update(((path, key), version) for path, key, version in rows)
        return found

    @staticmethod
    def _known(conn: sqlite3.Connection, path: str, key: str) -> int | None:
        row = conn.execute(
            "SELECT version FROM playbook_versions WHERE path = ? AND digest = ?", (path, key)
        ).fetchone()
        return None if row is None else row[0]
