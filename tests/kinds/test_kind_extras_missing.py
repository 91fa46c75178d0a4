"""The data kinds' client packages are optional: in a Python whose import system hides psycopg,
duckdb and nats-py, the hub imports none of them, every playbook loads, each data step answers an
`agent.dependency` EXTRA_NOT_INSTALLED envelope naming its extra, and other kinds run as usual."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HIDDEN = ("psycopg", "psycopg_binary", "duckdb", "nats")

DRIVER = f"""
import sys

class Hide:
    def find_spec(self, name, path=None, target=None):
        if any(name == p or name.startswith(p + ".") for p in {HIDDEN!r}):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Hide())

import asyncio, json
from pathlib import Path
from hub.app import Hub
from hub.config import HubConfig


def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in {HIDDEN!r})


async def main():
    async with Hub(HubConfig(catalog=Path(sys.argv[1]), db=Path(sys.argv[2]))) as hub:
        results = {{name: (await hub.engine.run(name, {{}})).to_dict() for name in ("pg", "duck", "bus", "sh")}}
        print(json.dumps({{"loaded": loaded(), "problems": [str(p) for p in hub.problems], "results": results}}))

asyncio.run(main())
"""

STEPS = {
    "pg": "{kind: postgres, dsn: 'host=127.0.0.1 user=postgres dbname=postgres', query: 'SELECT 1'}",
    "duck": "{kind: duckdb, query: 'SELECT 1'}",
    "bus": "{kind: nats, nats_url: 'nats://127.0.0.1:4222', operation: publish, subject: ah.hidden}",
    "sh": "{kind: shell, cmds: ['echo still here']}",
}


def test_missing_clients_answer_with_the_extra_to_install(tmp_path, catalog_dir):
    for name, tool in STEPS.items():
        (catalog_dir / f"{name}.yaml").write_text(textwrap.dedent(f"""
            apiVersion: noetl.io/v2
            kind: Playbook
            metadata: {{name: {name}}}
            workflow:
              - step: s
                tool: {tool}
            """))
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    done = subprocess.run([sys.executable, str(driver), str(catalog_dir), str(tmp_path / "hub.db")],
                          cwd=REPO, capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(REPO),
                          "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["problems"] == []
    assert report["loaded"] == []
    results = report["results"]
    for name, extra, package in (("pg", "postgres", "psycopg"), ("duck", "duckdb", "duckdb"), ("bus", "nats", "nats-py")):
        error = results[name]["error"]
        assert (error["kind"], error["code"]) == ("agent.dependency", "EXTRA_NOT_INSTALLED"), name
        assert f"pip install 'agenthub[{extra}]'" in error["message"]
        assert error["details"] == {"package": package, "extra": extra, "install": f"pip install 'agenthub[{extra}]'"}
    assert results["sh"]["data"]["stdout"] == "still here\n"
