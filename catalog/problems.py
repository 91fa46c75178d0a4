"""Problems: what is wrong with a catalog file, said as `file:line:col: field: message`.

Every check of the catalog (YAML syntax, the pydantic model, tool kinds, templates, schemas, name
clashes) reports through this one shape, so the CLI, the REST API and the file watcher print the same
thing and an editor can jump to the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Location = tuple[str | int, ...]
"""A path into a YAML document: mapping keys (str) and list indexes (int)."""

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$-]+$")


def format_field(location: Iterable[str | int], root: str = "") -> str:
    """`("workflow", 2, "tool", "url")` -> `workflow[2].tool.url`; odd keys are quoted (`a["x.y"]`)."""
    text = root
    for part in location:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            text += f".{part}" if text else str(part)
        else:
            text += f"[{json.dumps(str(part))}]"
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file. `line`/`column` are 1-based, None when unknown."""

    file: str
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def sort_problems(problems: Sequence[Problem]) -> list[Problem]:
    """In file order (problems without a line first), duplicates dropped."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.line or 0, p.column or 0))
