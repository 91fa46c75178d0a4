"""Directory watching for the catalog: OS file events by default, polling where events fail.

Two peers with one method, `changes()`, an async iterator of the sets of changed playbook files
(paths relative to the root):

* `EventWatcher` (the default) asks the OS (inotify, FSEvents, ReadDirectoryChangesW, through the
  `watchfiles` package): nothing runs while nothing changes, so a 10,000-file catalog costs no CPU
  when idle, and an edit is seen within ~50 ms of the last write of a burst (a `cp` of many files
  or an editor's write-then-rename gives one reload).
* `PollingWatcher` compares (mtime, size, inode) of every `*.yaml`/`*.yml` under the root every
  ~0.25 s; for network and container mounts where file events do not arrive (`--watch poll`).

Both report a change once the directory has settled, and both cope with the root not existing yet.
When the OS refuses the event watch (the inotify watch limit, an unsupported file system), the
`EventWatcher` says so once in the log and polls from then on, rather than retrying in a loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

PLAYBOOK_SUFFIXES = (".yaml", ".yml")
DEFAULT_INTERVAL = 0.25
MAX_SETTLE_ROUNDS = 3
"""A directory still changing after this many extra scans is reported anyway (live within ~1 s)."""

Fingerprint = dict[str, tuple[int, int, int]]

log = logging.getLogger("agenthub.catalog")


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


class PollingWatcher:
    """Polls a catalog directory; `changes()` yields the set of changed files after each change."""

    def __init__(self, root: str | Path, *, interval: float = DEFAULT_INTERVAL,
                 on_watching: Callable[[], None] | None = None) -> None:
        self.root = Path(root)
        self.interval = interval
        self.on_watching = on_watching or _nothing
        """Called once the reference scan is taken: a change from then on is reported."""

    async def scan(self) -> Fingerprint:
        return await asyncio.to_thread(fingerprint, self.root)

    async def changes(self, baseline: Fingerprint | None = None) -> AsyncIterator[set[str]]:
        """Yield changed relative paths whenever the directory changed and settled; runs until
        cancelled. The first scan (or `baseline`) is the reference, so nothing is yielded for
        files that were already there."""
        current = baseline if baseline is not None else await self.scan()
        self.on_watching()
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


EVENT_STEP_MS = 50
"""A burst of file events ends after this long without a new one."""
EVENT_DEBOUNCE_MS = 800
"""A directory still changing after this long is reported anyway (live within ~1 s)."""
EVENT_IDLE_TIMEOUT_MS = 5_000
"""The watch thread looks again after this long without an event (watchfiles' own default)."""


class EventWatcher:
    """Watches a catalog directory with OS file events; see the module docstring.

    The OS watch runs in a thread that `watchfiles` waits on without letting a cancellation in, so
    it runs in a task of its own, and a consumer that stops (cancelled or closed) sets the watch's
    stop event: the thread ends within `EVENT_STEP_MS` instead of at its next `idle_timeout_ms`
    (which kept `agenthub serve`, `stdio` and `worker` from exiting for up to 5 s)."""

    def __init__(self, root: str | Path, *, interval: float = DEFAULT_INTERVAL,
                 idle_timeout_ms: int = EVENT_IDLE_TIMEOUT_MS, on_watching: Callable[[], None] | None = None) -> None:
        self.root = Path(root)
        self.interval = interval
        """How often to look for the root while it does not exist."""
        self.idle_timeout_ms = idle_timeout_ms
        """How long the watch thread waits for an event before it looks again."""
        self.watch_tasks: set[asyncio.Task[None]] = set()
        """The running OS watches (a task is only weakly held by the event loop)."""
        self.on_watching = on_watching or _nothing
        """Called once the OS watch is live (a change from then on is reported), or when it cannot
        be: the root is missing (its creation is reported), or the OS refused the watch and the
        polling that replaces it has taken its reference scan."""
        self.fallback_interval = max(interval, DEFAULT_INTERVAL)
        """How often to poll once the OS has refused the event watch."""

    def _wanted(self, _change: object, path: str) -> bool:
        """Playbook files, and suffix-less paths (a removed folder); nothing hidden."""
        relative = os.path.relpath(path, self.root)
        if any(part.startswith(".") for part in Path(relative).parts):
            return False
        return path.endswith(PLAYBOOK_SUFFIXES) or not os.path.splitext(path)[1]

    async def changes(self, baseline: Fingerprint | None = None) -> AsyncIterator[set[str]]:
        """Yield changed relative paths after each settled burst of events; runs until cancelled.
        `baseline` is accepted for symmetry with `PollingWatcher` (events need no reference)."""
        while True:
            if not self.root.is_dir():
                self.on_watching()
                while not self.root.is_dir():
                    await asyncio.sleep(self.interval)
                yield set(fingerprint(self.root)) or {"."}
            failure: list[BaseException] = []
            async for batch in self._watch_root(failure):
                yield batch
            if not self.root.is_dir():
                yield {"."}
            elif failure:  # the OS will not watch this root: poll it instead of retrying at once, forever
                log.warning("catalog: OS file events for %s failed (%s); polling every %gs instead",
                            self.root, _describe(failure[0]), self.fallback_interval)
                polling = PollingWatcher(self.root, interval=self.fallback_interval, on_watching=self.on_watching)
                async for batch in polling.changes():
                    yield batch

    async def _watch_root(self, failure: list[BaseException]) -> AsyncIterator[set[str]]:
        """The batches of one OS watch of the root, until the root goes away under it; a watch
        that fails while the root is still there leaves its error in `failure`."""
        from watchfiles import awatch

        stop = _WatchControl(asyncio.get_running_loop(), self.on_watching)
        batches: asyncio.Queue[set[str] | None] = asyncio.Queue()

        async def feed() -> None:
            try:
                async for batch in awatch(self.root, watch_filter=self._wanted, step=EVENT_STEP_MS,
                                          debounce=EVENT_DEBOUNCE_MS, rust_timeout=self.idle_timeout_ms,
                                          stop_event=stop, recursive=True):
                    batches.put_nowait({os.path.relpath(path, self.root) for _, path in batch})
            except Exception as exc:  # the root went away under the watcher, or the OS said no
                if self.root.is_dir():
                    failure.append(exc)
            finally:
                if not failure:  # no watch: whoever waits for one must not wait forever (a refused
                    self.on_watching()  # one is announced by the polling that takes over)
                batches.put_nowait(None)

        feeder = asyncio.create_task(feed())
        self.watch_tasks.add(feeder)
        feeder.add_done_callback(self.watch_tasks.discard)
        try:
            while (batch := await batches.get()) is not None:
                yield batch
        finally:
            stop.set()  # the watch thread sees it within EVENT_STEP_MS; the feeder then ends


class _WatchControl:
    """The stop event of one OS watch. watchfiles' watch thread asks `is_set()` every step from the
    moment the OS watch is live, so the first question also tells the event loop it is live."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_live: Callable[[], None]) -> None:
        self._loop = loop
        self._on_live: Callable[[], None] | None = on_live
        self._stopped = False

    def is_set(self) -> bool:
        if self._on_live is not None:  # the watch thread's first look (it holds the GIL)
            self._loop.call_soon_threadsafe(self._on_live)
            self._on_live = None
        return self._stopped

    def set(self) -> None:
        self._stopped = True


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _nothing() -> None:
    """No one waits for the watch."""


def watcher_for(root: str | Path, mode: str = "events", *, interval: float = DEFAULT_INTERVAL,
                on_watching: Callable[[], None] | None = None) -> EventWatcher | PollingWatcher:
    """The watcher `mode` names: "events" (OS file events) or "poll"."""
    if mode == "poll":
        return PollingWatcher(root, interval=interval, on_watching=on_watching)
    if mode == "events":
        return EventWatcher(root, interval=interval, on_watching=on_watching)
    raise ValueError(f"unknown watch mode {mode!r}: expected 'events' or 'poll'")
