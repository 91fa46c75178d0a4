"""Execution ids that sort by creation time (UUIDv7 layout, RFC 9562)."""

from __future__ import annotations

import os
import threading
import time
import uuid


class ExecutionIds:
    """Makes UUIDv7 strings, strictly increasing within one generator even inside one millisecond."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def new(self) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            rand = int.from_bytes(os.urandom(10), "big")
            value = (ms << 80) | (0x7 << 76) | ((rand >> 68) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
            if value <= self._last:  # same millisecond: keep the order by counting up
                value = self._last + 1
            self._last = value
            return str(uuid.UUID(int=value))
