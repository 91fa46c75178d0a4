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


def scripted_rows(report_uncal, report_cal) -> list[str]:  # type: ignore[no-untyped-def]
    """The scripted-tier rows of the figures table, as docs/troubleshoot.md shows them."""
    def row(label: str, accuracy: float, ece: float | None, brier: float | None, escalation: str, p50: str) -> str:
        return f"| {label} | {accuracy:.3f} | {ece:.3f} | {brier:.3f} | {escalation} | {p50} |"

    local, remote = report_uncal.tiers["ollama"], report_uncal.tiers["openai"]
    rows = [
        row("scripted local alone (70 % right at 0.85, wrong at 0.80)", local.accuracy, local.ece, local.brier, "—", "—"),
        row("scripted escalation alone (90 % right at 0.90, wrong at 0.70)", remote.accuracy, remote.ece, remote.brier, "—", "—"),
    ]
    for label, r in (("uncalibrated", report_uncal), ("calibrated", report_cal)):
        c = r.cascade
        rows.append(row(f"**cascade**, scripted tiers, {label}", c.accuracy, c.ece, c.brier, f"{c.escalation_rate:.3f}", "—"))
    return rows


async def test_the_documented_cascade_figures_are_the_measured_ones(llm_env, ollama_server, openai_server, tmp_path) -> None:
    """The scripted-server rows of the figures table, measured the way the docs say: both scripted
    models calibrated on the corpus, then the cascade evaluated with and without the profiles."""
    from llm_servers import scripted_model

    from troubleshoot.eval import calibrate
    from troubleshoot.settings import TroubleshootSettings

    cases = load_corpus()
    labels = {c.signal.execution_id: c.category.value for c in cases}
    ollama_server.responder = scripted_model(labels, accuracy=0.7, confidence=0.85, wrong_confidence=0.8, salt="ollama")
    openai_server.responder = scripted_model(labels, accuracy=0.9, confidence=0.9, wrong_confidence=0.7, salt="openai")
    settings = TroubleshootSettings(enabled=True, calibration_dir=str(tmp_path / "profiles"))
    await calibrate(cases, settings, concurrency=8)
    uncalibrated = await evaluate(cases, settings, concurrency=8, calibrated=False)
    calibrated = await evaluate(cases, settings, concurrency=8)
    text = DOC.read_text(encoding="utf-8")
    for row in scripted_rows(uncalibrated, calibrated):
        assert row in text, row
