"""The seeds' agent example, in NoETL syntax, unchanged: a playbook calls a catalog playbook as an
agent (`framework: noetl`, `payload`, `invoke_kwargs.version`, `on_failure.troubleshoot`). A failed
child does not fail the step: its envelope, with the diagnosis of the child's failure, is the
step's output, readable by the next step."""

from __future__ import annotations

from pathlib import Path

from llm_servers import answer

AGENTS = Path(__file__).parent / "agents"


def _catalog(catalog_dir: Path, base: str) -> None:
    for file in AGENTS.glob("*.yaml"):
        text = file.read_text().replace("http://127.0.0.1:9", base)
        (catalog_dir / file.name).write_text(text)


async def test_the_agent_answers_through_the_child(hub, catalog_dir, http_server, llm_servers):
    _catalog(catalog_dir, http_server.url)
    http_server.script("/v1/flights", (200, {"flights": [{"to": "LIS", "price": 120}]}))
    h = await hub()
    env = await h.engine.run("noetl/ask_agent")
    assert env.ok, env.error
    assert env.data["flights"] == [{"to": "LIS", "price": 120}]
    [hit] = http_server.hits("/v1/flights")
    assert hit["path"] == "/v1/flights?source=noetl&q=flights+to+LIS"
    child = await h.store.get(env.data["child"])
    assert child is not None and child.parent_id == env.execution_id and child.playbook_version == 1
    assert llm_servers[0].requests == []  # nothing failed: no diagnosis


async def test_a_failed_child_continues_with_its_diagnosed_envelope(hub, catalog_dir, http_server, llm_servers):
    ollama, openai = llm_servers
    _catalog(catalog_dir, http_server.url)
    http_server.script("/v1/flights", (502, {"error": "bad gateway"}))
    ollama.script(answer("transient_5xx", 0.95, "The flights API returned HTTP 502."))
    openai.script(answer("transient_5xx", 0.95, "The flights API returned HTTP 502."))
    h = await hub()
    env = await h.engine.run("noetl/ask_agent")
    assert env.ok, env.error  # the parent goes on: NoETL's agent steps answer their envelope
    assert env.data["failed"] == "PLAYBOOK_FAILED"
    assert env.data["diagnosis"] == "transient_5xx"
    child = await h.store.get(env.data["child"])
    assert child is not None and child.status == "failed"
    assert ollama.requests, "the local tier was asked about the child's failure"
