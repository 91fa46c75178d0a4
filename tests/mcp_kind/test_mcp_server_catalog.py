"""`kind: McpServer` documents in the catalog: loaded beside playbooks, never served as tools,
checked with file:line:field problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from catalog.catalog import Catalog
from catalog.loader import check_document, check_playbook
from catalog.mcp_servers import McpServer

GOOD = """
apiVersion: agenthub/v1
kind: McpServer
metadata: {name: github, description: GitHub's MCP server}
keychain:
  - {name: token, env: GITHUB_TOKEN}
spec:
  transport: http
  url: https://api.example.com/mcp/
  headers:
    Authorization: "Bearer {{ keychain.token }}"
"""

PLAYBOOK = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: uses_github}
workflow:
  - step: s
    tool: {kind: noop}
"""


def write(folder: Path, name: str, text: str) -> Path:
    file = folder / f"{name}.yaml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return file


def test_servers_load_beside_playbooks_and_are_not_tools(tmp_path):
    write(tmp_path, "servers/github", GOOD)
    write(tmp_path, "uses_github", PLAYBOOK)
    catalog = Catalog(tmp_path)
    assert catalog.load() == []
    assert [e.path for e in catalog.entries()] == ["uses_github"]
    assert [s.name for s in catalog.mcp_servers()] == ["github"]
    entry = catalog.mcp_server("github")
    assert entry is not None and isinstance(entry.server, McpServer)
    assert entry.server.spec.headers == {"Authorization": "Bearer {{ keychain.token }}"}
    assert entry.file == str(tmp_path / "servers" / "github.yaml")
    assert catalog.get("github") is None


@pytest.mark.parametrize(("change", "where", "words"), [
    (("url: https://api.example.com/mcp/", "command: npx"), "spec", ["transport http needs `url`"]),
    (("transport: http", "transport: stdio"), "spec", ["transport stdio needs `command`"]),
    (("transport: http", "transport: stdio\n  command: x"), "spec", ["headers, url not used by transport stdio"]),
    (("url: https://api.example.com/mcp/", "url: ftp://x"), "spec", ["http:// or https://"]),
    (("keychain.token", "keychain.tokn"), "spec.headers.Authorization", ["'tokn' is not declared"]),
    (("keychain.token", "input.token"), "spec.headers.Authorization", ["only use keychain.<name>, not input"]),
    (("{{ keychain.token }}", "{{ keychain.token "), "spec.headers.Authorization", ["template syntax error"]),
    (("name: github", "name: 'git hub'"), "metadata.name", ["letters, digits"]),
    (("transport: http", "transport: websocket"), "spec.transport", ["'http' or 'stdio'"]),
    (("  transport: http", "  transport: http\n  colour: red"), "spec.colour", ["unknown field 'colour'"]),
])
def test_problems_name_the_file_line_and_field(tmp_path, change, where, words):
    file = write(tmp_path, "server", GOOD.replace(*change))
    loaded = check_document(file.read_text(), str(file))
    assert loaded.model is None and loaded.problems
    text = "\n".join(str(p) for p in loaded.problems)
    assert f"{file}:" in text and f": {where}: " in text, text
    for word in words:
        assert word in text


def test_duplicate_names_and_a_broken_edit(tmp_path):
    write(tmp_path, "a", GOOD)
    write(tmp_path, "b", GOOD)
    catalog = Catalog(tmp_path)
    problems = catalog.load()
    assert [s.file for s in catalog.mcp_servers()] == [str(tmp_path / "a.yaml")]
    assert len(problems) == 1 and "MCP server name 'github' is already used by" in problems[0].message
    (tmp_path / "b.yaml").unlink()
    write(tmp_path, "a", GOOD.replace("transport: http", "transport: pigeon"))
    problems = catalog.load()
    assert problems  # the broken edit is reported, and the last good definition still served
    served = catalog.mcp_server("github")
    assert served is not None and served.server.spec.transport == "http"


def test_a_server_file_is_not_a_playbook(tmp_path):
    file = write(tmp_path, "server", GOOD)
    loaded = check_playbook(file.read_text(), str(file))
    assert loaded.playbook is None
    assert "expected a Playbook, this file is a McpServer" in str(loaded.problems[0])
