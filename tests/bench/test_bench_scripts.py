"""The benchmark scripts keep running (they print figures; nothing here asserts on time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_engine_bench_prints_its_json_line():
    done = subprocess.run([sys.executable, "bench/engine.py", "--runs", "5"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "engine" and figures["steps"] == 10 and figures["runs"] == 5
    assert figures["hub_executions_per_s"] > 0 and figures["direct_executions_per_s"] > 0
    assert figures["ratio_direct_over_hub"] > 0
