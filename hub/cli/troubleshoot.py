"""`agenthub diagnose ID` and `agenthub troubleshoot eval | calibrate | capture`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from hub.app import Hub
from hub.cli.common import EXIT_ERROR, EXIT_OK, UsageError
from hub.config import HubConfig


def add_troubleshoot_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `diagnose` and `troubleshoot` sub-commands and their flags."""
    diagnose = commands.add_parser("diagnose", parents=[common],
                                   help="diagnose a failed execution (rules, then the local model, then escalation if unsure)")
    diagnose.add_argument("id", metavar="EXECUTION_ID")
    diagnose.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    _knob_flags(diagnose)
    trouble = commands.add_parser("troubleshoot", parents=[common], help="the troubleshoot agent: eval, calibrate, capture")
    actions = trouble.add_subparsers(dest="troubleshoot_command", required=True, metavar="ACTION")
    evaluate = actions.add_parser("eval", parents=[common],
                                  help="accuracy, calibration, escalation, latency of each tier and the cascade")
    _corpus_flags(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--uncalibrated", action="store_true", help="weigh every model as if it had no calibration profile")
    _knob_flags(evaluate)
    calibrate = actions.add_parser("calibrate", parents=[common],
                                   help="measure each configured model on a labelled corpus; write its calibration profile")
    _corpus_flags(calibrate)
    _knob_flags(calibrate)
    capture = actions.add_parser("capture", parents=[common],
                                 help="store a failed execution's redacted signal with your label in a corpus directory")
    capture.add_argument("id", metavar="EXECUTION_ID")
    capture.add_argument("--category", required=True, help="the true category (agenthub troubleshoot categories lists them)")
    capture.add_argument("--corpus-dir", type=Path, default=Path(".agenthub") / "corpus",
                         help="directory of captured cases (default .agenthub/corpus)")
    capture.add_argument("--note", help="a line on what really happened")


def _corpus_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("corpus", nargs="*", type=Path,
                        help="JSON-lines files or corpus directories (default: the bundled corpus)")
    parser.add_argument("--tiers", default="rules,local,escalation", help="tiers to ask: rules, local, escalation (rules always)")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per model call (default 30)")
    parser.add_argument("--concurrency", type=int, default=1, help="model calls in flight per tier (default 1)")


def _knob_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--local-provider", choices=["ollama", "openai"], help="ollama (default) or openai (any OpenAI-compatible server)")
    parser.add_argument("--local-base-url", help="the local server (default OLLAMA_HOST / OPENAI_BASE_URL)")
    parser.add_argument("--local-model", "--ollama-model", dest="local_model", help="local model (default gemma2:2b)")
    parser.add_argument("--escalate-to", choices=["openai", "claude", "none"], help="escalation target (default openai)")
    parser.add_argument("--escalation-base-url", help="an OpenAI-compatible endpoint for the escalation tier")
    parser.add_argument("--escalation-model", "--openai-model", dest="escalation_model",
                        help="escalation model (default gpt-4o-mini; claude-haiku-4-5 for claude)")
    parser.add_argument("--threshold", type=float, help="escalate below this pooled confidence (default 0.7)")
    parser.add_argument("--budget", type=float, metavar="SECONDS", help="for the whole diagnosis (default 20)")
    parser.add_argument("--max-output-tokens", type=int, help="output cap on every model call (default 400)")
    parser.add_argument("--calibration-dir", help="where calibration profiles live (default .agenthub/calibration)")


def _knobs(args: argparse.Namespace) -> Any:
    from catalog.model import TroubleshootKnobs

    given = {name: getattr(args, name, None) for name in (
        "local_provider", "local_base_url", "local_model", "escalate_to", "escalation_base_url", "escalation_model",
        "budget", "max_output_tokens", "calibration_dir")}
    given["confidence_threshold"] = getattr(args, "threshold", None)
    try:
        return TroubleshootKnobs.model_validate({k: v for k, v in given.items() if v is not None})
    except ValueError as exc:
        raise UsageError(f"bad troubleshoot option: {exc}") from None


async def cmd_diagnose(args: argparse.Namespace, config: HubConfig) -> int:
    """Diagnose a failed execution whatever the opt-in says; records a `diagnosis.finished` event."""
    from troubleshoot.diagnosis import render_diagnosis
    from troubleshoot.ondemand import ExecutionNotFound, NotDiagnosable, diagnose_execution

    knobs = _knobs(args)
    async with Hub(config) as hub:
        try:
            diagnosis = await diagnose_execution(hub, args.id, knobs=knobs, providers=hub.troubleshoot.providers)
        except ExecutionNotFound:
            raise UsageError(f"no execution {args.id!r} in {config.db_display}") from None
        except NotDiagnosable as exc:
            print(f"agenthub: {exc}", file=sys.stderr)
            return EXIT_ERROR
        record = await hub.store.get(args.id)
    execution_id = record.id if record else args.id
    if args.json:
        print(json.dumps({"execution_id": execution_id, **diagnosis.to_dict()}, ensure_ascii=False))
    else:
        print(render_diagnosis(diagnosis, execution_id=execution_id, playbook=record.playbook_path if record else None))
    return EXIT_OK


async def cmd_troubleshoot(args: argparse.Namespace, config: HubConfig) -> int:
    """`troubleshoot eval | calibrate | capture`."""
    if args.troubleshoot_command == "capture":
        return await _capture(args, config)
    from troubleshoot.eval import DEFAULT_CORPUS, calibrate, evaluate, render_table, tier_names
    from troubleshoot.corpus import load_corpora
    from troubleshoot.settings import resolve

    try:
        tiers = tier_names(args.tiers)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    corpora = list(args.corpus) or [DEFAULT_CORPUS]
    try:
        cases = await asyncio.to_thread(load_corpora, corpora)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not cases:
        raise UsageError(f"{', '.join(map(str, corpora))}: no cases")
    settings = resolve(step=_knobs(args), server=config.troubleshoot, on_demand=True)
    if args.troubleshoot_command == "calibrate":
        done = await calibrate(cases, settings, tiers=tiers, timeout=args.timeout, concurrency=args.concurrency,
                               corpus=", ".join(map(str, corpora)))
        for profile, path, line in done:
            print(line + (f"\n  profile: {path}" if path else ""))
        return EXIT_OK if any(p is not None for p, _, _ in done) else EXIT_ERROR
    report = await evaluate(cases, settings, tiers=tiers, timeout=args.timeout, concurrency=args.concurrency,
                            calibrated=not args.uncalibrated)
    print(report.to_json() if args.json else render_table(report))
    return EXIT_OK


async def _capture(args: argparse.Namespace, config: HubConfig) -> int:
    from troubleshoot.categories import Category
    from troubleshoot.corpus import capture_case
    from troubleshoot.ondemand import ExecutionNotFound, NotDiagnosable, failure_signal

    try:
        category = Category(args.category)
    except ValueError:
        raise UsageError(f"--category {args.category!r} is not one of: {', '.join(Category.values())}") from None
    async with Hub(config) as hub:
        try:
            signal = await failure_signal(hub, args.id)
        except ExecutionNotFound:
            raise UsageError(f"no execution {args.id!r} in {config.db}") from None
        except NotDiagnosable as exc:
            print(f"agenthub: {exc}", file=sys.stderr)
            return EXIT_ERROR
    path = await asyncio.to_thread(capture_case, signal, category, args.corpus_dir, note=args.note)
    print(f"captured {signal.execution_id} as {category.value}: {path}")
    return EXIT_OK
