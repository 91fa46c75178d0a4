"""The catalog's parse cache (`catalog.parse_cache`) on the SQLite ledger: a restart loads checked
documents back instead of parsing them, an edit is parsed, a broken file is never cached, and a
cache that answers garbage costs a parse, not the file."""

from __future__ import annotations

import dataclasses
import pickle
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


# -- a restart serves from the cache: the same catalog, models loaded only when asked for -----------

REPO = Path(__file__).resolve().parents[2]


def _copy_catalog(source: Path, target: Path) -> Path:
    """The bundled catalog and the conformance fixtures (titles, annotations, scopes, output
    schemas, JSON Schema inputs, NoETL documents, elicit/sample/roots steps) as one catalog."""
    import shutil

    shutil.copytree(source / "playbooks", target, ignore=shutil.ignore_patterns("README.md"))
    shutil.copytree(source / "playbooks" / ".conformance", target / "conformance")
    return target


def _served(catalog: Catalog) -> list[tuple]:
    return [(e.path, e.version, e.name, e.file, e.digest, e.facts, e.input_schema, e.output_schema)
            for e in catalog.entries()]


def test_a_restart_serves_the_same_catalog_and_tools_without_loading_a_model(tmp_path: Path) -> None:
    from hub.engine.kinds.registry import StepKinds
    from hub.mcp.tools import tool_for_entry

    root, db = _copy_catalog(REPO, tmp_path / "catalog"), tmp_path / "hub.db"
    kinds = StepKinds.builtin()
    with SqliteLedger(db) as ledger:
        first = Catalog(root, ledger=ledger, parse_cache=ledger, tool_kinds=kinds.tool_specs())
        first_problems = first.load()
    with SqliteLedger(db) as ledger:
        again = Catalog(root, ledger=ledger, parse_cache=ledger, tool_kinds=kinds.tool_specs())
        assert again.load() == first_problems
    assert len(again) > 40 and _served(again) == _served(first)
    assert [p.name for p in again.prompts()] == [p.name for p in first.prompts()]
    assert not any(e.model.is_loaded for e in again.entries())

    def tools(catalog: Catalog, needs) -> list[dict]:
        return [tool_for_entry(e, needs(e)).model_dump(by_alias=True) for e in catalog.entries() if e.expose]

    assert tools(again, kinds.entry_client_capabilities) == tools(first, lambda e: kinds.client_capabilities(e.playbook))
    needing = {e.name for e in again.entries() if kinds.entry_client_capabilities(e)}
    assert needing and all(again.get(name).model.is_loaded for name in needing)  # the steps were read
    assert not any(e.model.is_loaded for e in again.entries() if e.name not in needing)
    assert [e.playbook for e in again.entries()] == [e.playbook for e in first.entries()]
    assert all(e.model.is_loaded for e in again.entries())


def _rewrite_cards(db: Path, change) -> None:
    from catalog.parse_cache import CachedPlaybook

    with sqlite3.connect(db) as conn:
        for key, blob in conn.execute("SELECT key, blob FROM parsed_documents").fetchall():
            card = CachedPlaybook.loads(bytes(blob))
            conn.execute("UPDATE parsed_documents SET blob = ? WHERE key = ?", (change(card).dumps(), key))


@pytest.mark.parametrize("model_blob", [b"\x80\x05not a pickle", pickle.dumps({"kind": "Playbook"})],
                         ids=["corrupt", "not-a-playbook"])
def test_a_cached_model_that_does_not_load_back_is_parsed_from_the_entry_source(tmp_path: Path, model_blob) -> None:
    root, db = tmp_path / "catalog", tmp_path / "hub.db"
    root.mkdir()
    write(root, "alpha", "the real one")
    with SqliteLedger(db) as ledger:
        fresh = Catalog(root, ledger=ledger, parse_cache=ledger)
        fresh.load()
    _rewrite_cards(db, lambda card: card._replace(model_blob=model_blob))
    with SqliteLedger(db) as ledger:
        catalog = Catalog(root, ledger=ledger, parse_cache=ledger)
        assert catalog.load() == []
    entry = catalog.get("alpha")
    assert not entry.model.is_loaded and entry.description == "the real one"
    assert entry.playbook == fresh.get("alpha").playbook
    assert entry.playbook is entry.playbook  # loaded once, kept


def test_a_card_that_does_not_load_is_parsed_again_on_load(tmp_path: Path, monkeypatch) -> None:
    from catalog.parse_cache import _CARD_TAG

    root, db = tmp_path / "catalog", tmp_path / "hub.db"
    root.mkdir()
    write(root, "alpha")
    with SqliteLedger(db) as ledger:
        Catalog(root, ledger=ledger, parse_cache=ledger).load()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE parsed_documents SET blob = ?", (_CARD_TAG + b"\xffgarbage",))
    parsed = _count_parses(monkeypatch)
    with SqliteLedger(db) as ledger:
        catalog = Catalog(root, ledger=ledger, parse_cache=ledger)
        assert catalog.load() == []
    assert parsed == ["alpha.yaml"] and catalog.get("alpha").model.is_loaded


def _count_parses(monkeypatch) -> list[str]:
    parsed: list[str] = []
    real_check = catalog_module.check_document

    def counted(source: str, file: str, **kwargs):
        parsed.append(Path(file).name)
        return real_check(source, file, **kwargs)

    monkeypatch.setattr(catalog_module, "check_document", counted)
    return parsed


def test_an_edited_file_between_restarts_is_served_as_edited(tmp_path: Path, monkeypatch) -> None:
    root, db = tmp_path / "catalog", tmp_path / "hub.db"
    root.mkdir()
    write(root, "alpha", "before")
    with SqliteLedger(db) as ledger:
        Catalog(root, ledger=ledger, parse_cache=ledger).load()
    (root / "alpha.yaml").write_text(PLAYBOOK.format(name="alpha", description="after").replace("text:", "words:"))
    parsed = _count_parses(monkeypatch)
    with SqliteLedger(db) as ledger:
        catalog = Catalog(root, ledger=ledger, parse_cache=ledger)
        catalog.load()
    entry = catalog.get("alpha")
    assert parsed == ["alpha.yaml"] and entry.version == 2 and entry.description == "after"
    assert list(entry.input_schema["properties"]) == ["words"]
    monkeypatch.undo()
    with SqliteLedger(db) as ledger:  # and the edit is served from the cache on the next start
        parsed = _count_parses(monkeypatch)
        later = Catalog(root, ledger=ledger, parse_cache=ledger)
        later.load()
    assert parsed == [] and later.get("alpha").description == "after" and later.get("alpha").version == 2
    assert list(later.get("alpha").playbook.input) == ["words"]


def test_a_changed_checker_or_kind_set_parses_again(tmp_path: Path, monkeypatch) -> None:
    import catalog.parse_cache as parse_cache
    from hub.engine.kinds.registry import StepKinds

    root, db = tmp_path / "catalog", tmp_path / "hub.db"
    root.mkdir()
    write(root, "alpha")
    with SqliteLedger(db) as ledger:
        Catalog(root, ledger=ledger, parse_cache=ledger).load()
    parsed = _count_parses(monkeypatch)
    monkeypatch.setattr(parse_cache, "CACHE_FORMAT", "a checker of another version")
    with SqliteLedger(db) as ledger:
        Catalog(root, ledger=ledger, parse_cache=ledger).load()
        assert parsed == ["alpha.yaml"]
        Catalog(root, ledger=ledger, parse_cache=ledger, tool_kinds=StepKinds.builtin().tool_specs()).load()
        assert parsed == ["alpha.yaml", "alpha.yaml"]
        assert Catalog(root, ledger=ledger, parse_cache=ledger).load() == [] and parsed == ["alpha.yaml"] * 2
    assert rows(db) == 3


def test_threads_asking_for_a_cached_model_at_once_get_one_model(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    root, db = tmp_path / "catalog", tmp_path / "hub.db"
    root.mkdir()
    write(root, "alpha")
    with SqliteLedger(db) as ledger:
        Catalog(root, ledger=ledger, parse_cache=ledger).load()
        catalog = Catalog(root, ledger=ledger, parse_cache=ledger)
        catalog.load()
    entry = catalog.get("alpha")
    with ThreadPoolExecutor(8) as pool:
        models = list(pool.map(lambda _: entry.playbook, range(64)))
    assert len({id(m) for m in models}) == 1 and models[0].metadata.name == "alpha"


def test_a_card_marshal_cannot_hold_is_kept_as_a_pickle(tmp_path: Path) -> None:
    import datetime

    from catalog.parse_cache import CachedPlaybook, CheckedDocuments

    root, db = tmp_path / "catalog", tmp_path / "hub.db"
    root.mkdir()
    write(root, "alpha")
    with SqliteLedger(db) as ledger:
        fresh = Catalog(root, ledger=ledger, parse_cache=ledger)
        fresh.load()
        entry = fresh.get("alpha")
        odd = dataclasses.replace(entry, input_schema={**entry.input_schema, "x-when": datetime.date(2024, 1, 2)})
        with pytest.raises(ValueError):
            CachedPlaybook(odd.facts, odd.input_schema, odd.output_schema, b"").dumps()
        checked = CheckedDocuments(ledger, None)
        checked.remember_playbook("odd-key", odd)
        checked.save()
        (card,) = checked.lookup(["odd-key"]).values()
    assert isinstance(card, CachedPlaybook) and card.input_schema["x-when"] == datetime.date(2024, 1, 2)
    assert card.facts == entry.facts and pickle.loads(card.model_blob) == entry.playbook
