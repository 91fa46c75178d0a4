"""Scripted Ollama/OpenAI loopback servers for the NoETL agent examples (the troubleshoot suites'
own server, `tests/troubleshoot/llm_servers.py`)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "troubleshoot"))

from llm_servers import LlmServer  # noqa: E402


@pytest.fixture
def llm_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LlmServer, LlmServer]]:
    ollama, openai = LlmServer("ollama").start(), LlmServer("openai").start()
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    monkeypatch.setenv("OPENAI_BASE_URL", openai.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-noetl-dialect-key-0123456789")
    for name in ("AGENTHUB_AUTO_TROUBLESHOOT", "AGENTHUB_TROUBLESHOOT_CONFIG", "OLLAMA_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    yield ollama, openai
    ollama.stop()
    openai.stop()
