"""A catalog load runs with the cyclic garbage collector paused (`catalog.collector_pause`), and
leaves it as it found it, also when the load fails."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

import catalog.catalog as catalog_module
from catalog.catalog import Catalog

PLAYBOOK = "apiVersion: agenthub/v1\nkind: Playbook\nmetadata: {name: p}\nworkflow:\n  - {step: s, tool: {kind: noop}}\n"


@pytest.fixture
def collector_seen(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    seen: list[bool] = []
    real = catalog_module.check_document

    def check(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(catalog_module, "check_document", check)
    return seen


@pytest.mark.parametrize("enabled_before", [True, False])
def test_the_collector_is_off_during_a_load_and_as_before_after_it(
    tmp_path: Path, collector_seen: list[bool], enabled_before: bool
) -> None:
    (tmp_path / "p.yaml").write_text(PLAYBOOK)
    if not enabled_before:
        gc.disable()
    try:
        catalog = Catalog(tmp_path)
        assert catalog.load() == [] and len(catalog) == 1
        assert collector_seen == [False]
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()


def test_a_failing_load_turns_the_collector_back_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(root: Path) -> list[Path]:
        raise OSError("disk gone")

    monkeypatch.setattr(catalog_module, "scan_catalog", broken)
    with pytest.raises(OSError):
        Catalog(tmp_path).load()
    assert gc.isenabled()
