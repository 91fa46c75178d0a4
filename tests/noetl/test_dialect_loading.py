"""Loading NoETL documents: problems keep the file and line written, forms the hub cannot honour
say what to write instead, keychain provider entries load and fail clearly only when read, and
`agenthub run FILE --json` answers a file that does not load with a PLAYBOOK_INVALID envelope."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from catalog.loader import check_playbook

HERE = Path(__file__).parent / "playbooks"
REPO = Path(__file__).resolve().parents[2]


def _problems(text: str) -> list[str]:
    loaded = check_playbook(textwrap.dedent(text).lstrip(), "p.yaml")
    return [str(p) for p in loaded.problems]


def test_a_problem_inside_a_moved_block_keeps_its_written_line():
    problems = _problems("""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {name: p}
        workflow:
          - step: start
            tool: {kind: noop}
            next:
              spec:
                mode: exclusive
              arcs:
                - step: nowhere
                  when: "{{ true }}"
        """)
    assert problems == ["p.yaml:11:11: workflow[0].next.arcs[0].step: arc to unknown step 'nowhere'"]
    loop = _problems("""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {name: p}
        workflow:
          - step: two
            tool: {kind: noop}
            loop:
              in: [1]
              spec: {mode: sideways}
        """)
    assert loop == ["p.yaml:9:14: workflow[0].loop.mode: Input should be 'sequential' or 'parallel' (got \"sideways\")"]


def test_forms_the_hub_cannot_honour_say_what_to_write():
    problems = _problems("""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {name: p}
        workflow:
          - step: start
            loop: {iterator: row, cursor: {kind: postgres}}
            tool:
              kind: python
              code: |
                {% for x in workload.xs %}print(x){% endfor %}
                result = 1
        """)
    joined = "\n".join(problems)
    assert "p.yaml:6:27: workflow[0].loop.cursor: loop.cursor (a database-claimed work queue) is not supported" in joined
    assert "loop: {in:" in joined
    assert "workflow[0].tool.code: Jinja statements ({% ... %}) inside python code are not rendered" in joined


def test_workbook_task_that_does_not_exist_is_named():
    problems = _problems("""
        apiVersion: noetl.io/v1
        kind: Playbook
        metadata: {name: p}
        workbook:
          - name: known
            tool: {kind: noop}
        workflow:
          - step: start
            tool: {kind: workbook, name: unknown}
        """)
    assert problems == ["p.yaml:9:28: workflow[0].tool.name: no workbook task named 'unknown'; known: known"]


async def test_keychain_env_entry_resolves_and_provider_entry_fails_only_when_read(hub, catalog_dir, monkeypatch):
    shutil.copy(HERE / "keychain.yaml", catalog_dir / "keychain.yaml")
    monkeypatch.setenv("ND_TEST_OPENAI_KEY", "sk-test-123456")
    h = await hub()
    assert h.catalog.problems.get(str(catalog_dir / "keychain.yaml"), []) == []
    env = await h.engine.run("noetl/keychain")
    assert env.ok, env.error
    assert env.data == {"length": 14}
    vault = await h.engine.run("noetl/keychain", {"use_vault": True})
    assert vault.error is not None and vault.error.code == "KEYCHAIN_MISSING"
    assert "provider 'secret_manager'" in vault.error.message and "`env: VARIABLE`" in vault.error.message


def test_run_json_on_a_file_that_does_not_load_prints_an_error_envelope(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: noetl.io/v2\nkind: Playbook\nmetadata: {name: bad}\nworkflow:\n"
                   "  - step: s\n    tool: {kind: noop}\n    next: [{step: missing}]\n")
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli.main", "run", str(bad), "--json", "--db", str(tmp_path / "h.db"),
         "--catalog", str(tmp_path / "empty")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["status"] == "error"
    assert (envelope["error"]["kind"], envelope["error"]["code"]) == ("agent.configuration", "PLAYBOOK_INVALID")
    [problem] = envelope["error"]["details"]["problems"]
    assert (problem["line"], problem["field"]) == (7, "workflow[0].next[0].step")
    assert problem["message"] == "arc to unknown step 'missing'"


def test_run_json_keeps_what_python_steps_print_off_stdout(tmp_path):
    file = tmp_path / "chatty.yaml"
    file.write_text(textwrap.dedent("""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {name: chatty}
        workload: {n: 3}
        workflow:
          - step: start
            tool:
              kind: python
              input: {n: "{{ workload.n }}"}
              code: |
                print(f"working on {n}")
                result = {"n": n}
        """).lstrip())
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli.main", "run", str(file), "--json", "--db", str(tmp_path / "h.db"),
         "--catalog", str(tmp_path / "empty")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"] == {"n": 3}
    assert "working on 3" in done.stderr


async def test_two_noetl_playbooks_sharing_a_name_are_both_served(hub, write_playbook, caplog):
    for where in ("mcp/ollama/chat", "mcp/vertex-ai-stub/chat"):
        write_playbook(where, f"""
            apiVersion: noetl.io/v2
            kind: Playbook
            metadata: {{name: chat_completion, path: {where}}}
            workflow:
              - step: start
                tool: {{kind: noop}}
                result: {where}
            """)
    with caplog.at_level("WARNING", logger="agenthub.catalog"):
        h = await hub()
    assert {f: ps for f, ps in h.catalog.problems.items() if ps} == {}
    first, second = h.catalog.get("mcp/ollama/chat"), h.catalog.get("mcp/vertex-ai-stub/chat")
    assert first.name == "chat_completion" and second.name == "mcp_vertex-ai-stub_chat"
    assert "tool name 'chat_completion' is already used" in caplog.text
    assert (await h.engine.run("mcp_vertex-ai-stub_chat")).data == "mcp/vertex-ai-stub/chat"
