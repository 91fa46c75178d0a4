"""Reading one catalog file safely: regular files inside the catalog directory, up to a size cap.

A catalog directory is trusted content, but what sits in it is not always a playbook someone
wrote: a symlink to `/dev/zero` would be read forever (memory until the process dies), a FIFO
blocks the reader until a writer comes (start-up hangs, reloads stop for good), and a symlink to a
file outside the catalog (say `/etc/shadow`) would be parsed and its lines quoted back in problem
messages. So a file is opened without blocking, checked with `fstat` on the open descriptor (no
race between the check and the read), and read only when it is a regular file under the cap whose
real path stays inside the catalog root. A refusal says what the file is, never what it holds.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

DEFAULT_MAX_FILE_BYTES = 1024 * 1024
"""The default size cap of one catalog file (`--catalog-max-file-bytes`)."""


class UnreadableFile(Exception):
    """A catalog file refused before parsing; the message describes it without its contents."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def read_catalog_file(path: str | Path, root: Path | None, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """The text of a catalog file, or UnreadableFile saying why it is not read.

    With `root`, `path` comes from walking root without following linked folders, so only the file
    itself can be a link out of it: it is opened without following links, and only a link (ELOOP)
    costs the realpath check (two realpaths of every file were a tenth of loading 10,000)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | (getattr(os, "O_NOFOLLOW", 0) if root is not None else 0))
    except OSError as exc:
        if root is None or exc.errno != errno.ELOOP:
            raise UnreadableFile(f"cannot open the file: {exc.strerror}") from None
        real, real_root = os.path.realpath(path), os.path.realpath(root)
        if os.path.commonpath([real, real_root]) != real_root:
            raise UnreadableFile("a link to a file outside the catalog directory (not read)") from None
        try:
            fd = os.open(path, flags)
        except OSError as again:
            raise UnreadableFile(f"cannot open the file: {again.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{_kind(info.st_mode)}, not a regular file (not read)")
        if info.st_size > max_bytes:
            raise UnreadableFile(f"{info.st_size} bytes, over the limit of {max_bytes} (not read)")
        chunks: list[bytes] = []
        size = 0
        while size <= max_bytes:  # the file may grow after fstat: never read past the cap
            chunk = os.read(fd, min(65536, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise UnreadableFile(f"over the limit of {max_bytes} bytes (not read)")
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file: {exc.strerror}") from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not UTF-8 text (byte {exc.start})") from None


def read_catalog_files(
    paths: Iterable[str | Path], root: Path | None, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> dict[str, str | UnreadableFile]:
    """Every file's text, or why it is not read, by file name (`read_catalog_file` each)."""
    sources: dict[str, str | UnreadableFile] = {}
    for path in paths:
        try:
            sources[str(path)] = read_catalog_file(path, root, max_bytes)
        except UnreadableFile as exc:
            sources[str(path)] = exc
    return sources


PLAYBOOK_SUFFIXES = (".yaml", ".yml")


def scan_catalog(root: Path) -> list[str]:
    """Playbook files under root, hidden files and directories skipped, in sorted order (of their
    paths relative to root: the full paths share root, so sorting them is the same and cheaper).

    The names are strings spelled as `str(Path(folder, name))` would spell them (root as pathlib
    normalises it, then plain joins), without building 10,000 `Path` objects."""
    found: list[str] = []
    for folder, dirs, files in os.walk(str(root)):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(
            os.path.join(folder, name) for name in files
            if not name.startswith(".") and name.endswith(PLAYBOOK_SUFFIXES)
        )
    if str(root) == ".":  # pathlib drops a leading "./"
        found = [name[2:] for name in found]
    found.sort()
    return found


def default_path(file: str | None, real_root: str | None) -> str | None:
    """A file's catalog path: relative to the (real) root without its suffix; its stem when
    outside root."""
    if file is None:
        return None
    if real_root is not None:
        # Files come from walking root (which does not follow linked folders), so only a linked
        # file needs resolving; a realpath of every file is most of the path cost at 10,000.
        real = os.path.realpath(file) if os.path.islink(file) else os.path.abspath(file)
        if not real.startswith(real_root + os.sep):
            real = os.path.realpath(file)
        if real.startswith(real_root + os.sep):
            relative = os.path.splitext(real[len(real_root) + 1:])[0]  # (strings: pathlib cost ~40 us)
            return relative.replace(os.sep, "/")
    return Path(file).stem


def default_paths(files: Sequence[str], root: Path, real_root: str) -> dict[str, str | None]:
    """`default_path` of every file `scan_catalog(root)` found, by file.

    A scanned file is spelled as root is, then plain names; so when root is its own real path (no
    link on the way to it) a file that is no link itself has its catalog path in its spelling,
    without the abspath and realpath `default_path` pays per file (10,000 of them on a restart)."""
    base = str(root)
    prefix = base if base.endswith(os.sep) else base + os.sep
    skip = 0 if base == "." else len(prefix)  # the scan spells files under "." without "./"
    direct = os.path.abspath(base) == real_root and real_root != os.sep
    return {
        file: os.path.splitext(file[skip:])[0].replace(os.sep, "/")
        if direct and not os.path.islink(file) else default_path(file, real_root)
        for file in files
    }
