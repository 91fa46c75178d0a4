"""Special files in the catalog directory, on a real `agenthub serve` and `agenthub catalog
validate` (issue 14, item 7): a FIFO, a link to /dev/zero, an oversized file and a link to a file
outside the catalog are problems naming the file, never read, never quoted; start-up, reloads and
SIGTERM keep working."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from http_support import REPO, start_server, wait_for, write_catalog

OUTSIDE_SECRET = "root:$6$outside-hash-value:19000:0:99999:7:::"
LATE = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: late, description: Added after the special files.}
workflow:
  - step: s
    tool: {kind: noop}
    result: {late: true}
"""


def plant_special_files(folder: Path, outside: Path, prefix: str) -> list[str]:
    """A FIFO, a link to /dev/zero, a 2 MiB file and a link out of the catalog; their names."""
    os.mkfifo(folder / f"{prefix}fifo.yaml")
    os.symlink("/dev/zero", folder / f"{prefix}zero.yaml")
    (folder / f"{prefix}big.yaml").write_text("# padding\n" * 210_000, encoding="utf-8")
    os.symlink(outside, folder / f"{prefix}shadow.yaml")
    return [f"{prefix}{name}.yaml" for name in ("fifo", "zero", "big", "shadow")]


def test_special_files_never_stop_the_server_nor_leak(tmp_path: Path):
    outside = tmp_path / "shadow"
    outside.write_text(OUTSIDE_SECRET + "\n", encoding="utf-8")
    catalog = write_catalog(tmp_path / "catalog")
    at_start = plant_special_files(catalog, outside, "a_")
    served = start_server(tmp_path / "server", catalog, env={"AGENTHUB_CATALOG_LOAD_TIMEOUT": "10"})
    try:
        with served.client() as api:
            assert api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "up"}}).json()["status"] == "ok"
            assert api.get("/readyz").json()["problems"] == len(at_start)
            live = plant_special_files(catalog, outside, "b_")  # added while serving
            wait_for(lambda: api.get("/readyz").json()["problems"] == len(at_start) + len(live))
            (catalog / "late.yaml").write_text(textwrap.dedent(LATE).lstrip(), encoding="utf-8")
            wait_for(lambda: api.get("/api/catalog/late").status_code == 200)  # reloads still work
            assert api.post("/api/executions", json={"playbook": "late"}).json()["data"] == {"late": True}
    finally:
        assert served.stop() == 0  # SIGTERM is honoured
    log = served.log()
    assert "outside-hash-value" not in log
    for name in at_start:
        assert name in log
    validated = subprocess.run(
        [sys.executable, "-m", "hub.cli.main", "catalog", "validate", "--catalog", str(catalog)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert validated.returncode == 1, validated.stderr
    assert "outside-hash-value" not in validated.stdout + validated.stderr
    assert "a_fifo.yaml: a FIFO, not a regular file (not read)" in validated.stdout
    assert "a_zero.yaml: a link to a file outside the catalog directory (not read)" in validated.stdout
    assert "a_big.yaml: 2100000 bytes, over the limit of 1048576 (not read)" in validated.stdout
    assert "a_shadow.yaml: a link to a file outside the catalog directory (not read)" in validated.stdout
    capped = subprocess.run(
        [sys.executable, "-m", "hub.cli.main", "catalog", "validate", "--catalog", str(catalog)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "AGENTHUB_CATALOG_MAX_FILE_BYTES": "100"},
    )
    assert "over the limit of 100 (not read)" in capped.stdout  # the cap is configurable
