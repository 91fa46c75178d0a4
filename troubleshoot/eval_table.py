"""The evaluation report as a table for a terminal: one row per tier and the cascade, then
accuracy by category (`agenthub troubleshoot eval` without `--json`)."""

from __future__ import annotations

from troubleshoot.eval import TIERS, EvalReport


def _fmt(value: float | None, pattern: str = "{:.3f}") -> str:
    return "-" if value is None else pattern.format(value)


def render_table(report: EvalReport) -> str:
    """The report for a terminal: one row per tier and the cascade, then accuracy by category."""
    head = (f"{'tier':<10} {'model':<22} {'accuracy':>8} {'answered':>8} {'ECE':>6} {'Brier':>6} {'p50 s':>8} "
            f"{'p95 s':>8} {'tok/diag':>8}  note")
    lines = [f"{report.cases} cases", head, "-" * len(head)]
    shown = {"rules": "rules", "ollama": "local", "openai": "escalation"}
    for name in TIERS:
        s = report.tiers[name]
        if s.status == "skipped":
            lines.append(f"{shown[name]:<10} {(s.model or '-')[:22]:<22} {'skipped':>8}  {s.reason or ''}")
            continue
        notes = [f"{k} {v}" for k, v in sorted(s.outcomes.items()) if k != "ok"]
        if s.calibrated is not None:
            notes.insert(0, f"calibrated (ECE {_fmt(s.calibrated_ece)})" if s.calibrated else "uncalibrated")
        lines.append(
            f"{shown[name]:<10} {(s.model or '-')[:22]:<22} {_fmt(s.accuracy):>8} {_fmt(s.answered):>8} {_fmt(s.ece):>6} "
            f"{_fmt(s.brier):>6} {_fmt(s.p50_latency, '{:.4f}'):>8} {_fmt(s.p95_latency, '{:.4f}'):>8} "
            f"{_fmt(s.tokens_per_diagnosis, '{:.0f}'):>8}  {', '.join(notes)}"
        )
    c = report.cascade
    lines.append(
        f"{'cascade':<10} {'threshold ' + format(c.threshold, 'g'):<22} {_fmt(c.accuracy):>8} {'':>8} {_fmt(c.ece):>6} "
        f"{_fmt(c.brier):>6} {_fmt(c.p50_latency, '{:.4f}'):>8} {_fmt(c.p95_latency, '{:.4f}'):>8} "
        f"{c.tokens_per_diagnosis:>8.0f}  escalation rate {c.escalation_rate:.3f}, local asked {c.local_rate:.3f}, kept: "
        + ", ".join(f"{k} {v}" for k, v in sorted(c.sources.items()))
    )
    if c.baseline_accuracy is not None:
        lines.append(f"{'noetl':<10} {'(baseline)':<22} {c.baseline_accuracy:>8.3f}  "
                     "local if self-confident, else remote; no rules (NoETL's policy, same answers)")
    lines.append("")
    lines.append("accuracy by category: " + "  ".join(
        f"{cat} {c.per_category.get(cat, 0):.2f}/{report.tiers['rules'].per_category.get(cat, 0):.2f}"
        for cat in c.per_category
    ) + "   (cascade/rules)")
    return "\n".join(lines)
