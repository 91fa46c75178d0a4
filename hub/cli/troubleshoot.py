"""`agenthub diagnose ID` and `agenthub troubleshoot eval`."""

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


def _knobs(args: argparse.Namespace) -> Any:
    from catalog.model import TroubleshootKnobs

    given = {"ollama_model": args.ollama_model, "openai_model": args.openai_model, "budget": args.budget,
             "confidence_threshold": args.threshold, "escalate_to": args.escalate_to}
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
            raise UsageError(f"no execution {args.id!r} in {config.db}") from None
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
    """`troubleshoot eval`: score the tiers and the cascade on a labelled corpus."""
    from troubleshoot.eval import DEFAULT_CORPUS, TIERS, evaluate, load_corpus, render_table
    from troubleshoot.settings import resolve

    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()]
    if "rules" not in tiers:
        tiers.insert(0, "rules")
    if any(t not in TIERS for t in tiers):
        raise UsageError(f"--tiers takes {', '.join(TIERS)}")
    corpus = args.corpus or DEFAULT_CORPUS
    if not Path(corpus).is_file():
        raise UsageError(f"no corpus file {corpus}")
    try:
        cases = await asyncio.to_thread(load_corpus, corpus)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not cases:
        raise UsageError(f"{corpus} has no cases")
    settings = resolve(step=_knobs(args), server=config.troubleshoot, on_demand=True)
    report = await evaluate(cases, settings, tiers=tiers, timeout=args.timeout, concurrency=args.concurrency)
    print(report.to_json() if args.json else render_table(report))
    return EXIT_OK
