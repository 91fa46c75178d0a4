"""`agenthub init DIR`: a starter catalog to edit, so a user who installed the hub from a wheel
has a catalog of their own to point `--catalog` (or AGENTHUB_CATALOG) at, copied from the bundled
one rather than written from scratch."""

from __future__ import annotations

import argparse
import shutil

from hub.cli.common import EXIT_OK, UsageError
from hub.config import HubConfig, bundled_catalog

STARTER = ("hello.yaml", "examples/order_totals.yaml")
README = """# My agenthub catalog

Every `*.yaml` file here is a playbook; every playbook with `expose: true` (the default) is an MCP
tool. Check them with `agenthub catalog validate {dir}`, run one with `agenthub run hello --catalog
{dir}`, and serve them to an MCP client with `agenthub stdio --catalog {dir}`. The format's JSON
Schema, for editors: `agenthub catalog schema -o playbook.schema.json`.
"""


async def cmd_init(args: argparse.Namespace, config: HubConfig) -> int:
    target = args.dir.expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} exists and is not an empty directory; pick a new one")
    source = bundled_catalog()
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in STARTER:
            shutil.copyfile(source / name, target / name.rsplit("/", 1)[-1])
        (target / "README.md").write_text(README.format(dir=target), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the starter catalog in {target}: {exc.strerror or exc}") from None
    absolute = target.absolute()
    print(f"wrote a starter catalog in {absolute}: {', '.join(sorted(p.name for p in absolute.iterdir()))}")
    print(f"serve it to an MCP client:  agenthub stdio --catalog {absolute}")
    return EXIT_OK
