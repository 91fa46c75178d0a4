"""The `agenthub` command line: run playbooks, inspect the catalog and executions, cancel runs."""

from __future__ import annotations

import argparse
import contextlib
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml

from hub.app import Hub
from hub.config import HubConfig
from hub.envelope import Envelope
from hub.records import EventRecord, ExecutionStatus
from hub.report import execution_report, executions_table

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


@contextlib.asynccontextmanager
async def _closing(hub: Hub) -> AsyncIterator[Hub]:
    try:
        yield hub
    finally:
        await hub.aclose()


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--catalog", type=Path, default=argparse.SUPPRESS,
                        help="catalog directory (env AGENTHUB_CATALOG, default playbooks/)")
    common.add_argument("--db", type=Path, default=argparse.SUPPRESS,
                        help="SQLite database (env AGENTHUB_DB, default .agenthub/agenthub.db)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="agenthub", parents=[common], description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", parents=[common], help="run a playbook (catalog path, name or file)")
    run.add_argument("target", metavar="PATH_OR_FILE")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                     help="an argument; dotted keys nest, non-string inputs parse as YAML (repeatable)")
    run.add_argument("--input-json", metavar="JSON", help="arguments as a JSON object (--set wins)")
    run.add_argument("--version", dest="pin", type=int, help="run this catalog version")
    run.add_argument("--timeout", type=float, help="deadline for the whole run, seconds")
    run.add_argument("--json", action="store_true", help="print the envelope as JSON")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="live step progress on stderr (default: when stderr is a terminal)")

    cat = commands.add_parser("catalog", parents=[common], help="list, show, validate playbooks")
    cat_cmds = cat.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    for name, text in (("list", "list the playbooks"), ("validate", "check every playbook file")):
        sub = cat_cmds.add_parser(name, parents=[common], help=text)
        sub.add_argument("dir", nargs="?", type=Path, help="catalog directory (default --catalog)")
        sub.add_argument("--json", action="store_true")
    show = cat_cmds.add_parser("show", parents=[common], help="one playbook: metadata, schemas, steps")
    show.add_argument("ref", metavar="PATH_OR_NAME")
    show.add_argument("--json", action="store_true")
    schema = cat_cmds.add_parser("schema", parents=[common], help="JSON Schema of the playbook format")
    schema.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")

    exe = commands.add_parser("executions", parents=[common], help="list and show executions")
    exe_cmds = exe.add_subparsers(dest="executions_command", required=True, metavar="ACTION")
    lst = exe_cmds.add_parser("list", parents=[common], help="recent executions, newest first")
    lst.add_argument("--status", choices=[s.value for s in ExecutionStatus])
    lst.add_argument("--limit", type=int, default=20)
    lst.add_argument("--json", action="store_true")
    shw = exe_cmds.add_parser("show", parents=[common], help="a report: steps, timings, errors, result")
    shw.add_argument("id", metavar="ID")
    shw.add_argument("--json", action="store_true")

    cancel = commands.add_parser("cancel", parents=[common], help="cancel a running execution")
    cancel.add_argument("id", metavar="ID")
    cancel.add_argument("--wait", type=float, default=5.0, help="seconds to wait for it to stop")

    stdio = commands.add_parser("stdio", parents=[common],
                                help="serve the catalog as MCP tools over stdin/stdout (for IDE clients)")
    stdio.add_argument("--page-size", type=int, metavar="N",
                       help="tools/list page size (env AGENTHUB_MCP_PAGE_SIZE, default 100)")
    stdio.add_argument("--call-timeout", type=float, metavar="SECONDS",
                       help="answer `running` after this long (env AGENTHUB_CALL_TIMEOUT, default 60)")

    serve = commands.add_parser("serve", parents=[common],
                                help="serve MCP (streamable HTTP at /mcp) and the REST API (/api) over HTTP")
    from hub.serve_flags import add_arguments as add_serve_arguments

    add_serve_arguments(serve)

    token = commands.add_parser("token", parents=[common], help="make and hash bearer tokens for --tokens-file")
    token_cmds = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    token_hash = token_cmds.add_parser("hash", help="print the sha256 of a token (read from stdin if not given)")
    token_hash.add_argument("token", nargs="?")
    token_new = token_cmds.add_parser("new", help="print a new random token; add its hash to a tokens file")
    token_new.add_argument("--subject", required=True, help="who the token is for")
    token_new.add_argument("--scope", dest="scopes", action="append", default=[], help="a scope (repeatable)")
    token_new.add_argument("--tokens-file", type=Path, help="append the entry to this file (else print it)")
    token_new.add_argument("--expires-in", type=float, metavar="SECONDS", help="the token stops working after")

    diagnose = commands.add_parser("diagnose", parents=[common],
                                   help="diagnose a failed execution (rules, then Ollama, then OpenAI if unsure)")
    diagnose.add_argument("id", metavar="EXECUTION_ID")
    diagnose.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    _troubleshoot_knobs(diagnose)
    trouble = commands.add_parser("troubleshoot", parents=[common], help="the troubleshoot agent: evaluation")
    trouble_cmds = trouble.add_subparsers(dest="troubleshoot_command", required=True, metavar="ACTION")
    evaluate = trouble_cmds.add_parser("eval", parents=[common],
                                       help="accuracy, escalation, calibration, latency of each tier and the cascade")
    evaluate.add_argument("corpus", nargs="?", type=Path, help="JSON lines of labelled failures (default: the bundled corpus)")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--tiers", default="rules,ollama,openai", help="tiers to ask (comma-separated; rules always)")
    evaluate.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="per model call (default 30)")
    evaluate.add_argument("--concurrency", type=int, default=1, help="model calls in flight per tier (default 1)")
    _troubleshoot_knobs(evaluate)
    return parser


def _troubleshoot_knobs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ollama-model", help="local model (default from config, else gemma2:2b)")
    parser.add_argument("--openai-model", help="OpenAI model (default from config, else gpt-4o-mini)")
    parser.add_argument("--threshold", type=float, help="escalate below this pooled confidence (default 0.7)")
    parser.add_argument("--escalate-to", choices=["openai", "none"], help="escalation target (default openai)")
    parser.add_argument("--budget", type=float, metavar="SECONDS", help="for the whole diagnosis (default 20)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = HubConfig.load(catalog=getattr(args, "catalog", None), db=getattr(args, "db", None))
    except ValueError as exc:
        print(f"agenthub: bad configuration: {exc}", file=sys.stderr)
        return EXIT_USAGE
    handler = {
        "run": _run,
        "catalog": _catalog,
        "executions": _executions,
        "cancel": _cancel,
        "stdio": _stdio,
        "serve": _serve,
        "token": _token,
        "diagnose": _diagnose,
        "troubleshoot": _troubleshoot,
    }[args.command]
    try:
        return asyncio.run(handler(args, config))
    except KeyboardInterrupt:
        return 130
    except UsageError as exc:
        print(f"agenthub: {exc}", file=sys.stderr)
        return EXIT_USAGE


class UsageError(Exception):
    pass


# -- run ---------------------------------------------------------------------------------------


async def _run(args: argparse.Namespace, config: HubConfig) -> int:
    async with Hub(config) as hub:
        target = Path(args.target)
        if target.is_file():
            entry = _entry_for_file(hub, target)
        else:
            entry = hub.catalog.get(args.target, args.pin)
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
    _print_envelope(envelope, as_json=args.json)
    return EXIT_OK if envelope.ok else EXIT_ERROR


def _entry_for_file(hub: Hub, file: Path) -> Any:
    resolved = file.resolve()
    for entry in hub.catalog.entries():
        if entry.file and Path(entry.file).resolve() == resolved:
            return entry
    entry, problems = hub.catalog.add(file.read_text(encoding="utf-8"), file=str(file))
    if entry is None:
        raise UsageError("the playbook does not load:\n" + "\n".join(f"  {p}" for p in problems))
    return entry


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
        value = raw if _declared_string(schema, parts) else _parse_scalar(raw)
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


def _parse_scalar(raw: str) -> Any:
    try:
        return yaml.safe_load(raw) if raw else ""
    except yaml.YAMLError:
        return raw


def _progress_printer(root_path: str) -> Any:
    depth: dict[str, int] = {}

    def show(event: EventRecord) -> None:
        data = event.data
        if event.type == "execution.started":
            parent = data.get("parent_id")
            depth[event.execution_id] = depth.get(parent, -1) + 1 if parent else 0
            if parent:
                _err(f"{'  ' * depth[event.execution_id]}> sub-run {data.get('playbook')} {event.execution_id}")
            return
        pad = "  " * (depth.get(event.execution_id, 0) + 1)
        name = event.step if data.get("iteration") is None else f"{event.step}[{data['iteration']}]"
        error = data.get("error") or {}
        if event.type == "step.started":
            attempt = f" (try {data['attempt']})" if data.get("attempt", 1) > 1 else ""
            _err(f"{pad}- {name} ({data.get('kind')}){attempt} ...")
        elif event.type == "step.finished":
            _err(f"{pad}+ {name} ok in {data.get('duration', 0):.3f}s")
        elif event.type == "step.retried":
            _err(f"{pad}~ {name} {error.get('code')}, retrying in {data.get('delay', 0):g}s")
        elif event.type == "step.failed":
            _err(f"{pad}x {name} {error.get('code')}: {error.get('message')}")
        elif event.type == "step.progress":
            _err(f"{pad}  {name}: {data.get('message')}")

    return show


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _print_envelope(envelope: Envelope, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(envelope.to_dict(), ensure_ascii=False, default=str))
        return
    head = f"{envelope.status}  {envelope.entrypoint}  {envelope.execution_id}  {envelope.duration:.3f}s"
    print(head)
    if envelope.error is not None:
        error = envelope.error
        where = f" in step {error.step.name} ({error.step.kind})" if error.step else ""
        print(f"error {error.code} [{error.kind}]{where}: {error.message}")
    else:
        print(json.dumps(envelope.data, indent=2, ensure_ascii=False, default=str))


# -- catalog -----------------------------------------------------------------------------------


async def _catalog(args: argparse.Namespace, config: HubConfig) -> int:
    action = args.catalog_command
    if action == "schema":
        from catalog.format_schema import playbook_format_schema
        from hub.kinds.registry import StepKinds

        text = json.dumps(playbook_format_schema(StepKinds.builtin().tool_specs()), indent=2)
        if args.output:
            args.output.write_text(text + "\n", encoding="utf-8")
            print(f"wrote {args.output}", file=sys.stderr)
        else:
            print(text)
        return EXIT_OK
    if getattr(args, "dir", None) is not None:
        config = config.model_copy(update={"catalog": args.dir})
    if not config.catalog.is_dir():
        raise UsageError(f"catalog directory {config.catalog} does not exist")
    if action == "validate":
        return await _validate(config, as_json=args.json)
    async with Hub(config) as hub:
        if action == "list":
            entries = hub.catalog.entries()
            if args.json:
                print(json.dumps([_entry_summary(e) for e in entries], indent=2))
            else:
                for e in entries:
                    flags = " agent" if e.playbook.metadata.agent else ""
                    print(f"{e.path}@{e.version}  {e.name}{flags}  {e.playbook.metadata.title or ''}".rstrip())
                if hub.problems:
                    _err(f"{len(hub.catalog.problems)} file(s) with problems; see: agenthub catalog validate")
            return EXIT_OK
        entry = hub.catalog.get(args.ref)
        if entry is None:
            raise UsageError(f"no playbook {args.ref!r} in catalog {config.catalog}")
        summary = {
            **_entry_summary(entry),
            "versions": hub.ledger.versions(entry.path),
            "input_schema": entry.input_schema,
            "output_schema": entry.output_schema,
            "steps": [{"step": s.step, "kind": s.tool.kind} for s in entry.playbook.workflow],
        }
        print(json.dumps(summary, indent=2) if args.json else yaml.safe_dump(summary, sort_keys=False))
        return EXIT_OK


async def _validate(config: HubConfig, *, as_json: bool) -> int:
    from catalog.catalog import Catalog
    from hub.kinds.registry import StepKinds

    catalog = Catalog(config.catalog, tool_kinds=StepKinds.builtin().tool_specs())
    problems = await asyncio.to_thread(catalog.load)
    entries = catalog.entries()
    if as_json:
        print(json.dumps({
            "ok": [_entry_summary(e) for e in entries],
            "problems": [{"file": p.file, "line": p.line, "column": p.column, "field": p.field,
                          "message": p.message} for p in problems],
        }, indent=2))
    else:
        for entry in entries:
            print(f"ok       {entry.path}  ({entry.file})")
        for problem in problems:
            print(f"problem  {problem}")
        print(f"{len(entries)} playbook(s) ok, {len(problems)} problem(s) in {len(catalog.problems)} file(s)")
    return EXIT_ERROR if problems else EXIT_OK


def _entry_summary(entry: Any) -> dict[str, Any]:
    meta = entry.playbook.metadata
    return {
        "path": entry.path, "version": entry.version, "name": entry.name, "title": meta.title,
        "description": meta.description, "agent": meta.agent, "capabilities": meta.capabilities,
        "tags": meta.tags, "file": entry.file,
    }


# -- executions and cancel ---------------------------------------------------------------------


async def _store_only(config: HubConfig) -> Hub:
    """A hub for commands that only read or flag executions: no catalog scan, no ledger writes."""
    return await Hub(config).open(load_catalog=False)


async def _executions(args: argparse.Namespace, config: HubConfig) -> int:
    hub = await _store_only(config)
    async with _closing(hub):
        store = hub.store
        if args.executions_command == "list":
            status = ExecutionStatus(args.status) if args.status else None
            records = await store.list(status=status, limit=args.limit)
            if args.json:
                print(json.dumps([r.model_dump(mode="json", exclude={"envelope"}) for r in records], indent=2))
            else:
                print(executions_table(records))
            return EXIT_OK
        record = await store.get(args.id)
        if record is None:
            raise UsageError(f"no execution {args.id!r} in {config.db}")
        events = await store.events(record.id)
        children = await store.list(parent_id=record.id, limit=1000)
        if args.json:
            print(json.dumps({
                "execution": record.model_dump(mode="json"),
                "events": [e.model_dump(mode="json") for e in events],
                "children": [c.id for c in children],
            }, indent=2, default=str))
        else:
            print(execution_report(record, events, list(reversed(children))))
        return EXIT_OK


async def _cancel(args: argparse.Namespace, config: HubConfig) -> int:
    hub = await _store_only(config)
    async with _closing(hub):
        record = await hub.store.get(args.id)
        if record is None:
            raise UsageError(f"no execution {args.id!r} in {config.db}")
        if record.status.finished:
            print(f"{record.id} already {record.status.value}")
            return EXIT_ERROR
        await hub.store.request_cancel(record.id)
        waited = 0.0
        while waited < args.wait:
            await asyncio.sleep(0.1)
            waited += 0.1
            current = await hub.store.get(record.id)
            if current is not None and current.status.finished:
                print(f"{record.id} {current.status.value}")
                return EXIT_OK
        print(f"{record.id} cancel requested; still {record.status.value} after {args.wait:g}s")
        return EXIT_ERROR


# -- serve (HTTP) and tokens -------------------------------------------------------------------


async def _serve(args: argparse.Namespace, config: HubConfig) -> int:
    """HTTP front door; see hub.serve (flags, env, security defaults, shutdown)."""
    from hub.serve import serve

    return await serve(args, config)


async def _token(args: argparse.Namespace, config: HubConfig) -> int:
    """`token hash` prints what a tokens file stores; `token new` prints a fresh token (stdout, once:
    only its hash is kept) and adds its entry to --tokens-file, or prints the entry on stderr."""
    import time

    from hub.auth import TokenEntry, append_token, hash_token, new_token

    if args.token_command == "hash":
        raw = args.token if args.token is not None else sys.stdin.readline().strip()
        if not raw:
            raise UsageError("no token given (pass it, or pipe it on stdin)")
        print(hash_token(raw))
        return EXIT_OK
    raw = new_token()
    expires = int(time.time() + args.expires_in) if args.expires_in else None
    entry = TokenEntry(sha256=hash_token(raw), subject=args.subject, scopes=args.scopes, expires_at=expires)
    if args.tokens_file is not None:
        try:
            append_token(args.tokens_file, entry)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        _err(f"added {args.subject}'s token to {args.tokens_file}")
    else:
        _err(yaml.safe_dump({"tokens": [entry.model_dump(exclude_none=True)]}, sort_keys=False).rstrip())
    print(raw)
    return EXIT_OK


# -- stdio (MCP) -------------------------------------------------------------------------------


async def _stdio(args: argparse.Namespace, config: HubConfig) -> int:
    """Serve MCP on stdin/stdout until the client closes them; stdout carries only the protocol
    (logs go to stderr).

    SIGTERM/SIGINT: the stdin reader sits in a thread no cancellation can interrupt, so instead of
    cancelling, the hub is closed (running executions are cancelled and recorded as such) and the
    process then dies of the signal's default action, as a client that sent it expects.
    """
    from hub.mcp_server import HubMcpServer

    if args.page_size is not None and args.page_size < 1:
        raise UsageError("--page-size must be at least 1")
    loop = asyncio.get_running_loop()
    async with Hub(config) as hub:
        stopping: list[asyncio.Task[None]] = []

        async def stop(signum: int) -> None:
            try:
                await hub.aclose()
            finally:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda n=signum: stopping.append(loop.create_task(stop(n))))
        server = HubMcpServer(hub, page_size=args.page_size, call_timeout=args.call_timeout)
        await server.run_stdio()
    return EXIT_OK


# -- diagnose and troubleshoot eval ------------------------------------------------------------


def _knobs(args: argparse.Namespace) -> Any:
    from catalog.model import TroubleshootKnobs

    given = {"ollama_model": args.ollama_model, "openai_model": args.openai_model, "budget": args.budget,
             "confidence_threshold": args.threshold, "escalate_to": args.escalate_to}
    try:
        return TroubleshootKnobs.model_validate({k: v for k, v in given.items() if v is not None})
    except ValueError as exc:
        raise UsageError(f"bad troubleshoot option: {exc}") from None


async def _diagnose(args: argparse.Namespace, config: HubConfig) -> int:
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


async def _troubleshoot(args: argparse.Namespace, config: HubConfig) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
