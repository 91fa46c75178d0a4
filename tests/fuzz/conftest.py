"""Fuzz fixtures: one real `agenthub serve` per module, on the HTTP tests' catalog."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))

from http_support import Served, start_server, write_catalog  # noqa: E402


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("fuzz")
    served = start_server(tmp, write_catalog(tmp / "catalog"), "--call-timeout", "5")
    yield served
    served.stop()
