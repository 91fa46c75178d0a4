"""Keep stdout for what a command promises to print there, whatever user code does.

`agenthub stdio` speaks JSON-RPC on stdout and `agenthub run --json` prints one envelope there.
A `print()` in a Python step, a library that logs to stdout, or a child process (`echo`) inherits
file descriptor 1 and would write into that stream: a stdio MCP client then drops the connection,
and a script parsing `run --json` gets garbage.

So, before the hub opens (before any user code can run), `claim_stdout()` moves the real stdout
to a private duplicate descriptor (close-on-exec, so children never get it) and points fd 1, and
`sys.stdout`, at stderr. Everything stray lands on stderr; only the command writes to the private
stream. `claim_stdin()` does the same for fd 0 (pointed at the null device) so a child that reads
stdin cannot swallow protocol messages. The switch is one-way for the life of the process: work
still running at shutdown cannot reach the stream either.

The SDK's `stdio_server()` diverts fd 1 while it serves; claiming here, earlier and for the whole
process, also covers start-up, shutdown and `run`, and the SDK is handed the private streams.
"""

from __future__ import annotations

import fcntl
import io
import os
import sys
from typing import BinaryIO


def _private_copy(fd: int) -> int:
    """A close-on-exec duplicate of `fd` above the standard range (0-2)."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


def claim_stdout() -> BinaryIO:
    """The process's real stdout as a private binary stream; fd 1 and `sys.stdout` now go to stderr."""
    sys.stdout.flush()
    private = _private_copy(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(private, "wb")


def claim_stdin() -> BinaryIO:
    """The process's real stdin as a private binary stream; fd 0 now reads the null device (EOF)."""
    private = _private_copy(0)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    sys.stdin = io.TextIOWrapper(os.fdopen(0, "rb", closefd=False), encoding="utf-8")
    return os.fdopen(private, "rb")


def text_writer(stream: BinaryIO) -> io.TextIOWrapper:
    """UTF-8 text over a claimed stream, flushed on every line (`write_through`)."""
    return io.TextIOWrapper(stream, encoding="utf-8", line_buffering=True, write_through=True)
