"""The optional-dependency contract, in a Python whose import system hides google-adk and
langchain-core (a `sys.meta_path` finder set up before the hub is imported): adk and langchain
steps answer with an `agent.dependency` envelope naming the extra; everything else works."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.agents.agent_support import agent_playbook

REPO = Path(__file__).resolve().parents[2]
OPTIONAL = ("google.adk", "google.genai", "langchain_core", "langchain", "langsmith")

HIDE = f"""
import sys

class HideOptional:
    prefixes = {OPTIONAL!r}

    def find_spec(self, name, path=None, target=None):
        if any(name == p or name.startswith(p + ".") for p in self.prefixes):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, HideOptional())
"""

DRIVER = """
import asyncio, json, sys
from pathlib import Path

OPTIONAL = {optional!r}

def loaded():
    return sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".") for p in OPTIONAL))

import bridges.agent  # noqa: E402
after_import = loaded()
from hub.app import Hub  # noqa: E402
from hub.config import HubConfig  # noqa: E402


async def main():
    async with Hub(HubConfig(catalog=Path(sys.argv[1]), db=Path(sys.argv[2]))) as hub:
        results = {{}}
        for name, arguments in json.loads(sys.argv[3]).items():
            results[name] = (await hub.engine.run(name, arguments)).to_dict()
        print(json.dumps({{"after_import": after_import, "after_runs": loaded(), "results": results,
                          "problems": [str(p) for p in hub.problems]}}))

asyncio.run(main())
"""


def run_hub(tmp_path: Path, catalog: Path, runs: dict[str, Any], *, hide: bool) -> dict[str, Any]:
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(DRIVER.format(optional=OPTIONAL)))
    run = "\nimport runpy, sys\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n"
    code = (HIDE if hide else "") + run
    done = subprocess.run(
        [sys.executable, "-c", code, str(driver), str(catalog), str(tmp_path / "hub.db"), json.dumps(runs)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_adk_and_langchain(tmp_path, catalog_dir):
    shutil.copytree(REPO / "playbooks", catalog_dir, dirs_exist_ok=True)
    (catalog_dir / "custom_step.yaml").write_text(agent_playbook("custom_step", {
        "framework": "custom", "entrypoint": "tests.agents.agent_entrypoints:add", "entrypoint_mode": "callable",
        "payload": {"a": 1, "b": 2}}))
    (catalog_dir / "adk_step.yaml").write_text(agent_playbook("adk_step", {
        "framework": "adk", "entrypoint": "hub.examples.adk_agents:weather_agent", "payload": {"text": "hi"}}))
    (catalog_dir / "lc_step.yaml").write_text(agent_playbook("lc_step", {
        "framework": "langchain", "entrypoint": "hub.examples.langchain_agents:word_stats", "payload": {"text": "a"}}))
    runs = {
        "adk_step": {}, "lc_step": {}, "custom_step": {},
        "weather_chat": {"text": "weather in Oslo"}, "support_answer": {"question": "why?"},
        "summarize_text": {"text": "one two three"}, "summarize_as_agent": {"text": "a b c d"},
        "hello": {"name": "Ada"}, "order_totals": {"lines": [{"sku": "a", "qty": 1, "price": 2}]},
    }
    out = run_hub(tmp_path, catalog_dir, runs, hide=True)
    assert out["problems"] == []  # the adk and langchain examples load: nothing is imported on load
    results = out["results"]
    for name, extra in (("adk_step", "adk"), ("weather_chat", "adk"), ("lc_step", "langchain"),
                        ("support_answer", "langchain")):
        error = results[name]["error"]
        assert error["kind"] == "agent.dependency", (name, error)
        assert error["code"] == "FRAMEWORK_NOT_INSTALLED"
        assert f"pip install 'agenthub[{extra}]'" in error["message"]
        assert error["details"]["extra"] == extra
    assert results["custom_step"]["status"] == "ok" and results["custom_step"]["data"]["data"]["sum"] == 3
    assert results["summarize_text"]["data"]["summary"] == "one two three"
    assert results["summarize_as_agent"]["status"] == "ok"
    assert results["hello"]["data"] == {"greeting": "Hello, Ada!"}
    assert results["order_totals"]["status"] == "ok"
    assert out["after_import"] == [] and out["after_runs"] == []


def test_importing_the_agent_bridge_does_not_import_the_frameworks(tmp_path, catalog_dir):
    """With the packages installed too: only a step that needs them imports them."""
    (catalog_dir / "custom_step.yaml").write_text(agent_playbook("custom_step", {
        "framework": "custom", "entrypoint": "tests.agents.agent_entrypoints:add", "entrypoint_mode": "callable",
        "payload": {"a": 1}}))
    out = run_hub(tmp_path, catalog_dir, {"custom_step": {}}, hide=False)
    assert out["results"]["custom_step"]["status"] == "ok"
    assert out["after_import"] == [] and out["after_runs"] == []
