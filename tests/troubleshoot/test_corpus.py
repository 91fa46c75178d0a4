"""The committed evaluation corpus: big enough, spread over every category, safe, reproducible."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import corpus_build

from troubleshoot.categories import Category
from troubleshoot.eval import DEFAULT_CORPUS, evaluate, load_corpus


def test_corpus_is_large_labelled_and_spread() -> None:
    cases = load_corpus(DEFAULT_CORPUS)
    assert len(cases) >= 60
    counts = Counter(c.category for c in cases)
    assert set(counts) == set(Category), set(Category) - set(counts)
    assert min(counts.values()) >= 3, counts
    origins = Counter(c.origin for c in cases)
    assert origins["run"] > 2 * origins["recorded"], origins
    assert len({c.id for c in cases}) == len(cases) and len({c.signal.execution_id for c in cases}) == len(cases)


def test_corpus_holds_no_secret() -> None:
    text = DEFAULT_CORPUS.read_text(encoding="utf-8")
    assert corpus_build.TOKEN not in text
    echoed = next(c for c in load_corpus(DEFAULT_CORPUS) if c.id == "auth/echoed-bearer")
    assert "***" in echoed.signal.error_message


def test_a_fresh_build_reproduces_the_committed_cases(tmp_path: Path) -> None:
    fresh = asyncio.run(corpus_build.build(tmp_path / "fresh.jsonl"))
    committed = load_corpus(DEFAULT_CORPUS)

    def key(case: dict) -> tuple:
        s = case["signal"]
        return case["id"], case["category"], s["error_code"], s.get("failed_step"), s.get("tool_kind"), s.get("http_status")

    assert [key(c) for c in fresh] == [key(c.model_dump(mode="json")) for c in committed]


def test_rule_tier_accuracy_on_the_corpus() -> None:
    """The figure docs/troubleshoot.md quotes; a drop means a rule regressed."""
    report = asyncio.run(evaluate(load_corpus(DEFAULT_CORPUS), tiers=["rules"]))
    assert report.tiers["rules"].accuracy >= 0.95
    assert report.cascade.accuracy == report.tiers["rules"].accuracy
