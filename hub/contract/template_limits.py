"""Limits on what one template may build and how long it may run, for the sandbox of
`hub.contract.templates`.

Jinja's sandbox stops templates from reaching Python's internals, not from burning memory or CPU:
`'%0100000000d' % 1`, `'x'.center(100000000)`, `'{:>100000000}'.format(1)` and friends build
100 MB strings in one call, and nested `range` loops keep the event loop busy for minutes, during
which no other request is served and the run's `timeout:` cannot fire (rendering does not await).
So every operation that can produce a big string from a small template is checked against
`MAX_BUILT_LENGTH` before it runs, and every `range` a template iterates checks the render's
deadline (the run's, capped by `RENDER_BUDGET` seconds per render) on each step.

The limits are generous for real playbooks (a megabyte of text, a second of work per render).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from jinja2.exceptions import SecurityError
from jinja2.sandbox import MAX_RANGE

MAX_BUILT_LENGTH = 1_000_000
"""Characters (or items) one operation of a template may produce."""
MAX_POWER_BITS = 1_000_000
"""Bits an integer built by `**` may have."""
RENDER_BUDGET = 2.0
"""Seconds one render may take (less when the run's deadline is nearer)."""

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_FORMAT_WIDTH = re.compile(r"(\d+)")
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})

_render_deadline: ContextVar[float | None] = ContextVar("agenthub_render_deadline", default=None)


def refuse(what: str) -> SecurityError:
    return SecurityError(f"{what} would build more than {MAX_BUILT_LENGTH} characters")


def check_size(value: int, what: str) -> None:
    if isinstance(value, int) and value > MAX_BUILT_LENGTH:
        raise refuse(what)


def check_percent_format(template: str, args: Any) -> None:
    """Widths and precisions of a `%`-format (the `%` operator, the `format` filter)."""
    star_args = [a for a in (args if isinstance(args, tuple) else (args,)) if isinstance(a, int)]
    for match in _PERCENT_SPEC.finditer(template):
        for number in match.groups():
            if number == "*":
                for value in star_args:
                    check_size(value, "a `*` width")
            elif number is not None and (len(number) > 7 or int(number) > MAX_BUILT_LENGTH):
                raise refuse(f"the format width {number[:12]}")


def check_format_spec(spec: str) -> None:
    """The numbers of one `str.format` field spec (`>100000000`, `.100000000f`, `0100000000`)."""
    for number in _FORMAT_WIDTH.findall(spec):
        if len(number) > 7 or int(number) > MAX_BUILT_LENGTH:
            raise refuse(f"the format spec {spec[:20]!r}")


def check_str_method(value: str, name: str, args: tuple[Any, ...]) -> None:
    """Padding, tab expansion and replacement: the str methods whose result can dwarf their input."""
    if name in _PADDING_METHODS and args:
        check_size(args[0], f"str.{name}")
    elif name == "expandtabs":
        tabsize = args[0] if args else 8
        if isinstance(tabsize, int) and tabsize * value.count("\t") + len(value) > MAX_BUILT_LENGTH:
            raise refuse("str.expandtabs")
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        grows = len(args[1]) - len(args[0])
        if grows > 0:
            count = value.count(args[0]) if args[0] else len(value) + 1
            if len(args) >= 3 and isinstance(args[2], int) and args[2] >= 0:
                count = min(count, args[2])
            if len(value) + count * grows > MAX_BUILT_LENGTH:
                raise refuse("str.replace")


def check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if base.bit_length() * exponent > MAX_POWER_BITS:
            raise SecurityError(f"the power would have more than {MAX_POWER_BITS} bits")


class RenderDeadline:
    """Sets the deadline of one render (a context manager); nested renders keep the nearer one."""

    def __init__(self, run_deadline: float | None) -> None:
        limit = time.monotonic() + RENDER_BUDGET
        current = _render_deadline.get()
        candidates = [d for d in (limit, run_deadline, current) if d is not None]
        self.deadline = min(candidates)
        self._token: Any = None

    def __enter__(self) -> RenderDeadline:
        self._token = _render_deadline.set(self.deadline)
        return self

    def __exit__(self, *exc: object) -> None:
        _render_deadline.reset(self._token)


class RenderTimeout(SecurityError):
    """A template ran past its render deadline."""


def check_deadline() -> None:
    deadline = _render_deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise RenderTimeout("the template ran past its deadline (a loop too long for one render)")


class BoundedRange:
    """`range` for templates: at most MAX_RANGE items, and the render deadline checked as a loop
    walks it (still a sequence: `length`, indexing and `in` work as on a range)."""

    def __init__(self, *args: int) -> None:
        self._numbers = range(*args)
        if len(self._numbers) > MAX_RANGE:
            raise OverflowError(f"range too big: the sandbox allows at most {MAX_RANGE} items")

    def __len__(self) -> int:
        return len(self._numbers)

    def __getitem__(self, index: Any) -> Any:
        return self._numbers[index]

    def __contains__(self, value: object) -> bool:
        return value in self._numbers

    def __iter__(self) -> Iterator[int]:
        for index, number in enumerate(self._numbers):
            if index % 64 == 0:
                check_deadline()
            yield number

    def __repr__(self) -> str:
        return repr(self._numbers)
