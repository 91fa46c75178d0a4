"""A forked helper process that checks catalog files beside the load, when many need parsing.

On an empty database every file is parsed and checked (strict YAML, pydantic, the template and
schema checks: 100-150 us each), 10,000 of them before the hub serves. `CheckedAhead` forks one
helper that takes the files to parse from the end of the list, in chunks of `CHUNK`, while the
load goes on from the start as usual, asking `get(key)` file by file; the two claim chunks under
a lock in shared memory and meet in the middle. The helper hands each file back in the form the
parse cache stores (`catalog.parse_cache`), so the load takes it as it takes a document cached by
an earlier run, which is the same as parsing it by the cache's own contract. A file with problems
is not handed back: the load parses it (again) and reports its problems itself.

Why fork: a spawned or forkserver helper first imports the catalog and every tool kind's model
(~1.9 s of CPU, the mcp SDK among them), which is more than it would save; a forked one starts
with all of it. The load runs while other threads hold their own state (the event loop, the
store's SQLite writer); the helper touches none of it: it only parses text and checks models,
resets signal handling (a signal for the hub must not be relayed to the hub's loop), writes to
its own pipe, and leaves with `os._exit` (no atexit handlers, no flushing of inherited buffers,
no closing of inherited connections). A helper that dies, or hangs anyway (a lock some other
thread held at the instant of the fork), costs time, not the load: at its end of file, or after
`WAIT_SECONDS` without a word from it, it is killed and the load parses what it did not hand back.
Only on Linux with 2 or more CPUs, and from `MIN_FILES` files to parse. (Python 3.12+ issues a
DeprecationWarning for any fork of a process with threads; hidden by default outside `__main__`.)
"""

from __future__ import annotations

import copy
import fcntl
import gc
import logging
import multiprocessing
import os
import pickle
import select
import signal
import sys
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from catalog.parse_cache import CheckedDocuments, HandedOver

if TYPE_CHECKING:
    from catalog.catalog import Catalog

log = logging.getLogger("agenthub.catalog")

MIN_FILES = 500
"""Below this many files to parse, a helper's fork and hand-over cost more than they save."""
CHUNK = 32
"""Files claimed at a time, by either process."""
WAIT_SECONDS = 10.0
"""How long the load waits for the helper's next chunk before parsing the rest itself."""

Stored = list[tuple[str, bytes]]
"""Documents in the parse cache's stored form: (cache key, blob)."""
Work = Callable[[Sequence[str]], Stored]
"""The helper's check of some keys: the stored form of those that checked clean."""


def helper_possible() -> bool:
    """Whether a forked helper can run beside this process: Linux (fork without exec is unsafe
    on macOS) and a second CPU this process may use."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and len(os.sched_getaffinity(0)) >= 2


def checked_ahead(
    catalog: Catalog, sources: Mapping[str, Any], cache_keys: Mapping[str, str], cached: dict[str, Any]
) -> dict[str, Any] | CheckedAhead:
    """What `Catalog.load` looks its files' checked documents up in: `cached` (the parse cache's
    answer) alone, or, with `MIN_FILES` or more left to parse, a `CheckedAhead` over it."""
    todo: dict[str, str] = {}
    for file, cache_key in cache_keys.items():
        if cache_key not in cached:
            todo.setdefault(cache_key, file)  # one parse per distinct content
    if len(todo) < MIN_FILES or not helper_possible():
        return cached
    handed = HandedOver()
    helper = copy.copy(catalog)  # in the helper process: the catalog, storing what it checks in `handed`
    helper._checked = CheckedDocuments(handed, catalog.tool_kinds)

    def work(keys: Sequence[str]) -> Stored:
        for key in keys:
            file = todo[key]
            try:
                helper._parse_any(sources[file], file, helper._default_path(file), None, key)
            except Exception:  # noqa: BLE001, S112 - not handed back: the load parses it and reports
                continue
        helper._checked.save()
        return handed.take()

    reader = CheckedDocuments(HandedOver(), catalog.tool_kinds)

    def decode(stored: Stored) -> dict[str, Any]:
        assert isinstance(reader.cache, HandedOver)
        reader.cache.cache_parses(stored)
        found = reader.lookup([key for key, _ in stored])
        reader.cache.take()
        return found

    return CheckedAhead(cached, list(todo), work, decode, catalog._checked.keep)


class CheckedAhead:
    """What `Catalog.load` asks for each file's checked document: `base` (from the parse cache),
    or what the helper handed back; None means: parse it here."""

    def __init__(self, base: Mapping[str, Any], keys: Sequence[str], work: Work,
                 decode: Callable[[Stored], dict[str, Any]], keep: Callable[[Stored], None]) -> None:
        self._base = base
        self._keys = list(keys)
        self._index = {key: i for i, key in enumerate(self._keys)}
        self._decode = decode
        self._keep = keep
        self._handed: dict[str, Any] = {}
        self._delivered = 0
        self._mine_until = 0
        """keys[:_mine_until] are this process's to parse."""
        self._helper = _Helper.start(self._keys, work)
        self._stop = weakref.finalize(self, _Helper.stop, self._helper) if self._helper else None

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._base:
            return self._base[key]
        if key in self._handed:
            return self._handed[key]
        index = self._index.get(key)
        if index is None or index < self._mine_until or self._helper is None:
            return default
        if self._helper.claim_up_to(index, len(self._keys)):
            self._mine_until = self._helper.front
            self._take_frames(wait=False)
        else:  # the helper has it: wait for its chunk
            while self._helper is not None and key not in self._handed and not self._helper.has(index):
                if self._helper.ended:
                    self._end(f"the helper process did not hand back file {index} of {len(self._keys)}")
                    break
                self._take_frames(wait=True)
        self._finish_if_done()
        return self._handed.get(key, default)

    def _take_frames(self, *, wait: bool) -> None:
        assert self._helper is not None
        frames = self._helper.frames(WAIT_SECONDS if wait else 0.0)
        if frames is None:  # it died, hung, or sent garbage: what it did not hand back is parsed here
            self._end(f"the helper process stopped early ({self._helper.why})")
            return
        for stored in frames:
            self._keep(stored)
            self._handed.update(self._decode(stored))
        self._delivered = self._helper.delivered

    def _finish_if_done(self) -> None:
        helper = self._helper
        if helper is not None and helper.front >= helper.back and self._delivered == len(self._keys) - helper.back:
            self._end(None)

    def _end(self, problem: str | None) -> None:
        assert self._helper is not None and self._stop is not None
        self._stop()
        if problem is not None:
            log.warning("catalog: %s; parsing its files here", problem)
        log.debug("catalog: a helper process checked %d of %d files", len(self._handed), len(self._keys))
        self._helper = None


class _Helper:
    """The parent's side of one forked helper: the shared claims, the pipe it writes frames to."""

    def __init__(self, pid: int, fd: int, claims: Any, lock: Any, total: int) -> None:
        self.pid = pid
        self.total = total
        self.fd = fd
        self.claims = claims
        """[front, back]: keys[:front] are the load's, keys[back:] the helper's."""
        self.lock = lock
        self.buffer = bytearray()
        self.done_ranges: list[tuple[int, int]] = []
        self.delivered = 0
        self.why = ""
        self.ended = False
        """The pipe reached its end (the helper exited)."""
        self.stopped = False

    @property
    def front(self) -> int:
        return int(self.claims[0])

    @property
    def back(self) -> int:
        return int(self.claims[1])

    @classmethod
    def start(cls, keys: list[str], work: Work) -> _Helper | None:
        try:
            lock = multiprocessing.Lock()
            claims = multiprocessing.RawArray("q", [0, len(keys)])
            read_fd, write_fd = os.pipe()
        except (OSError, ImportError) as exc:  # no POSIX semaphores or shared memory here
            log.debug("catalog: no helper process (%r)", exc)
            return None
        try:
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 1 << 20)  # fewer waits for the reader
        except (OSError, AttributeError):
            pass
        try:
            pid = os.fork()
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            log.debug("catalog: no helper process (%r)", exc)
            return None
        if pid == 0:
            _run_helper(keys, work, claims, lock, read_fd, write_fd)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        return cls(pid, read_fd, claims, lock, len(keys))

    def claim_up_to(self, index: int, end: int) -> bool:
        """Claim keys up to `index` (and a chunk after it) for the load; False when the helper
        has claimed `index` already."""
        with self.lock:
            if index >= self.claims[1]:
                return False
            self.claims[0] = min(self.claims[1], max(self.claims[0], index + CHUNK), end)
            return True

    def has(self, index: int) -> bool:
        return any(start <= index < stop for start, stop in self.done_ranges)

    def frames(self, timeout: float) -> list[Stored] | None:
        """The chunks the helper finished since the last call (waiting up to `timeout` for one);
        None when it ended without handing back all it claimed, hung, or wrote garbage."""
        found: list[Stored] = []
        while not self.ended:
            try:
                data = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                if found or timeout <= 0:
                    return found
                if not _readable(self.fd, timeout):
                    self.why = f"no answer in {timeout:g} s"
                    return None
                continue
            if not data:
                self.ended = True
                break
            self.buffer += data
            while len(self.buffer) >= 8:
                size = int.from_bytes(self.buffer[:8], "little")
                if len(self.buffer) < 8 + size:
                    break
                frame = bytes(self.buffer[8:8 + size])
                del self.buffer[:8 + size]
                try:
                    start, stop, stored = pickle.loads(frame)
                except Exception as exc:  # noqa: BLE001 - a helper that wrote garbage is stopped
                    self.why = f"an unreadable chunk ({exc!r})"
                    return None
                self.done_ranges.append((start, stop))
                self.delivered += stop - start
                found.append(stored)
        if self.delivered < self.total - self.back or self.buffer:
            self.why = "it exited before handing back every file it took"
            return None
        return found

    @staticmethod
    def stop(helper: _Helper) -> None:
        """Kill (if still running) and reap the helper, and close its pipe."""
        if helper.stopped:
            return
        helper.stopped = True
        try:
            os.kill(helper.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(helper.pid, 0)
        except ChildProcessError:
            pass
        os.close(helper.fd)


def _readable(fd: int, timeout: float) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    return bool(poller.poll(timeout * 1000))


def _run_helper(keys: list[str], work: Work, claims: Any, lock: Any, read_fd: int, write_fd: int) -> NoReturn:
    """The helper process: claim chunks from the back until the claims meet, check each, write
    it to the pipe as a frame (length, pickle of (start, stop, stored)); never returns."""
    code = 1
    try:
        os.close(read_fd)
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_DFL)
        gc.disable()  # short-lived: walking the inherited heap would only copy its pages
        while True:
            with lock:
                front, back = claims[0], claims[1]
                if back <= front:
                    break
                start = max(front, back - CHUNK)
                claims[1] = start
            frame = pickle.dumps((start, back, work(keys[start:back])), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(len(frame).to_bytes(8, "little") + frame)
            while view:
                view = view[os.write(write_fd, view):]
        code = 0
    except BaseException:  # noqa: BLE001 - the parent notices the missing chunks and parses them
        pass
    finally:
        os._exit(code)
