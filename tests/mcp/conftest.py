"""MCP fixtures: a small test catalog, and the official `mcp` Client against a real `agenthub stdio`
subprocess, in either protocol era."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp_support import PLAYBOOKS, REPO

ERAS = {"legacy": "2025-11-25", "auto": "2026-07-28"}


@pytest.fixture
def mcp_catalog(write_playbook: Callable[[str, str], Path], catalog_dir: Path) -> Path:
    for name, text in PLAYBOOKS.items():
        write_playbook(name, text)
    return catalog_dir


@pytest.fixture(params=list(ERAS))
def era(request: pytest.FixtureRequest) -> str:
    """The Client `mode`: "legacy" (initialize, 2025-11-25) or "auto" (2026-07-28)."""
    return request.param


@pytest.fixture
def stdio_params(tmp_path: Path, mcp_catalog: Path) -> Callable[..., StdioServerParameters]:
    """stdio_params(**env) -> how to start `agenthub stdio` on the test catalog and database."""

    def make(**env: str) -> StdioServerParameters:
        return StdioServerParameters(
            command=sys.executable,
            args=["-m", "hub.cli.main", "stdio", "--catalog", str(mcp_catalog), "--db", str(tmp_path / "hub.db")],
            env=env,
            cwd=str(REPO),
        )

    return make


@pytest.fixture
def connect(era: str, stdio_params: Callable[..., StdioServerParameters]) -> Callable[..., Client]:
    """connect(env={...}, errlog=file, **client_options) -> a Client on a fresh subprocess, in this era."""

    def make(env: dict[str, str] | None = None, errlog: TextIO | None = None, **options: Any) -> Client:
        params = stdio_params(**(env or {}))
        target: Any = params if errlog is None else stdio_client(params, errlog=errlog)
        return Client(target, mode=era, **options)

    return make
