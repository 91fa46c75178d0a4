"""SQL written with templates, run with bound parameters: what `{{ ... }}` means in a `postgres` or
`duckdb` step's `command:`.

NoETL playbooks write values into SQL with Jinja (`WHERE id = {{ workload.id }}`, `'{{ execution_id
}}'`, `VALUES ({{ row.n }}, '{{ row.name }}')` inside `{% for %}`). Splicing those values into the
text would let a caller's argument rewrite the statement, so here every expression becomes a bound
parameter instead: the template is rendered with a `finalize` that leaves a unique marker per value,
then a small scanner that knows SQL quoting (strings, quoted identifiers, dollar quotes, comments)
turns each marker into a placeholder:

- outside quotes: the value itself (`{{ n }}` -> `%s`, n bound with its own type);
- a whole string literal (`'{{ x }}'`): the value as text;
- part of a string literal (`'%{{ x }}%'`): the literal is split and concatenated around the value;
- inside a quoted identifier, a dollar-quoted body or a comment: an error, since no placeholder can
  stand there (identifiers cannot be parameters: write them in the playbook).

The scanner also splits the text into statements on top-level `;`, because a statement with
parameters must be sent alone. The result is driver-neutral: `%s` placeholders (psycopg), with
literal `%` doubled, or `?` placeholders (duckdb) via `placeholder=`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Undefined

from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.templates import Templates


@dataclass
class Statement:
    """One statement to send: its text with placeholders, and the values bound to them in order."""

    text: str
    params: list[Any] = field(default_factory=list)


def _as_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


class ValueMarkers:
    """A template `finalize` that leaves `\\x00<token>:<n>\\x00` for every rendered value and
    remembers the value, so a scanner that knows the target language's quoting can place it."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        if isinstance(value, Undefined):
            return str(value)  # nothing, as Jinja renders it (`{{ x if c }}` when not c); strict ones raise
        self.values.append(value)
        return f"\x00{self.token}:{len(self.values) - 1}\x00"

    def find(self, text: str, start: int) -> tuple[int, int, int] | None:
        """(index of the value, marker start, marker end) of the next marker at or after `start`."""
        at = text.find(f"\x00{self.token}:", start)
        if at < 0:
            return None
        end = text.index("\x00", at + 1) + 1
        return int(text[at + 2 + len(self.token):end - 1]), at, end


def render_sql(
    sql: str, context: Mapping[str, Any], where: str, *, placeholder: str = "%s"
) -> list[Statement]:
    """The statements of `sql` with every template value bound (see the module docstring)."""
    markers = ValueMarkers()
    rendered = Templates(finalize=markers).render_text(sql, context, where)
    return _Scanner(rendered, markers, where, placeholder).statements()


class _Scanner:
    def __init__(self, text: str, markers: ValueMarkers, where: str, placeholder: str) -> None:
        self.text, self.markers, self.where, self.placeholder = text, markers, where, placeholder
        self.escape_percent = placeholder == "%s"
        self.done: list[Statement] = []
        self.current = Statement("")

    def statements(self) -> list[Statement]:
        text, i = self.text, 0
        while i < len(text):
            ch = text[i]
            if ch == "\x00":
                i = self._value_at(i, as_text=False)
            elif ch == "'":
                i = self._string(i)
            elif ch == '"':
                i = self._opaque(i, text.find('"', i + 1), "a quoted identifier")
            elif text.startswith("--", i):
                end = text.find("\n", i)
                i = self._opaque(i, len(text) - 1 if end < 0 else end, "a comment")
            elif text.startswith("/*", i):
                end = text.find("*/", i + 2)
                i = self._opaque(i, len(text) - 1 if end < 0 else end + 1, "a comment")
            elif ch == "$" and (tag := self._dollar_tag(i)):
                end = text.find(tag, i + len(tag))
                i = self._opaque(i, len(text) - 1 if end < 0 else end + len(tag) - 1, "a dollar-quoted body")
            elif ch == ";":
                self._end_statement()
                i += 1
            else:
                self._emit(ch)
                i += 1
        self._end_statement()
        return self.done

    def _emit(self, chunk: str) -> None:
        self.current.text += chunk.replace("%", "%%") if self.escape_percent else chunk

    def _value_at(self, i: int, *, as_text: bool) -> int:
        found = self.markers.find(self.text, i)
        assert found is not None and found[1] == i
        index, _, end = found
        value = self.markers.values[index]
        self.current.params.append(_as_text(value) if as_text else value)
        self.current.text += self.placeholder
        return end

    def _string(self, start: int) -> int:
        """A single-quoted literal: kept as is, or rebuilt around the values inside it."""
        text, i, parts, chunk = self.text, start + 1, [], ""
        while True:
            if i >= len(text):
                raise self._error("an unterminated string literal")
            ch = text[i]
            if ch == "'" and text.startswith("''", i):
                chunk += "''"
                i += 2
            elif ch == "'":
                break
            elif ch == "\x00":
                found = self.markers.find(text, i)
                assert found is not None
                if chunk:
                    parts.append(("text", chunk))
                    chunk = ""
                parts.append(("value", found[0]))
                i = found[2]
            else:
                chunk += ch
                i += 1
        if chunk or not parts:
            parts.append(("text", chunk))
        if all(kind == "text" for kind, _ in parts):
            self._emit("'" + "".join(str(p) for _, p in parts) + "'")
        elif len(parts) == 1:
            self._bind_text(parts[0][1])
        else:
            self.current.text += "("
            for n, (kind, part) in enumerate(parts):
                if n:
                    self.current.text += " || "
                if kind == "text":
                    self._emit(f"'{part}'")
                else:
                    self._bind_text(part)
            self.current.text += ")"
        return i + 1

    def _bind_text(self, index: Any) -> None:
        self.current.params.append(_as_text(self.markers.values[index]))
        self.current.text += self.placeholder

    def _opaque(self, start: int, end: int, what: str) -> int:
        """Copy text[start:end+1] unchanged; a value inside it cannot be bound."""
        if end < start:
            raise self._error(f"an unterminated {what.removeprefix('a ')}")
        chunk = self.text[start:end + 1]
        if "\x00" in chunk:
            raise self._error(
                f"a template value inside {what}; values can only stand where SQL takes a value "
                "(identifiers and function bodies cannot be parameters: write them in the playbook)"
            )
        self._emit(chunk)
        return end + 1

    def _dollar_tag(self, i: int) -> str | None:
        j = i + 1
        while j < len(self.text) and (self.text[j].isalnum() or self.text[j] == "_"):
            j += 1
        if j < len(self.text) and self.text[j] == "$" and not self.text[i + 1:j][:1].isdigit():
            return self.text[i:j + 1]
        return None

    def _end_statement(self) -> None:
        if self.current.params and not self.current.text.replace(self.placeholder, "").strip(" \t\r\n()"):
            raise self._error(
                "a statement that is only a template value; SQL text must be written in the playbook "
                "(a value from a variable is bound as data, so it can never be a statement)"
            )
        if self.current.text.strip():
            self.done.append(self.current)
        elif self.current.params:
            raise self._error("a value outside any statement")
        self.current = Statement("")

    def _error(self, what: str) -> Failure:
        return Failure.of(ErrorCode.STEP_CONFIG_INVALID, f"{self.where}: SQL with {what}")
