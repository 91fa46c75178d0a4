"""Placing problems on the YAML they came from, and saying pydantic's errors in a user's words.

A pydantic `loc` names the model's path, not the file's: it holds aliases, union branch tags
(`literal[...]`, `list[...]`), and normalised forms (`next: [a]` is validated as `next.arcs`). The
location is matched against the YAML data, skipping what the file does not have, so a problem lands
on the nearest thing the user actually wrote. The failed branches of one union become one message;
an unknown field gets a "did you mean" (or the list of allowed fields).
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from catalog.problems import Location, Problem, format_field
from catalog.yaml_source import YamlDocument


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass
class Report:
    """Collects problems for one file, placing each location on the YAML."""

    file: str
    document: YamlDocument
    problems: list[Problem] = field(default_factory=list)

    def match(self, loc: tuple[Any, ...]) -> Location:
        """The part of a model `loc` that exists in the YAML. Elements that do not match (union
        branch tags like `literal[...]`, normalisations like `next.arcs`) are skipped."""
        node: Any = self.document.data
        path: list[str | int] = []
        for part in loc:
            if isinstance(node, dict) and isinstance(part, str) and part in node:
                node = node[part]
                path.append(part)
            elif (isinstance(node, list) and isinstance(part, int) and not isinstance(part, bool)
                  and 0 <= part < len(node)):
                node = node[part]
                path.append(part)
        return tuple(path)

    def at(self, location: Location, message: str) -> None:
        """A problem at `location`, placed on it or on its nearest ancestor written in the file."""
        _, pos = self.document.nearest(location)
        line, column = pos if pos is not None else (None, None)
        self.problems.append(Problem(self.file, line, column, format_field(location), message))

    def at_model_loc(self, loc: tuple[Any, ...], message: str) -> None:
        self.at(self.match(loc), message)

    def at_template(self, location: Location, message: str, template_line: int) -> None:
        """A template error, on the file line of the template's own line when it can be known."""
        pos = self.document.value_positions.get(location)
        style = self.document.styles.get(location)
        if pos is None:
            self.at(location, message)
            return
        line, column = pos
        if style == "|":
            line, column = line + template_line, None
        elif style == ">":
            line, column = line + 1, None
        self.problems.append(Problem(self.file, line, column, format_field(location), message))


def _union_members(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _union_members(typing.get_args(tp)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [m for arg in typing.get_args(tp) for m in _union_members(arg)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _child_type(tp: Any, part: str | int) -> Any:
    for member in _union_members(tp):
        if _is_model(member) and isinstance(part, str):
            for name, info in member.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
        origin = typing.get_origin(member)
        args = typing.get_args(member)
        if origin is list and isinstance(part, int):
            return args[0] if args else Any
        if origin is dict and isinstance(part, str):
            return args[1] if len(args) == 2 else Any
    return None


def _allowed_fields(model: type[BaseModel], path: Location) -> list[str] | None:
    """The field names (aliases) of the model found at `path` under `model`, if there is one."""
    tp: Any = model
    for part in path:
        tp = _child_type(tp, part)
        if tp is None:
            return None
    for member in _union_members(tp):
        if _is_model(member):
            return [info.alias or name for name, info in member.model_fields.items()]
    return None


def _unknown_field(key: str, allowed: list[str] | None) -> str:
    message = f"unknown field {key!r}"
    if allowed:
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if close:
            return f"{message} (did you mean {close[0]!r}?)"
        return f"{message} (allowed: {', '.join(allowed)})"
    return message


_TYPE_ERRORS = frozenset({"model_type", "model_attributes_type", "dict_type"})


def _message(error: Mapping[str, Any], allowed: list[str] | None) -> str:
    kind = error["type"]
    loc = error["loc"]
    if kind == "missing":
        return f"required field {loc[-1]!r} is missing"
    if kind == "extra_forbidden":
        return _unknown_field(str(loc[-1]), allowed)
    text = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            return text[len(prefix):]
    if kind in _TYPE_ERRORS:
        text = "Input should be a mapping (key: value)"
    value = error.get("input")
    if isinstance(value, (dict, list)) and not kind.endswith("_type"):
        return text  # e.g. "List should have at least 1 item": the value itself says nothing more
    return f"{text} (got {_short(value)})"


def _merge_union(messages: list[tuple[str, str]]) -> str:
    """One message for the branches of a union that all failed on the same value."""
    specific = [m for kind, m in messages if not kind.endswith("_type")] or [m for _, m in messages]
    if len(specific) == 1:
        return specific[0]
    got = ""
    parts = []
    for text in specific:
        body, sep, tail = text.rpartition(" (got ")
        if sep:
            text, got = body, f" (got {tail}"
        parts.append(text.removeprefix("Input should be "))
    return "Input should be " + " or ".join(dict.fromkeys(parts)) + got


def report_validation_error(
    report: Report,
    exc: ValidationError,
    model: type[BaseModel],
    prefix: Location = (),
    *,
    skip: Callable[[Mapping[str, Any]], bool] = lambda error: False,
) -> None:
    """Each pydantic error as one problem; the branches of a failed union as one problem."""
    unions: dict[Location, list[tuple[str, str]]] = {}
    for error in exc.errors():
        if skip(error):
            continue
        loc = (*prefix, *error["loc"])
        missing = error["type"] == "missing"
        matched = report.match(loc[:-1] if missing else loc)
        location: Location = (*matched, loc[-1]) if missing else matched
        allowed = None
        if error["type"] == "extra_forbidden":
            allowed = (_allowed_fields(model, tuple(error["loc"][:-1]))
                       or _allowed_fields(model, matched[len(prefix):-1]))
        message = _message(error, allowed)
        if not missing and len(matched) < len(loc):  # a union branch (or a normalised form)
            unions.setdefault(location, []).append((error["type"], message))
        else:
            report.at(location, message)
    for location, messages in unions.items():
        report.at(location, _merge_union(messages))
