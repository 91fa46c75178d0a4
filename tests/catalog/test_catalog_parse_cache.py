"""The catalog's parse cache (`catalog.parse_cache`) on the SQLite ledger: a restart loads checked
documents back instead of parsing them, an edit is parsed, a broken file is never cached, and a
cache that answers garbage costs a parse, not the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import catalog.catalog as catalog_module
from catalog.catalog import Catalog
from hub.store.sqlite_ledger import SqliteLedger

PLAYBOOK = """\
apiVersion: agenthub/v1
kind: Playbook
metadata: {{name: {name}, description: "{description}"}}
input:
  text: {{type: string}}
workflow:
  - step: s
    tool: {{kind: noop}}
"""


def write(root: Path, name: str, description: str = "d") -> None:
    (root / f"{name}.yaml").write_text(PLAYBOOK.format(name=name, description=description))


def rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM parsed_documents").fetchone()[0]


def test_a_restart_loads_checked_documents_back_and_parses_only_what_changed(tmp_path: Path, monkeypatch) -> None:
    root, db = tmp_path / "catalog", tmp_path / "hub.db"
    root.mkdir()
    for name in ("alpha", "beta"):
        write(root, name)
    (root / "broken.yaml").write_text("kind: Playbook\nmetadata: [\n")
    with SqliteLedger(db) as ledger:
        first = Catalog(root, ledger=ledger, parse_cache=ledger)
        problems = first.load()
        assert [p.file.endswith("broken.yaml") for p in problems] == [True] * len(problems) and problems
        assert rows(db) == 2  # the broken file is not kept

    parsed: list[str] = []
    real_check = catalog_module.check_document

    def counted(source: str, file: str, **kwargs):
        parsed.append(Path(file).name)
        return real_check(source, file, **kwargs)

    monkeypatch.setattr(catalog_module, "check_document", counted)
    write(root, "beta", "edited")
    with SqliteLedger(db) as ledger:
        again = Catalog(root, ledger=ledger, parse_cache=ledger)
        problems_again = again.load()
        assert sorted(parsed) == ["beta.yaml", "broken.yaml"]  # alpha came from the cache
        assert [p.message for p in problems_again] == [p.message for p in problems]
        alpha_before, alpha_now = first.get("alpha"), again.get("alpha")
        assert alpha_now.playbook == alpha_before.playbook and alpha_now.input_schema == alpha_before.input_schema
        assert alpha_now.version == alpha_before.version == 1
        assert again.get("beta").description == "edited" and again.get("beta").version == 2
    assert rows(db) == 3


def test_a_blob_that_does_not_load_is_parsed_again(tmp_path: Path) -> None:
    root, db = tmp_path / "catalog", tmp_path / "hub.db"
    root.mkdir()
    write(root, "alpha")
    with SqliteLedger(db) as ledger:
        Catalog(root, ledger=ledger, parse_cache=ledger).load()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE parsed_documents SET blob = x'00ff'")
    with SqliteLedger(db) as ledger:
        catalog = Catalog(root, ledger=ledger, parse_cache=ledger)
        assert catalog.load() == []
        assert catalog.get("alpha") is not None and catalog.get("alpha").name == "alpha"


@pytest.mark.parametrize("kinds", [None, {}])
def test_the_key_depends_on_what_checking_depends_on(tmp_path: Path, kinds) -> None:
    from catalog.parse_cache import CheckedDocuments

    plain, other = CheckedDocuments(None, None), CheckedDocuments(None, kinds)
    assert plain.key("a") != plain.key("b")
    assert (plain.key("a") == other.key("a")) == (kinds is None)
