"""The bundled examples (playbooks/examples/agents, playbooks/examples/mcp) run offline as shipped."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def bundled(hub, catalog_dir):
    shutil.copytree(REPO / "playbooks", catalog_dir, dirs_exist_ok=True)
    h = await hub()
    assert h.problems == []
    return h


async def test_custom_examples(bundled):
    env = await bundled.engine.run("summarize_text", {"text": "one two three four", "max_words": 2})
    assert env.ok, env.error
    assert env.data == {"summary": "one two", "truncated": True, "words": 4}
    first = await bundled.engine.run("ask_librarian", {"title": "Emma"})
    second = await bundled.engine.run("ask_librarian", {"title": "Ulysses"})
    assert first.data["answer"] == "Good day! Emma is by Jane Austen." and first.data["found"] is True
    assert first.data["execution_id"] == first.execution_id
    assert second.data["found"] is False


async def test_noetl_example(bundled):
    env = await bundled.engine.run("summarize_as_agent", {"text": "a b c d e"})
    assert env.ok, env.error
    assert env.data["summary"] == "a b c" and env.data["framework"] == "noetl"
    child = (await bundled.store.list(parent_id=env.execution_id))[0]
    assert env.data["child_execution_id"] == child.id and child.playbook_name == "summarize_text"


async def test_langchain_example(bundled):
    pytest.importorskip("langchain_core")
    env = await bundled.engine.run("support_answer", {"question": "It does not connect"})
    assert env.ok, env.error
    assert env.data == {"answer": "Unplug it for ten seconds, then plug it back in."}


async def test_adk_example_with_a_continued_session(bundled):
    pytest.importorskip("google.adk")
    env = await bundled.engine.run("weather_chat", {"text": "What is the weather in Lisbon?"})
    assert env.ok, env.error
    assert env.data["response"] == "It is 24 C and sunny in Lisbon."
    assert env.data["tool_calls"] == {"get_weather": 1}
    again = await bundled.engine.run("weather_chat", {"text": "thanks", "session_id": env.data["session_id"]})
    assert again.data["response"] == "You said: thanks (user turn 2 of this session)"


async def test_mcp_example(bundled):
    env = await bundled.engine.run("mcp_echo", {"text": "hello"})
    assert env.ok, env.error
    assert env.data == {"echoed": "hello", "length_plus_100": 105.0}
    assert [s.name for s in bundled.catalog.mcp_servers()] == ["example-echo"]
