"""Labelled failures: the bundled corpus, corpus directories, and capturing a real failure into one.

A corpus is JSON lines, one `Case` each (a redacted `FailureSignal` and its true category). A
corpus *directory* holds any number of `*.jsonl` files; `agenthub troubleshoot capture` writes one
file per captured execution there (`<execution id>.jsonl`), so a team grows its own benchmark from
production failures, reviewable and diffable, and `eval` / `calibrate` read it like the bundled one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from troubleshoot.categories import Category
from troubleshoot.signal import FailureSignal

DEFAULT_CORPUS = Path(__file__).resolve().parent / "corpus" / "failures.jsonl"


class Case(BaseModel):
    """One labelled failure: the recorded signal and the category it truly is."""

    id: str
    category: Category
    origin: Literal["run", "recorded", "captured"] = "run"
    note: str | None = None
    signal: FailureSignal


def _load_file(path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            cases.append(Case.model_validate_json(line))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not a corpus case: {exc}") from None
    return cases


def load_corpus(path: Path | str = DEFAULT_CORPUS) -> list[Case]:
    """The cases of one JSON-lines file, or of every `*.jsonl` file in a directory (sorted);
    blank lines and `#` comments are skipped. A missing path is an error naming it."""
    where = Path(path)
    if where.is_dir():
        return [case for file in sorted(where.glob("*.jsonl")) for case in _load_file(file)]
    if not where.is_file():
        raise ValueError(f"no corpus file or directory {where}")
    return _load_file(where)


def load_corpora(paths: Iterable[Path | str]) -> list[Case]:
    """Several corpora as one; a case id seen twice is an error (it would be counted twice)."""
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in paths:
        for case in load_corpus(path):
            if case.id in seen:
                raise ValueError(f"case {case.id!r} is in {seen[case.id]} and {path}")
            seen[case.id] = str(path)
            cases.append(case)
    return cases


def capture_case(signal: FailureSignal, category: Category, directory: Path | str, *, note: str | None = None,
                 playbook: str | None = None) -> Path:
    """Write one captured failure as `<directory>/<execution id>.jsonl` (replacing an earlier
    capture of the same execution: the latest label wins). The signal must already be redacted."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", signal.execution_id) or "case"
    case = Case(id=f"captured/{playbook or signal.playbook or 'run'}/{signal.execution_id}", category=category,
                origin="captured", note=note, signal=signal)
    path = folder / f"{name}.jsonl"
    path.write_text(case.model_dump_json(exclude_none=True) + "\n", encoding="utf-8")
    return path
