"""The CLI says what is wrong: an ambiguous id prefix lists the candidates, a missing version is
named as such, invalid YAML in --set is refused, `catalog show` takes a file like `run`, and a
playbook without a description gets a default and a warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from test_cli import REPO, agenthub

UNDESCRIBED = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: terse}
input:
  day: {type: string}
  limit: {type: integer, default: 3}
workflow:
  - step: s
    tool: {kind: noop}
"""


def test_ambiguous_execution_prefix_lists_the_candidates(tmp_path):
    db = tmp_path / "hub.db"
    ids = [json.loads(agenthub("run", "hello", "--json", db=db).stdout)["execution_id"] for _ in range(2)]
    common = os.path.commonprefix(ids)
    assert common and common not in ids
    shown = agenthub("executions", "show", common, db=db)
    assert shown.returncode == 2
    assert "ambiguous" in shown.stderr and all(i in shown.stderr for i in ids), shown.stderr
    assert "hello" in shown.stderr and "no execution" not in shown.stderr
    cancel = agenthub("cancel", common, db=db)
    assert cancel.returncode == 2 and all(i in cancel.stderr for i in ids)
    missing = agenthub("executions", "show", "ffff", db=db)
    assert missing.returncode == 2 and "no execution 'ffff'" in missing.stderr


def test_unknown_version_and_invalid_set_yaml_are_named(tmp_path):
    db = tmp_path / "hub.db"
    pinned = agenthub("run", "hello", "--version", "99", db=db)
    assert pinned.returncode == 2
    assert "'hello' has no version 99 (versions: 1)" in pinned.stderr, pinned.stderr
    broken = agenthub("run", "hello", "--set", "lines=[{", db=db)
    assert broken.returncode == 2
    assert "--set 'lines=[{': the value is not valid YAML" in broken.stderr, broken.stderr
    listed = agenthub("executions", "list", "--json", db=db)
    assert json.loads(listed.stdout) == []  # nothing ran


def test_catalog_show_takes_a_file_and_validate_warns_on_missing_description(tmp_path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    file = catalog / "terse.yaml"
    file.write_text(textwrap.dedent(UNDESCRIBED).lstrip())
    shown = agenthub("catalog", "show", str(file), "--json", db=tmp_path / "hub.db")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["name"] == "terse"
    checked = agenthub("catalog", "validate", str(catalog), db=tmp_path / "hub.db")
    assert checked.returncode == 0, checked.stdout  # a warning, not a problem
    (warning,) = [line for line in checked.stdout.splitlines() if line.startswith("warning")]
    assert "terse.yaml: metadata.description: missing; MCP clients are shown" in warning
    assert "Runs the playbook terse. Inputs: day (string, required), limit (integer)." in warning


def _bare(*args: str, cwd, data_home) -> subprocess.CompletedProcess[str]:
    """`agenthub ...` as an IDE would start it: no --db, no AGENTHUB_DB, some working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTHUB_")}
    env.update(XDG_DATA_HOME=str(data_home), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "hub.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_default_database_is_per_user_not_per_directory(tmp_path):
    data_home, launched_in = tmp_path / "data", tmp_path / "some-ide-dir"
    launched_in.mkdir()
    info = _bare("info", "--json", "--catalog", str(REPO / "playbooks"), cwd=launched_in, data_home=data_home)
    assert info.returncode == 0, info.stderr
    where = json.loads(info.stdout)
    assert where["db"] == str(data_home / "agenthub" / "agenthub.db") and where["db_exists"] is False
    ran = _bare("run", "hello", "--json", "--catalog", str(REPO / "playbooks"), cwd=launched_in, data_home=data_home)
    assert ran.returncode == 0, ran.stderr
    assert (data_home / "agenthub" / "agenthub.db").is_file()
    assert list(launched_in.iterdir()) == []  # nothing written where the client started us
    text = _bare("info", cwd=launched_in, data_home=data_home)
    assert f"database  {data_home / 'agenthub' / 'agenthub.db'}" in text.stdout


def test_an_unusable_database_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = _bare("run", "hello", "--db", str(blocker / "hub.db"), cwd=REPO, data_home=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"cannot create the database directory {blocker}" in done.stderr and "--db PATH" in done.stderr
