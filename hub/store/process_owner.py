"""Which process owns a running execution, and whether that process is still alive.

An owner is `host:pid:start-time`; the start time (from /proc) tells a reused pid from the
original, so a run is only declared dead when its process is certainly gone.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _start_time(pid: int) -> str | None:
    """The start time of `pid` (field 22 of /proc/<pid>/stat); "0" without /proc; None if gone.

    A zombie counts as gone: it no longer runs anything, it only waits to be reaped.
    """
    if not os.path.isdir("/proc/self"):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "0"
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rpartition(")")[2].split()  # the command name may hold spaces and parentheses
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]  # fields[0] is field 3 (state), so field 22 is fields[19]


def process_owner() -> str:
    """`host:pid:start` of this process; the start time tells a reused pid from the original."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or '0'}"


def owner_is_dead(owner: str | None) -> bool:
    """True when the process named by `owner` is certainly gone.

    An owner on another host is never judged dead here (we cannot see its processes); an owner
    that is missing or unparseable cannot ever be checked, so it counts as dead.
    """
    if not owner:
        return True
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return True
    host, pid, start = parts
    if host != socket.gethostname():
        return False
    return _start_time(int(pid)) != start
