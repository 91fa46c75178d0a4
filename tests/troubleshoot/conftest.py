"""Fixtures for the troubleshoot suites: scripted Ollama and OpenAI servers on loopback, and an
environment that points the official clients at them (the clients' own variables)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from llm_servers import LlmServer, trusted_profile  # noqa: E402

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


LOCAL_TRUST = 0.85
ESCALATION_TRUST = 0.95


@pytest.fixture
def llm_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ollama_server: LlmServer, openai_server: LlmServer) -> dict[str, str]:
    """OLLAMA_HOST / OPENAI_BASE_URL / OPENAI_API_KEY set to the scripted servers; the opt-in off;
    the default models on them calibrated as well-behaved (observed accuracy 0.85 and 0.95 times
    their stated confidence), in a calibration directory of the test's own."""
    calibration = tmp_path / "calibration"
    for model in ("gemma2:2b", "llama3.2:1b"):
        trusted_profile("ollama", ollama_server.url, model, LOCAL_TRUST, calibration)
    for model in ("gpt-4o-mini", "gpt-test"):
        trusted_profile("openai", openai_server.base_url, model, ESCALATION_TRUST, calibration)
    env = {
        "OLLAMA_HOST": ollama_server.url,
        "OPENAI_BASE_URL": openai_server.base_url,
        "OPENAI_API_KEY": OPENAI_TEST_KEY,
        "AGENTHUB_TROUBLESHOOT_CALIBRATION_DIR": str(calibration),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AGENTHUB_AUTO_TROUBLESHOOT", raising=False)
    monkeypatch.delenv("AGENTHUB_TROUBLESHOOT_CONFIG", raising=False)
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    return env
