"""Schemathesis against the real server's `/api/openapi.json`: every check, generated requests
from the coverage and fuzzing phases, a fixed seed; it must find no failure."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from http_support import Served

CONFIG = Path(__file__).with_name("schemathesis.toml")


def test_schemathesis_finds_no_failure(fuzz_server: Served, tmp_path: Path):
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    run = subprocess.run(
        [cli, "--config-file", str(CONFIG), "run", f"{fuzz_server.base}/api/openapi.json",
         "--checks", "all", "--phases", "coverage,fuzzing", "--max-examples", "5", "--seed", "20261201",
         "--request-timeout", "30", "--no-color"],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,  # its reports stay out of the repo
    )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "passed" in run.stdout and "failure" not in run.stdout.split("SUMMARY")[-1].lower()
