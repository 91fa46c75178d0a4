"""Fixtures for the troubleshoot suites: scripted Ollama and OpenAI servers on loopback, and an
environment that points the official clients at them (the clients' own variables)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from llm_servers import LlmServer  # noqa: E402

OPENAI_TEST_KEY = "sk-test-openai-key-that-must-stay-in-the-header-1234"


@pytest.fixture
def ollama_server() -> Iterator[LlmServer]:
    server = LlmServer("ollama").start()
    yield server
    server.stop()


@pytest.fixture
def openai_server() -> Iterator[LlmServer]:
    server = LlmServer("openai").start()
    yield server
    server.stop()


@pytest.fixture
def llm_env(monkeypatch: pytest.MonkeyPatch, ollama_server: LlmServer, openai_server: LlmServer) -> dict[str, str]:
    """OLLAMA_HOST / OPENAI_BASE_URL / OPENAI_API_KEY set to the scripted servers; the opt-in off."""
    env = {
        "OLLAMA_HOST": ollama_server.url,
        "OPENAI_BASE_URL": openai_server.base_url,
        "OPENAI_API_KEY": OPENAI_TEST_KEY,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AGENTHUB_AUTO_TROUBLESHOOT", raising=False)
    monkeypatch.delenv("AGENTHUB_TROUBLESHOOT_CONFIG", raising=False)
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    return env
