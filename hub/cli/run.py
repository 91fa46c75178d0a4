"""`agenthub run`: arguments from --set/--input-json, live progress, the envelope out."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

import yaml

from hub.app import Hub
from hub.cli.common import EXIT_ERROR, EXIT_OK, UsageError, err
from hub.cli.protocol_streams import claim_stdout, text_writer
from hub.config import HubConfig
from catalog.problems import Problem
from hub.contract.envelope import Envelope, ErrorInfo
from hub.contract.errors import ErrorCode
from hub.contract.records import EventRecord


async def cmd_run(args: argparse.Namespace, config: HubConfig) -> int:
    """Run one playbook. Only the result goes to stdout: from here on, what the playbook's code (or
    a child it spawns) prints lands on stderr (`hub.cli.protocol_streams`)."""
    out = text_writer(claim_stdout())
    async with Hub(config) as hub:
        target = Path(args.target)
        if target.is_file():
            entry, problems = _entry_for_file(hub, target)
            if entry is None:
                if not args.json:
                    raise UsageError("the playbook does not load:\n" + "\n".join(f"  {p}" for p in problems))
                _print_envelope(_invalid(target, problems), as_json=True, out=out)
                return EXIT_ERROR
        else:
            entry = hub.catalog.get(args.target, args.pin)
            latest = hub.catalog.get(args.target) if entry is None and args.pin is not None else None
            if latest is not None:
                versions = ", ".join(str(v) for v in hub.ledger.versions(latest.path)) or str(latest.version)
                raise UsageError(f"playbook {latest.path!r} has no version {args.pin} (versions: {versions})")
            if entry is None:
                problems = [p for ps in hub.catalog.problems.values() for p in ps]
                hint = f" ({len(problems)} catalog files have problems: agenthub catalog validate)" if problems else ""
                raise UsageError(f"no playbook {args.target!r} in catalog {config.catalog}{hint}")
        arguments = _arguments(args.input_json, args.sets, entry.input_schema)
        show_progress = args.progress if args.progress is not None else sys.stderr.isatty()
        listener = _progress_printer(entry.path) if show_progress else None
        main_task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if main_task is not None:
            loop.add_signal_handler(signal.SIGTERM, main_task.cancel)
        envelope = await hub.engine.run(entry, arguments, listener=listener, timeout=args.timeout)
    _print_envelope(envelope, as_json=args.json, out=out)
    return EXIT_OK if envelope.ok else EXIT_ERROR


def _entry_for_file(hub: Hub, file: Path) -> tuple[Any, list[Problem]]:
    resolved = file.resolve()
    for entry in hub.catalog.entries():
        if entry.file and Path(entry.file).resolve() == resolved:
            return entry, []
    return hub.catalog.add(file.read_text(encoding="utf-8"), file=str(file))


def _invalid(file: Path, problems: list[Problem]) -> Envelope:
    """A file that does not load, as the error envelope `--json` callers parse (no execution ran)."""
    shown = "; ".join(str(p) for p in problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
    details = {"problems": [
        {"file": p.file, "line": p.line, "column": p.column, "field": p.field, "message": p.message} for p in problems
    ]}
    error = ErrorInfo.of(ErrorCode.PLAYBOOK_INVALID, f"{file} does not load: {shown}", details=details)
    return Envelope(status="error", framework="noetl", entrypoint=str(file), execution_id="", duration=0.0, error=error)


def _arguments(input_json: str | None, sets: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if input_json:
        try:
            arguments = json.loads(input_json)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--input-json is not valid JSON: {exc}") from None
        if not isinstance(arguments, dict):
            raise UsageError("--input-json must be a JSON object")
    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--set {item!r}: expected KEY=VALUE")
        parts = key.split(".")
        value = raw if _declared_string(schema, parts) else _parse_scalar(item, raw)
        target = arguments
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise UsageError(f"--set {item!r}: {part!r} is not an object")
        target[parts[-1]] = value
    return arguments


def _declared_string(schema: dict[str, Any], parts: list[str]) -> bool:
    node: Any = schema
    for part in parts:
        node = (node.get("properties") or {}).get(part) if isinstance(node, dict) else None
        if node is None:
            return False
    types = node.get("type")
    return types == "string" or (isinstance(types, list) and types == ["string"])


def _parse_scalar(item: str, raw: str) -> Any:
    """A --set value as YAML (`3`, `true`, `[a, b]`, `{k: v}`); invalid YAML is an error rather
    than silently a string (quote a value to pass it as one)."""
    try:
        return yaml.safe_load(raw) if raw else ""
    except yaml.YAMLError as exc:
        problem = str(getattr(exc, "problem", None) or exc).strip()
        raise UsageError(f"--set {item!r}: the value is not valid YAML ({problem}); "
                         "quote it to pass a string, e.g. --set 'key=\"...\"'") from None


def _progress_printer(root_path: str) -> Any:
    depth: dict[str, int] = {}

    def show(event: EventRecord) -> None:
        data = event.data
        if event.type == "execution.started":
            parent = data.get("parent_id")
            depth[event.execution_id] = depth.get(parent, -1) + 1 if parent else 0
            if parent:
                err(f"{'  ' * depth[event.execution_id]}> sub-run {data.get('playbook')} {event.execution_id}")
            return
        pad = "  " * (depth.get(event.execution_id, 0) + 1)
        name = event.step if data.get("iteration") is None else f"{event.step}[{data['iteration']}]"
        error = data.get("error") or {}
        if event.type == "step.started":
            attempt = f" (try {data['attempt']})" if data.get("attempt", 1) > 1 else ""
            err(f"{pad}- {name} ({data.get('kind')}){attempt} ...")
        elif event.type == "step.finished":
            err(f"{pad}+ {name} ok in {data.get('duration', 0):.3f}s")
        elif event.type == "step.retried":
            err(f"{pad}~ {name} {error.get('code')}, retrying in {data.get('delay', 0):g}s")
        elif event.type == "step.failed":
            err(f"{pad}x {name} {error.get('code')}: {error.get('message')}")
        elif event.type == "step.progress":
            err(f"{pad}  {name}: {data.get('message')}")

    return show


def _print_envelope(envelope: Envelope, *, as_json: bool, out: TextIO) -> None:
    if as_json:
        print(json.dumps(envelope.to_dict(), ensure_ascii=False, default=str), file=out)
        return
    head = f"{envelope.status}  {envelope.entrypoint}  {envelope.execution_id}  {envelope.duration:.3f}s"
    print(head, file=out)
    if envelope.error is not None:
        error = envelope.error
        where = f" in step {error.step.name} ({error.step.kind})" if error.step else ""
        print(f"error {error.code} [{error.kind}]{where}: {error.message}", file=out)
    else:
        print(json.dumps(envelope.data, indent=2, ensure_ascii=False, default=str), file=out)
