"""A big load's forked helper process (`catalog.parallel`): the catalog it gives is the one a
serial load gives (entries, versions, problems with their lines, the parse cache), on a mixed
catalog with broken files; and a helper that dies or hangs costs time, never a file."""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import catalog.parallel as parallel
from catalog.catalog import Catalog
from hub.engine.kinds.registry import StepKinds
from hub.store.sqlite_ledger import SqliteLedger

REPO = Path(__file__).resolve().parents[2]

GENERATED = """\
apiVersion: agenthub/v1
kind: Playbook
metadata: {{name: gen_{i}, description: "Generated {i}.", tags: [t{tag}]}}
input:
  text: {{type: string, default: "x{i}"}}
workflow:
  - step: s
    tool: {{kind: noop}}
    set: {{seen: "{{{{ input.text }}}} {i}"}}
"""
BROKEN = {
    "syntax.yaml": "kind: Playbook\nmetadata: [\n",
    "duplicate_key.yaml": "apiVersion: agenthub/v1\nkind: Playbook\nkind: Playbook\n",
    "unknown_field.yaml": GENERATED.format(i="uf", tag=1).replace("workflow:", "bogus: 1\nworkflow:"),
    "unknown_kind.yaml": GENERATED.format(i="uk", tag=1).replace("kind: noop", "kind: nosuchkind"),
    "bad_template.yaml": GENERATED.format(i="bt", tag=1).replace("{{ input.text }}", "{{ input.text "),
    "name_clash.yaml": GENERATED.format(i=3, tag=9),  # gen_3's name again: refused as a clash
    "not_a_mapping.yaml": "- a\n- b\n",
}
PROMPT = """\
apiVersion: agenthub/v1
kind: Prompt
metadata: {name: greet, description: Greets someone}
arguments:
  who: {description: Whom to greet}
messages:
  - {role: user, content: "Say hello to {{ who }}."}
"""


def mixed_catalog(root: Path) -> Path:
    """The bundled examples, the NoETL corpus, 150 generated playbooks (one written twice, as
    two files with the same content), a prompt, and files broken in each way a check can find."""
    shutil.copytree(REPO / "playbooks", root / "bundled")
    shutil.copytree(REPO / "tests" / "noetl" / "playbooks", root / "noetl")
    generated = root / "generated"
    generated.mkdir()
    for i in range(150):
        (generated / f"gen_{i:03d}.yaml").write_text(GENERATED.format(i=i, tag=i % 7))
    (generated / "same_content.yaml").write_text(GENERATED.format(i=42, tag=0))
    (root / "greet.yaml").write_text(PROMPT)
    for name, text in BROKEN.items():
        (root / name).write_text(text)
    return root


def snapshot(catalog: Catalog, problems: list[Any]) -> dict[str, Any]:
    return {
        "problems": [str(p) for p in problems],
        "entries": [(e.path, e.version, e.name, e.digest, e.file, e.input_schema, e.output_schema,
                     e.playbook.model_dump()) for e in catalog.entries()],
        "named": [(e.kind, e.name, e.digest, e.file) for e in (*catalog.mcp_servers(), *catalog.prompts(),
                                                                *catalog.resources())],
    }


def cached_keys(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT key FROM parsed_documents")}


def load(root: Path, db: Path | None) -> tuple[dict[str, Any], set[str]]:
    kinds = StepKinds.builtin().tool_specs()
    if db is None:
        catalog = Catalog(root, tool_kinds=kinds)
        return snapshot(catalog, catalog.load()), set()
    with SqliteLedger(db) as ledger:
        catalog = Catalog(root, ledger=ledger, tool_kinds=kinds, parse_cache=ledger)
        return snapshot(catalog, catalog.load()), cached_keys(db)


@pytest.fixture
def slow_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The load's own parses take 2 ms longer (not the helper's), so the helper surely gets a share."""
    parent, real = os.getpid(), Catalog._parse_any

    def parse_any(self: Catalog, *args: Any, **kwargs: Any) -> Any:
        if os.getpid() == parent and args[3] is None:  # parsed here, not taken from the cache or the helper
            time.sleep(0.002)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Catalog, "_parse_any", parse_any)


def helper_counts(caplog: pytest.LogCaptureFixture) -> list[tuple[int, int]]:
    found = [re.search(r"a helper process checked (\d+) of (\d+) files", r.getMessage()) for r in caplog.records]
    return [(int(m[1]), int(m[2])) for m in found if m]


@pytest.mark.skipif(not parallel.helper_possible(), reason="a helper process needs Linux and a second CPU")
@pytest.mark.parametrize("with_cache", [True, False])
def test_a_load_with_a_helper_gives_what_a_serial_load_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, slow_parent: None,
    with_cache: bool,
) -> None:
    root = mixed_catalog(tmp_path / "catalog")
    caplog.set_level(logging.DEBUG, logger="agenthub.catalog")
    monkeypatch.setattr(parallel, "MIN_FILES", 10**9)
    serial, serial_cached = load(root, tmp_path / "serial.db" if with_cache else None)
    assert helper_counts(caplog) == []
    monkeypatch.setattr(parallel, "MIN_FILES", 20)
    monkeypatch.setattr(parallel, "CHUNK", 4)
    with ThreadPoolExecutor(1) as thread:  # as the hub loads: off the event loop's thread
        helped, helped_cached = thread.submit(load, root, tmp_path / "helped.db" if with_cache else None).result()
    [(checked, total)] = helper_counts(caplog)
    assert 0 < checked < total  # both processes parsed some
    assert helped == serial
    assert helped_cached == serial_cached
    assert len(serial["problems"]) >= len(BROKEN) and len(serial["entries"]) > 150
    if with_cache:  # every clean document kept, the helper's too (clashing ones as well: they are clean)
        assert len(serial_cached) > len(serial["entries"]) + len(serial["named"]) - 1


@pytest.mark.skipif(not parallel.helper_possible(), reason="a helper process needs Linux and a second CPU")
@pytest.mark.parametrize("failure", ["dies", "hangs"])
def test_a_helper_that_dies_or_hangs_costs_time_not_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, slow_parent: None,
    failure: str,
) -> None:
    root = mixed_catalog(tmp_path / "catalog")
    monkeypatch.setattr(parallel, "MIN_FILES", 10**9)
    serial, serial_cached = load(root, tmp_path / "serial.db")
    parent, real = os.getpid(), Catalog._parse_any

    def broken_helper(self: Catalog, *args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:  # in the helper, at its first file
            if failure == "dies":
                os._exit(3)
            time.sleep(3600)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Catalog, "_parse_any", broken_helper)
    monkeypatch.setattr(parallel, "MIN_FILES", 20)
    monkeypatch.setattr(parallel, "WAIT_SECONDS", 1.0)
    caplog.set_level(logging.DEBUG, logger="agenthub.catalog")
    helped, helped_cached = load(root, tmp_path / "helped.db")
    assert helped == serial and helped_cached == serial_cached
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("helper process stopped early" in w for w in warnings), warnings
    assert helper_counts(caplog) == [(0, helper_counts(caplog)[0][1])]
