"""Templates that would burn memory or CPU, on a real `agenthub serve` (issue 14, item 8): padding
and format widths are refused before they build anything, and a loop-heavy template is stopped
by the playbook's `timeout:` while it renders (REST and MCP, both eras)."""

from __future__ import annotations

import textwrap

import pytest
from http_support import Served, wait_for
from mcp import Client

PLAYBOOK = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {{name: {name}, description: A template that asks too much.}}
timeout: 1
workflow:
  - step: render
    tool: {{kind: noop}}
    input: {{value: "{template}"}}
    result: "{{{{ output.value }}}}"
"""
TEMPLATES = {
    "pad_percent": ("{{ '%0100000000d' % 1 }}", "TEMPLATE_UNSAFE"),
    "pad_center": ("{{ 'x'.center(100000000) }}", "TEMPLATE_UNSAFE"),
    "pad_format": ("{{ '{:>100000000}'.format(1) }}", "TEMPLATE_UNSAFE"),
    "pad_filter": ("{{ '%0100000000d' | format(1) }}", "TEMPLATE_UNSAFE"),
    "burn_loops": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                   "DEADLINE_EXCEEDED"),
}


@pytest.fixture(scope="module")
def served(plain_server: Served) -> Served:
    for name, (template, _) in TEMPLATES.items():
        text = PLAYBOOK.format(name=name, template=template.replace('"', '\\"'))
        (plain_server.catalog / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    with plain_server.client() as api:
        wait_for(lambda: all(api.get(f"/api/catalog/{n}").status_code == 200 for n in TEMPLATES))
    return plain_server


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_costly_templates_fail_their_run_over_rest(served: Served, name: str):
    with served.client() as api:
        envelope = api.post("/api/executions", json={"playbook": name}).json()
        assert envelope["status"] == "error"
        assert envelope["error"]["code"] == TEMPLATES[name][1], envelope["error"]
        assert envelope["error"]["step"]["name"] == "render"
        assert api.get("/healthz").status_code == 200
        assert api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "a"}}).json()["status"] == "ok"


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_costly_templates_fail_their_run_over_mcp(served: Served, era: str):
    async with Client(served.mcp_url, mode=era) as client:
        for name in ("pad_center", "burn_loops"):
            result = await client.call_tool(name, {})
            assert result.is_error and result.structured_content["error"]["code"] == TEMPLATES[name][1]
