"""The hub installs like an MCP server: build the wheel, install it into a fresh venv outside the
repository, and drive `agenthub stdio`, started from /tmp as an IDE would, through the official
client. The dependencies are borrowed from the test venv (installing them all again takes minutes);
AGENTHUB_TEST_FULL_INSTALL=1 installs them from the index as a user's `pip install` would."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from mcp import Client, StdioServerParameters

REPO = Path(__file__).resolve().parents[2]


def _run(*command: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=timeout, cwd="/tmp")
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


def _borrow_dependencies(venv: Path) -> None:
    """Let `venv` import third-party packages from this test venv's site-packages, appended after
    its own (a plain path in a .pth file: the test venv's own .pth files, among them the editable
    install of this checkout, are not processed, so `hub` comes from the wheel only)."""
    (site,) = (venv / "lib").glob("python3*/site-packages")
    borrowed = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "borrowed-dependencies.pth").write_text("\n".join(borrowed) + "\n")


async def test_built_wheel_serves_the_bundled_catalog_from_anywhere(tmp_path: Path):
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path / "dist", REPO)
    (wheel,) = (tmp_path / "dist").glob("agenthub-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "hub/bundled_playbooks/hello.yaml" in names
    assert "hub/bundled_playbooks/troubleshoot/diagnose_execution.yaml" in names
    assert "troubleshoot/corpus/failures.jsonl" in names
    assert "hub/examples/langchain_agents.py" in names
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"hub", "catalog", "bridges", "troubleshoot"}  # no top-level `examples`

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    if os.environ.get("AGENTHUB_TEST_FULL_INSTALL"):  # resolve and install every dependency too
        _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)
    else:  # the wheel alone; its dependencies are borrowed from the test venv, which has them
        _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps", wheel)
        _borrow_dependencies(venv)
    agenthub = venv / "bin" / "agenthub"
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "PATH": f"{venv / 'bin'}:/usr/bin:/bin"}

    server = StdioServerParameters(command=str(agenthub), args=["stdio"], cwd="/tmp", env=env)
    async with Client(server, mode="legacy") as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert {"hello", "order_totals", "hub_find_agents"} <= tools
        result = await client.call_tool("hello", {"name": "wheel"})
        assert result.structured_content["data"] == {"greeting": "Hello, wheel!"}
    located = _run(venv / "bin" / "python", "-c", "import hub; print(hub.__file__)")
    assert located.stdout.startswith(str(venv)), located.stdout  # the wheel's hub, not this checkout
    assert (tmp_path / "data" / "agenthub" / "agenthub.db").is_file()  # the per-user database

    starter = tmp_path / "my-catalog"
    _run(agenthub, "init", starter)
    assert sorted(p.name for p in starter.iterdir()) == ["README.md", "hello.yaml", "order_totals.yaml"]
    own = StdioServerParameters(command=str(agenthub), args=["stdio", "--catalog", str(starter)], cwd="/tmp", env=env)
    async with Client(own) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools - {t for t in tools if t.startswith("hub_")} == {"hello", "order_totals"}
