"""`agenthub catalog ...`, `agenthub executions ...` and `agenthub cancel`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from hub.app import Hub
from hub.cli.common import EXIT_ERROR, EXIT_OK, UsageError, closing, err, find_execution, store_only
from hub.config import HubConfig
from hub.contract.records import ExecutionStatus
from hub.report import execution_report, executions_table


async def cmd_catalog(args: argparse.Namespace, config: HubConfig) -> int:
    action = args.catalog_command
    if action == "schema":
        from catalog.format_schema import playbook_format_schema
        from hub.engine.kinds.registry import StepKinds

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
                    flags = " agent" if e.agent else ""
                    print(f"{e.path}@{e.version}  {e.name}{flags}  {e.title or ''}".rstrip())
                if hub.problems:
                    err(f"{len(hub.catalog.problems)} file(s) with problems; see: agenthub catalog validate")
            return EXIT_OK
        if Path(args.ref).is_file():  # as `run` does
            from hub.cli.run import _entry_for_file

            entry, problems = _entry_for_file(hub, Path(args.ref))
            if entry is None:
                raise UsageError("the playbook does not load:\n" + "\n".join(f"  {p}" for p in problems))
        else:
            entry = hub.catalog.get(args.ref)
        if entry is None:
            raise UsageError(f"no playbook {args.ref!r} in catalog {config.catalog}")
        summary = {
            **_entry_summary(entry),
            "versions": hub.ledger.versions(entry.path),
            "input_schema": entry.input_schema,
            "output_schema": entry.output_schema,
            "steps": [{"step": s.step, "kind": s.kind} for s in entry.playbook.workflow],
        }
        print(json.dumps(summary, indent=2) if args.json else yaml.safe_dump(summary, sort_keys=False))
        return EXIT_OK


async def _validate(config: HubConfig, *, as_json: bool) -> int:
    from catalog.catalog import Catalog
    from catalog.kind_warnings import unavailable_kind_warnings
    from catalog.problems import Problem
    from hub.engine.kinds.registry import StepKinds
    from hub.mcp.tools import default_description

    tool_kinds = StepKinds.builtin().tool_specs()
    catalog = Catalog(config.catalog, tool_kinds=tool_kinds, max_file_bytes=config.catalog_max_file_bytes)
    problems = await asyncio.to_thread(catalog.load)
    entries = catalog.entries()
    warnings = [w for e in entries for w in unavailable_kind_warnings(e.source, e.file or e.path, tool_kinds)]
    warnings += [Problem(e.file or e.path, None, None, "metadata.description",
                         f"missing; MCP clients are shown {default_description(e)!r}")
                 for e in entries if not e.description]

    def placed(found: list[Any]) -> list[dict[str, Any]]:
        return [{"file": p.file, "line": p.line, "column": p.column, "field": p.field, "message": p.message}
                for p in found]

    documents = [*catalog.mcp_servers(), *catalog.prompts(), *catalog.resources()]
    if as_json:
        print(json.dumps({"ok": [_entry_summary(e) for e in entries], "problems": placed(problems),
                          "warnings": placed(warnings),
                          "documents": [{"kind": d.kind, "name": d.name, "file": d.file} for d in documents]},
                         indent=2))
    else:
        for entry in entries:
            print(f"ok       {entry.path}  ({entry.file})")
        for document in documents:
            print(f"ok       {document.kind} {document.name}  ({document.file})")
        for warning in warnings:
            print(f"warning  {warning}")
        for problem in problems:
            print(f"problem  {problem}")
        print(f"{len(entries)} playbook(s) ok, {len(problems)} problem(s) in {len(catalog.problems)} file(s)"
              + (f", {len(warnings)} warning(s)" if warnings else ""))
    return EXIT_ERROR if problems else EXIT_OK


def _entry_summary(entry: Any) -> dict[str, Any]:
    return {
        "path": entry.path, "version": entry.version, "name": entry.name, "title": entry.title,
        "description": entry.description, "agent": entry.agent, "capabilities": entry.capabilities,
        "tags": entry.tags, "file": entry.file,
    }


async def cmd_executions(args: argparse.Namespace, config: HubConfig) -> int:
    hub = await store_only(config)
    async with closing(hub):
        store = hub.store
        if args.executions_command == "list":
            status = ExecutionStatus(args.status) if args.status else None
            records = await store.list(status=status, limit=args.limit)
            if args.json:
                print(json.dumps([r.model_dump(mode="json", exclude={"envelope"}) for r in records], indent=2))
            else:
                print(executions_table(records))
            return EXIT_OK
        record = await find_execution(store, args.id, config.db_display)
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


async def cmd_cancel(args: argparse.Namespace, config: HubConfig) -> int:
    hub = await store_only(config)
    async with closing(hub):
        record = await find_execution(hub.store, args.id, config.db_display)
        if record.status.finished:
            print(f"{record.id} already {record.status.value}")
            return EXIT_ERROR
        await hub.engine.cancel(record.id)  # the store's flag; in a cluster also the cancel subject
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
