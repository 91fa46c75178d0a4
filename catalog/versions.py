"""Version ledgers: each distinct content of a catalog path gets a version number, for good.

The catalog asks its ledger for the number of every file it loads; pins (`path@3`) look the old
content up here. `MemoryLedger` lives as long as the process; the hub passes a durable ledger
(`hub.store.sqlite_ledger.SqliteLedger`) so numbers survive restarts.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Protocol


def digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


class VersionLedger(Protocol):
    def record(self, path: str, content: str) -> int:
        """The version of this content of `path`: the known number, or max + 1 for new content."""

    def record_many(self, items: Sequence[tuple[str, str]]) -> list[int]:
        """`record()` for many (path, content) pairs at once, in order: one transaction for a whole
        catalog load instead of one per file (10,000 commits is most of a cold start-up)."""

    def content(self, path: str, version: int) -> str | None:
        """The content recorded as `path@version`, or None."""

    def versions(self, path: str) -> list[int]:
        """Every version number recorded for `path`, ascending."""


class MemoryLedger:
    """A process-local ledger (tests, one-off `catalog validate`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: dict[str, dict[str, int]] = {}
        self._content: dict[tuple[str, int], str] = {}

    def record(self, path: str, content: str) -> int:
        key = digest(content)
        with self._lock:
            known = self._by_path.setdefault(path, {})
            if key not in known:
                known[key] = len(known) + 1
                self._content[(path, known[key])] = content
            return known[key]

    def record_many(self, items: Sequence[tuple[str, str]]) -> list[int]:
        return [self.record(path, content) for path, content in items]

    def content(self, path: str, version: int) -> str | None:
        return self._content.get((path, version))

    def versions(self, path: str) -> list[int]:
        return sorted(self._by_path.get(path, {}).values())
