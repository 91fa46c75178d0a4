"""docs/troubleshoot.md lists exactly the categories of troubleshoot/categories.py, and quotes the
rule tier's measured accuracy on the committed corpus."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from troubleshoot.categories import Category
from troubleshoot.eval import evaluate, load_corpus

DOC = Path(__file__).resolve().parents[2] / "docs" / "troubleshoot.md"
ROW = re.compile(r"^\| `(?P<name>[a-z_0-9]+)` \| (?P<meaning>[^|]+) \|$")


def test_every_category_is_documented_and_nothing_else() -> None:
    rows = {m["name"]: m["meaning"] for line in DOC.read_text(encoding="utf-8").splitlines()
            if (m := ROW.match(line.strip()))}
    assert set(rows) == set(Category.values())
    assert all(meaning.strip() for meaning in rows.values())


def test_the_documented_rule_accuracy_is_the_measured_one() -> None:
    report = asyncio.run(evaluate(load_corpus(), tiers=["rules"]))
    text = DOC.read_text(encoding="utf-8")
    assert f"| rule tier alone (no model) | **{report.tiers['rules'].accuracy:.3f}**" in text
    assert f"### Figures ({report.cases} cases)" in text


async def test_the_documented_cascade_figures_are_the_measured_ones(llm_env, ollama_server, openai_server) -> None:
    """The scripted-server row of the figures table, measured the way the docs say."""
    from llm_servers import scripted_model

    from troubleshoot.settings import TroubleshootSettings

    cases = load_corpus()
    labels = {c.signal.execution_id: c.category.value for c in cases}
    ollama_server.responder = scripted_model(labels, accuracy=0.7, confidence=0.85, wrong_confidence=0.8, salt="ollama")
    openai_server.responder = scripted_model(labels, accuracy=0.9, confidence=0.9, wrong_confidence=0.7, salt="openai")
    report = await evaluate(cases, TroubleshootSettings(enabled=True), concurrency=8)
    c = report.cascade
    row = (f"| **cascade** (rules → scripted Ollama → scripted OpenAI, threshold 0.7) | **{c.accuracy:.3f}** | "
           f"{c.ece:.3f} | {c.escalation_rate:.3f} |")
    text = DOC.read_text(encoding="utf-8")
    assert row in text, row
    assert f"| NoETL's policy on the same model answers | {c.baseline_accuracy:.3f} |" in text
