"""Directory watching for the catalog: a stdlib polling watcher over the playbook files.

Polling (mtime, size and inode of every `*.yaml`/`*.yml` under the root, every ~0.25 s) rather
than inotify/FSEvents: it has no dependency, behaves the same on every OS and on network or
container mounts, and a catalog is small enough that a scan costs well under a millisecond per
file. A change is reported once the directory has settled (two scans agree), so an editor's
write-then-rename or a `cp` of many files gives one reload rather than several half-done ones.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

PLAYBOOK_SUFFIXES = (".yaml", ".yml")
DEFAULT_INTERVAL = 0.25
MAX_SETTLE_ROUNDS = 3
"""A directory still changing after this many extra scans is reported anyway (live within ~1 s)."""

Fingerprint = dict[str, tuple[int, int, int]]


def fingerprint(root: Path) -> Fingerprint:
    """(mtime_ns, size, inode) of every playbook file under root, hidden files and folders skipped,
    keyed by the path relative to root; empty when root does not exist."""
    found: Fingerprint = {}
    if not root.is_dir():
        return found
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith(".") or not name.endswith(PLAYBOOK_SUFFIXES):
                continue
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except OSError:  # removed between the listing and the stat
                continue
            found[os.path.relpath(path, root)] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    return found


def changed_files(before: Fingerprint, after: Fingerprint) -> set[str]:
    """Relative paths added, removed or modified between two fingerprints."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


class DirectoryWatcher:
    """Polls a catalog directory; `changes()` yields the set of changed files after each change."""

    def __init__(self, root: str | Path, *, interval: float = DEFAULT_INTERVAL) -> None:
        self.root = Path(root)
        self.interval = interval

    async def scan(self) -> Fingerprint:
        return await asyncio.to_thread(fingerprint, self.root)

    async def changes(self, baseline: Fingerprint | None = None) -> AsyncIterator[set[str]]:
        """Yield changed relative paths whenever the directory changed and settled; runs until
        cancelled. The first scan (or `baseline`) is the reference, so nothing is yielded for
        files that were already there."""
        current = baseline if baseline is not None else await self.scan()
        while True:
            await asyncio.sleep(self.interval)
            latest = await self.scan()
            if latest == current:
                continue
            for _ in range(MAX_SETTLE_ROUNDS):
                await asyncio.sleep(self.interval)
                again = await self.scan()
                if again == latest:
                    break
                latest = again
            changed = changed_files(current, latest)
            current = latest
            if changed:
                yield changed
