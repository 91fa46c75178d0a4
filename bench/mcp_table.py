"""The table of issue 12 (hub, bare SDK, ratio, goal) from the records one `bench/mcp.py` run
collected; printed at the end of the run (stderr) so the README can show the last run as is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MODERN, LEGACY = "2026-07-28", "2025-11-25"


def _join(values: list[Any], unit: str = "") -> str:
    shown = ["-" if v is None else f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in values]
    return " / ".join(shown) + unit if shown else "-"


def _ratios(hub: list[Any], bare: list[Any]) -> str:
    out = []
    for h, b in zip(hub, bare):
        out.append("-" if not h or not b else f"{h / b:.2f}")
    return " / ".join(out) if out else "-"


def _series(rows: dict[str, Any], keys: list[str], side: str, pick: Callable[[dict[str, Any]], Any]) -> list[Any]:
    return [pick(rows[k][side]) if k in rows else None for k in keys]


def issue_table(rows: dict[str, Any]) -> str:
    """Markdown: one line per figure of the issue, hub and bare from the same run."""
    lines = ["| | hub | bare SDK | hub/bare | goal |", "|---|---|---|---|---|"]

    def add(label: str, hub: list[Any], bare: list[Any], goal: str, unit: str = "") -> None:
        lines.append(f"| {label} | {_join(hub, unit)} | {_join(bare, unit)} | {_ratios(hub, bare)} | {goal} |")

    for era in (MODERN, LEGACY):
        keys = sorted((k for k in rows if k.startswith(f"http {era} c")), key=lambda k: int(k.rsplit("c", 1)[1]))
        if keys:
            label = "/".join(k.rsplit("c", 1)[1] for k in keys)
            cpu = lambda r: r.get("server_cpu_us_per_call")  # noqa: E731
            add(f"server CPU per call, HTTP {era}, c={label}", _series(rows, keys, "hub", cpu),
                _series(rows, keys, "bare", cpu), "<= 1.25", " µs")
    for era in (MODERN, LEGACY):
        pair = rows.get(f"stdio {era}")
        if pair:
            keys = sorted(k for k in pair["hub"] if k.startswith("c") and k.endswith("_server_cpu_us_per_call"))
            keys.sort(key=lambda k: int(k[1:].split("_", 1)[0]))
            label = "/".join(k[1:].split("_", 1)[0] for k in keys)
            add(f"stdio CPU per call, {era}, c={label}", [pair["hub"].get(k) for k in keys],
                [pair["bare"].get(k) for k in keys], "<= 1.25", " µs")
    first = rows.get(f"http {MODERN} c1")
    if first:
        add(f"p50 latency at c=1, HTTP {MODERN}", [first["hub"]["p50_ms"]], [first["bare"]["p50_ms"]], "<= 1.5", " ms")
    startup = rows.get("startup")
    if startup:
        lines.append(f"| start-up with {startup['catalog_playbooks']:,} playbooks (empty db / restart) | "
                     f"{startup['hub_s']:g} / {startup.get('hub_restart_s', '-')} s | {startup['bare_s']:g} s | "
                     f"{startup['hub_s'] / startup['bare_s']:.1f} / "
                     f"{(startup.get('hub_restart_s') or 0) / startup['bare_s']:.1f} | <= 1.5 s both |")
        lines.append(f"| idle CPU with {startup['catalog_playbooks']:,} playbooks | "
                     f"{startup['hub_idle_cpu_pct']:g} % | {startup['bare_idle_cpu_pct']:g} % | | ~0 |")
    for era in (MODERN, LEGACY):
        listing = rows.get(f"tools/list {era}")
        if listing:
            hub, bare = listing["hub"], listing["bare"]
            add(f"tools/list first page of 100 tools, {era}", [round(hub["first_page_bytes"] / 1000, 1)],
                [round(bare["first_page_bytes"] / 1000, 1)], "<= 3", " KB")
            add(f"all {hub['pages']} pages of tools/list, {era}", [hub["full_p50_ms"]], [bare["full_p50_ms"]],
                "<= 2", " ms")
    return "\n".join(lines)
