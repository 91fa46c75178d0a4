"""The `agenthub` command line: the parser and the dispatch to one `cmd_*` handler per command
(hub.cli.run, hub.cli.inspect, hub.cli.servers, hub.cli.troubleshoot)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from hub.cli.common import EXIT_USAGE, UsageError, check_db_location
from hub.cli.db import cmd_db
from hub.cli.info import cmd_info
from hub.cli.init import cmd_init
from hub.cli.inspect import cmd_cancel, cmd_catalog, cmd_executions
from hub.cli.run import cmd_run
from hub.cli import loop
from hub.cli.worker import cmd_worker
from hub.cli.servers import cmd_serve, cmd_stdio, cmd_token
from hub.cli.troubleshoot import add_troubleshoot_commands, cmd_diagnose, cmd_troubleshoot
from hub.config import HubConfig
from hub.contract.records import ExecutionStatus


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--catalog", type=Path, default=argparse.SUPPRESS,
                        help="catalog directory (env AGENTHUB_CATALOG, default: the bundled catalog)")
    common.add_argument("--db", default=argparse.SUPPRESS,
                        help="the store: a SQLite file or a postgresql:// URL "
                             "(env AGENTHUB_DB, default ~/.local/share/agenthub/agenthub.db; `agenthub info` prints it)")
    common.add_argument("--queue", default=argparse.SUPPRESS, metavar="NATS_URL",
                        help="run as a cluster node on NATS JetStream (env AGENTHUB_QUEUE); needs --db postgresql://")
    common.add_argument("--queue-prefix", default=argparse.SUPPRESS, metavar="NAME",
                        help="stream/subject prefix of this cluster (env AGENTHUB_QUEUE_PREFIX, default agenthub)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="debug logging")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="agenthub", parents=[common],
        description="An MCP-native agent hub: run catalog playbooks, serve them as MCP tools, inspect executions.",
    )
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

    init = commands.add_parser("init", parents=[common], help="write a starter catalog into a new directory")
    init.add_argument("dir", type=Path, metavar="DIR")

    info = commands.add_parser("info", parents=[common], help="where the catalog and the database are")
    info.add_argument("--json", action="store_true")

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

    db = commands.add_parser("db", parents=[common], help="the store's schema")
    db_cmds = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_cmds.add_parser("migrate", parents=[common], help="create or upgrade the store's schema, then exit")

    worker = commands.add_parser("worker", parents=[common],
                                 help="run executions from the cluster's queue (needs --db postgresql:// and --queue)")
    worker.add_argument("--max-concurrent", type=int, metavar="N",
                        help="executions this worker runs at once (env AGENTHUB_MAX_CONCURRENT, default 64)")
    worker.add_argument("--ack-wait", type=float, metavar="SECONDS",
                        help="silence before a run is redelivered (env AGENTHUB_QUEUE_ACK_WAIT, default 30)")
    worker.add_argument("--max-deliver", type=int, metavar="N",
                        help="deliveries of one run before it fails (env AGENTHUB_QUEUE_MAX_DELIVER, default 5)")

    stdio = commands.add_parser("stdio", parents=[common],
                                help="serve the catalog as MCP tools over stdin/stdout (for IDE clients)")
    stdio.add_argument("--page-size", type=int, metavar="N",
                       help="tools/list page size (env AGENTHUB_MCP_PAGE_SIZE, default 100)")
    stdio.add_argument("--call-timeout", type=float, metavar="SECONDS",
                       help="answer `running` after this long (env AGENTHUB_CALL_TIMEOUT, default 60)")
    stdio.add_argument("--execution-links", action="store_true", default=None,
                       help="add a resource_link to the execution report to every tool result, not only to "
                            "`running` answers (env AGENTHUB_EXECUTION_LINKS)")

    serve = commands.add_parser("serve", parents=[common],
                                help="serve MCP (streamable HTTP at /mcp) and the REST API (/api) over HTTP")
    from hub.http.serve_flags import add_arguments as add_serve_arguments

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

    add_troubleshoot_commands(commands, common)
    return parser


_NO_DATABASE = {"info", "init", "token"}
"""Commands that never open the database (so need not be able to write it)."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = HubConfig.load(
            catalog=getattr(args, "catalog", None), db=getattr(args, "db", None),
            queue=getattr(args, "queue", None), queue_prefix=getattr(args, "queue_prefix", None),
        )
    except ValueError as exc:
        print(f"agenthub: bad configuration: {exc}", file=sys.stderr)
        return EXIT_USAGE
    handler = {
        "run": cmd_run,
        "info": cmd_info,
        "init": cmd_init,
        "catalog": cmd_catalog,
        "executions": cmd_executions,
        "cancel": cmd_cancel,
        "db": cmd_db,
        "worker": cmd_worker,
        "stdio": cmd_stdio,
        "serve": cmd_serve,
        "token": cmd_token,
        "diagnose": cmd_diagnose,
        "troubleshoot": cmd_troubleshoot,
    }[args.command]
    try:
        if args.command not in _NO_DATABASE and not (args.command == "catalog" and args.catalog_command in ("schema", "validate")):
            if not config.uses_postgres:
                check_db_location(config.db)
        return loop.run(handler(args, config))
    except KeyboardInterrupt:
        return 130
    except UsageError as exc:
        print(f"agenthub: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
