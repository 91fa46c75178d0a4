"""What may cross a boundary of the hub: data the store can encode, within a nesting depth.

Arguments come from callers and step outputs from code the hub does not control; both end up in
events, envelopes and the store. A value nested hundreds of levels deep exhausts Python's
recursion on the way (validation, redaction, JSON encoding), and an integer of thousands of digits
cannot be written as JSON text at all; either used to surface far from its cause, as a 500 or a
failed store write that left the execution `running`. So both are checked where they enter, by
walking the value without recursion: arguments at the engine's door (`INPUT_INVALID`), step
outputs at the step boundary (`OUTPUT_NOT_SERIALIZABLE`).
"""

from __future__ import annotations

from typing import Any

MAX_ARGUMENT_DEPTH = 64
"""Nesting levels allowed in a call's arguments (the arguments object itself is level 1)."""
MAX_OUTPUT_DEPTH = 128
"""Nesting levels allowed in a step's output."""
MAX_INT_DIGITS = 4300
"""Python's default limit for int <-> str conversion, which JSON encoding needs."""
_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.32)  # digits * log2(10), a little under the limit


def encoding_problem(value: Any, max_depth: int) -> str | None:
    """Why `value` cannot be stored as JSON within `max_depth` levels, or None when it can.

    The answer names the path of the first problem found:

    >>> encoding_problem({"a": [1, {"b": 10**5000}]}, 8)
    'value.a[1].b: an integer of more than 4300 digits'
    >>> encoding_problem([[[[]]]], 3)
    'value[0][0][0]: nested deeper than 3 levels'
    """
    if _storable(value, max_depth):  # the usual answer, without a path string per value
        return None
    return _first_problem(value, max_depth)


_LEAVES = (str, float, bool, type(None))


def _storable(value: Any, max_depth: int) -> bool:
    """True when `value` certainly has no problem (a walk without paths: one per call)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        elif isinstance(item, int) and not isinstance(item, bool):
            if item.bit_length() > _MAX_INT_BITS:
                return False
            continue
        else:
            continue
        if depth > max_depth:
            return False
        for child in children:
            if type(child) in _LEAVES:
                continue
            stack.append((child, depth + 1))
    return True


def _first_problem(value: Any, max_depth: int) -> str | None:
    """The path and reason of the first problem in `value` (the message `encoding_problem` gives)."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "value")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool):
            if item.bit_length() > _MAX_INT_BITS:
                return f"{path}: an integer of more than {MAX_INT_DIGITS} digits"
            continue
        if isinstance(item, dict):
            children = [(v, f"{path}.{k}") for k, v in item.items()]
        elif isinstance(item, (list, tuple)):
            children = [(v, f"{path}[{i}]") for i, v in enumerate(item)]
        else:
            continue  # strings, floats, None; other objects are stored as their text
        if depth > max_depth:
            return f"{path}: nested deeper than {max_depth} levels"
        stack.extend((child, depth + 1, where) for child, where in reversed(children))
    return None
