"""`agenthub info`: where this hub keeps things, so a user can find the database an IDE-launched
server writes to, and the catalog it serves."""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from hub.cli.common import EXIT_OK
from hub.config import HubConfig


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


async def cmd_info(args: argparse.Namespace, config: HubConfig) -> int:
    db = config.db.expanduser().absolute() if isinstance(config.db, Path) else None
    catalog = config.catalog.expanduser().absolute()
    facts = {
        "version": _version("agenthub"),
        "mcp_sdk": _version("mcp"),
        "python": sys.version.split()[0],
        "catalog": str(catalog),
        "catalog_exists": catalog.is_dir(),
        "db": str(db) if db is not None else config.db_display,
        "db_exists": db.exists() if db is not None else None,
    }
    if args.json:
        print(json.dumps(facts, indent=2))
        return EXIT_OK
    print(f"agenthub {facts['version'] or '(not installed)'}  (mcp {facts['mcp_sdk']}, python {facts['python']})")
    print(f"catalog   {catalog}{'' if facts['catalog_exists'] else '  (missing)'}")
    print(f"database  {facts['db']}{'' if facts['db_exists'] is not False else '  (created on first use)'}")
    return EXIT_OK
