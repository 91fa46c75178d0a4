"""What a client of any make gets from the hub, through the official client over a real `agenthub
stdio` subprocess: a protocol stream user code cannot write into, no resource links it did not ask
for, and error envelopes without server tracebacks (which stay in the store)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from mcp import Client, types
from mcp_support import ECHO, FAILING

from hub.mcp.server import HubMcpServer

NOISY = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: noisy, description: Prints everywhere it can.}
workflow:
  - step: talk
    tool:
      kind: python
      code: |
        import os, subprocess, sys
        def main():
            print("PRINTED-BY-STEP")
            print("PRINTED-UNFLUSHED", end="")
            sys.__stdout__.write("WRITTEN-TO-SYS-STDOUT\\n")
            sys.__stdout__.flush()  # the interpreter's own stdout object: still not the protocol
            os.write(1, b"WRITTEN-TO-FD-1\\n")
            subprocess.run(["echo", "ECHOED-BY-CHILD"], check=True)
            swallowed = subprocess.run(["cat"], capture_output=True, timeout=10).stdout
            return {"child_read_from_stdin": swallowed.decode()}
"""

NOISY_LINES = ["PRINTED-BY-STEP", "WRITTEN-TO-SYS-STDOUT", "WRITTEN-TO-FD-1", "ECHOED-BY-CHILD"]


@pytest.mark.parametrize("era", ["legacy"])  # one era is enough: both share the stdio streams
async def test_printing_step_and_spawned_echo_never_reach_the_protocol(connect, mcp_catalog: Path, tmp_path: Path):
    (mcp_catalog / "noisy.yaml").write_text(textwrap.dedent(NOISY).lstrip())
    errlog_path = tmp_path / "server-stderr.txt"
    with errlog_path.open("w") as errlog:
        async with connect(errlog=errlog) as client:
            for _ in range(3):  # the connection survives every round of noise
                result = await client.call_tool("noisy", {})
                assert result.is_error is False, result.content
                # a child reading stdin sees EOF: it cannot swallow protocol messages
                assert result.structured_content["data"] == {"child_read_from_stdin": ""}
            after = await client.call_tool("echo", {"text": "still fine"})
            assert after.structured_content["data"] == {"text": "still fine", "length": 10}
    stderr = errlog_path.read_text()
    for line in NOISY_LINES:  # the noise went to stderr, where a server's log belongs
        assert stderr.count(line) == 3, (line, stderr)


async def test_finished_calls_carry_a_resource_link_only_when_asked(hub, write_playbook):
    write_playbook("echo", ECHO)
    write_playbook("failing", FAILING)
    h = await hub()
    async with Client(HubMcpServer(h).server) as client:
        plain = await client.call_tool("echo", {"text": "a"})
        assert [block.type for block in plain.content] == ["text"]
        failed = await client.call_tool("failing", {})
        assert [block.type for block in failed.content] == ["text"]
        status = await client.call_tool("hub_execution_status", {"execution_id": plain.structured_content["execution_id"]})
        assert [block.type for block in status.content] == ["text"]
    async with Client(HubMcpServer(h, execution_links=True).server) as client:
        linked = await client.call_tool("echo", {"text": "a"})
        _text, link = linked.content
        assert isinstance(link, types.ResourceLink)
        assert link.uri == f"agenthub://executions/{linked.structured_content['execution_id']}"


async def test_error_envelopes_reach_clients_without_tracebacks(hub, write_playbook):
    write_playbook("failing", FAILING)
    h = await hub()
    async with Client(HubMcpServer(h).server) as client:
        result = await client.call_tool("failing", {})
        error = result.structured_content["error"]
        assert error["code"] == "PYTHON_ERROR" and error["message"] == "ValueError: boom"
        assert error["details"] == {"exception_type": "ValueError", "exception": "ValueError: boom"}
        execution_id = result.structured_content["execution_id"]
        status = await client.call_tool("hub_execution_status", {"execution_id": execution_id})
        assert status.structured_content["envelope"]["error"]["details"]["exception"] == "ValueError: boom"
        document = (await client.read_resource(f"agenthub://executions/{execution_id}/json")).contents[0].text
        everything = json.dumps(result.model_dump()) + json.dumps(status.model_dump()) + document
        assert "traceback" not in everything and 'File "' not in everything
    stored = await h.store.get(execution_id)  # the operator keeps the whole traceback
    assert stored is not None and stored.envelope is not None
    traceback = stored.envelope["error"]["details"]["traceback"]
    assert any('raise ValueError("boom")' in line for line in traceback)


async def test_a_playbook_without_description_is_listed_with_a_default(hub, write_playbook):
    write_playbook("terse", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: terse}
        input:
          day: {type: string}
        workflow:
          - step: s
            tool: {kind: noop}
        """)
    write_playbook("titled", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: titled, title: A titled playbook}
        workflow:
          - step: s
            tool: {kind: noop}
        """)
    async with Client(HubMcpServer(await hub()).server) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert tools["terse"].description == "Runs the playbook terse. Inputs: day (string, required)."
    assert tools["titled"].description == "A titled playbook"
    assert all(t.description for t in tools.values())
