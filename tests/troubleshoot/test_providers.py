"""Each provider path against a real loopback server speaking its API, through the official clients:
structured output negotiated (json_schema refused -> json_object -> text) and remembered, prose
read leniently, an output cap on every call, the local tier on an OpenAI-compatible server, the
escalation tier on a Claude-style endpoint, one model reached twice asked once."""

from __future__ import annotations

import json

import pytest
from llm_servers import LlmServer, Reply, answer

from bridges.llm.base import ModeMemory, Outcome, OutputMode, extract_json
from bridges.llm.ollama_provider import OllamaProvider
from bridges.llm.openai_provider import OpenAIProvider
from troubleshoot.cascade import diagnose_signal
from troubleshoot.diagnosis import ModelAnswer, answer_schema
from troubleshoot.providers import Providers, escalation_spec, local_spec
from troubleshoot.settings import TroubleshootSettings, resolve
from troubleshoot.signal import FailureSignal

SCHEMA = answer_schema()
GOOD = {"category": "auth", "confidence": 0.8, "root_cause": "The key was refused.", "suggested_action": "Rotate it."}


def _openai(server: LlmServer, memory: ModeMemory, **kw: object) -> OpenAIProvider:
    return OpenAIProvider("m", api_key="sk-local", base_url=server.base_url, modes=memory, key_from_env=False, **kw)  # type: ignore[arg-type]


async def test_openai_json_schema_refused_falls_back_to_json_object_with_the_schema_and_remembers(
    openai_server: LlmServer,
) -> None:
    """llama-cpp-python's answer to `json_schema` (HTTP 500), then `json_object` with the schema
    attached, which such a server compiles into a grammar; the strict request left out the bounds
    OpenAI's strict mode refuses, the grammar request keeps them."""
    openai_server.refuse = {"json_schema"}
    openai_server.script(Reply(answer=GOOD))
    memory = ModeMemory()
    provider = _openai(openai_server, memory, max_tokens=123)
    first = await provider.complete("sys", "user", SCHEMA, timeout=10)
    assert first.outcome == Outcome.OK and first.answer == GOOD and first.mode == "json_object_schema"
    formats = [r.get("response_format", {}) for r in openai_server.requests]
    assert [f.get("type") for f in formats] == ["json_schema", "json_object"]
    strict = json.dumps(formats[0]["json_schema"]["schema"])
    assert "maxLength" not in strict and "minimum" not in strict and '"enum"' in strict
    assert formats[1]["schema"] == SCHEMA and SCHEMA["properties"]["root_cause"]["maxLength"] > 0
    assert "JSON Schema" in openai_server.requests[1]["messages"][0]["content"]  # and in the prompt
    assert memory.get(provider.mode_key) is OutputMode.JSON_OBJECT_SCHEMA
    second = await _openai(openai_server, memory).complete("sys", "user", SCHEMA, timeout=10)  # a new client, same server
    assert second.ok and openai_server.requests[2]["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert all(r["max_tokens"] == 123 for r in openai_server.requests[:2])
    await provider.aclose()


async def test_openai_refusing_the_schema_field_is_asked_in_bare_json_mode(openai_server: LlmServer) -> None:
    """A server that takes `json_object` but not an extra `schema` beside it (400 naming the field)."""
    openai_server.refuse = {"json_schema", "json_object_schema"}
    openai_server.script(Reply(answer=GOOD))
    memory = ModeMemory()
    provider = _openai(openai_server, memory)
    result = await provider.complete("sys", "user", SCHEMA, timeout=10)
    assert result.ok and result.mode == "json_object"
    assert [r.get("response_format") for r in openai_server.requests][1:] == [
        {"type": "json_object", "schema": SCHEMA}, {"type": "json_object"}]
    assert memory.get(provider.mode_key) is OutputMode.JSON_OBJECT
    await provider.aclose()


async def test_openai_refusing_every_format_is_asked_in_plain_text(openai_server: LlmServer) -> None:
    openai_server.refuse = {"json_schema", "json_object"}
    openai_server.script(Reply(content="Here you go:\n```json\n" + json.dumps(GOOD) + "\n```"))
    provider = _openai(openai_server, ModeMemory())
    result = await provider.complete("sys", "user", SCHEMA, timeout=10)
    assert result.ok and result.answer == GOOD and result.mode == "text"
    assert "response_format" not in openai_server.requests[-1]


async def test_a_server_that_ignores_the_schema_and_answers_prose(openai_server: LlmServer) -> None:
    """200 OK, but prose around the object: taken leniently, and the server is asked in text mode
    from then on (the schema in the prompt); prose with no object is malformed, never guessed."""
    openai_server.script(
        Reply(content="The failure is an auth problem. " + json.dumps(GOOD) + " Hope this helps."),
        Reply(content="I think it is probably an authentication issue with the key."),
    )
    memory = ModeMemory()
    provider = _openai(openai_server, memory)
    first = await provider.complete("sys", "user", SCHEMA, timeout=10)
    assert first.ok and first.answer == GOOD and "ignored" in (first.detail or "")
    assert memory.get(provider.mode_key) is OutputMode.TEXT
    second = await provider.complete("sys", "user", SCHEMA, timeout=10)
    assert second.answer is None and second.outcome == Outcome.MALFORMED
    assert "response_format" not in openai_server.requests[1]
    assert "JSON Schema" in openai_server.requests[1]["messages"][0]["content"]


async def test_prose_with_an_off_schema_object_is_not_an_answer(openai_server: LlmServer) -> None:
    openai_server.script(Reply(content='Answer: {"category": "auth", "confidence": 2}'))
    result = await _openai(openai_server, ModeMemory()).complete("sys", "user", SCHEMA, timeout=10)
    assert result.answer is None and result.outcome == Outcome.OFF_SCHEMA


async def test_ollama_caps_output_and_falls_back_from_a_refused_schema(ollama_server: LlmServer) -> None:
    ollama_server.refuse = {"json_schema"}
    ollama_server.script(Reply(answer=GOOD))
    memory = ModeMemory()
    provider = OllamaProvider("m", host=ollama_server.url, max_tokens=77, modes=memory)
    result = await provider.complete("sys", "user", SCHEMA, timeout=10)
    assert result.ok and result.mode == "json_object"
    assert isinstance(ollama_server.requests[0]["format"], dict) and ollama_server.requests[1]["format"] == "json"
    assert all(r["options"]["num_predict"] == 77 for r in ollama_server.requests)
    assert memory.get(provider.mode_key) is OutputMode.JSON_OBJECT
    await provider.aclose()


def test_extract_json_takes_the_first_object() -> None:
    assert extract_json('x {"a": {"b": 1}} y {"c": 2}') == {"a": {"b": 1}}
    assert extract_json("no braces { here") is None


async def test_an_answer_longer_than_its_bound_is_kept_and_trimmed(openai_server: LlmServer) -> None:
    """`maxLength` guides a grammar; a big model's long sentence is still a diagnosis (trimmed by
    ModelAnswer), while a confidence out of range stays off-schema."""
    long_cause = "The key was refused by the provider because " + "it had been rotated " * 40
    openai_server.script(Reply(answer={**GOOD, "root_cause": long_cause}))
    result = await _openai(openai_server, ModeMemory()).complete("sys", "user", SCHEMA, timeout=10)
    assert result.outcome == Outcome.OK and result.answer is not None
    kept = ModelAnswer.model_validate(result.answer)
    assert len(long_cause) > 600 and kept.root_cause.startswith("The key was refused") and len(kept.root_cause) == 600


def _signal() -> FailureSignal:
    return FailureSignal(execution_id="e1", error_kind="agent.execution", error_code="PYTHON_ERROR",
                         error_message="RuntimeError: something odd", failed_step="s", tool_kind="python")


async def test_local_tier_on_an_openai_compatible_server(openai_server: LlmServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AGENTHUB_TROUBLESHOOT_LOCAL_API_KEY", raising=False)
    openai_server.script(answer("tool_error", 0.9))
    settings = resolve(environ={"AGENTHUB_TROUBLESHOOT_LOCAL_PROVIDER": "openai",
                                "AGENTHUB_TROUBLESHOOT_LOCAL_BASE_URL": openai_server.base_url,
                                "AGENTHUB_TROUBLESHOOT_LOCAL_MODEL": "gemma-3-270m",
                                "AGENTHUB_TROUBLESHOOT_MAX_OUTPUT_TOKENS": "200"},
                       on_demand=True).model_copy(update={"escalate_to": "none"})
    assert (settings.local_provider, settings.local_model, settings.max_output_tokens) == ("openai", "gemma-3-270m", 200)
    diagnosis = await diagnose_signal(_signal(), settings)
    assert [(t.tier, t.outcome) for t in diagnosis.tiers] == [("rules", "ok"), ("ollama", "ok")]
    request = openai_server.requests[0]
    assert request["model"] == "gemma-3-270m" and request["max_tokens"] == 200
    assert openai_server.headers[0]["authorization"] == "Bearer no-key"  # a keyless local server


async def test_escalate_to_claude_uses_its_endpoint_and_key(openai_server: LlmServer, ollama_server: LlmServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-000000000000000000")
    monkeypatch.delenv("AGENTHUB_TROUBLESHOOT_ESCALATION_API_KEY", raising=False)
    ollama_server.script(answer("unknown", 0.3))
    openai_server.script(answer("tool_error", 0.9))
    settings = TroubleshootSettings(enabled=True, local_base_url=ollama_server.url, escalate_to="claude",
                                    escalation_base_url=openai_server.base_url)
    spec = escalation_spec(settings)
    assert spec is not None and spec.model == "claude-haiku-4-5"
    diagnosis = await diagnose_signal(_signal(), settings)
    assert diagnosis.escalated is True and openai_server.requests[0]["model"] == "claude-haiku-4-5"
    assert openai_server.headers[0]["authorization"] == "Bearer sk-ant-test-000000000000000000"
    assert "sk-ant" not in openai_server.bodies_text()


async def test_one_model_reached_twice_is_asked_once(openai_server: LlmServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Local and escalation tier on the same server and model: one judge, one request, no escalation."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0000000000000000")
    openai_server.script(answer("infra", 0.99))
    settings = TroubleshootSettings(enabled=True, local_provider="openai", local_base_url=openai_server.base_url,
                                    local_model="same", escalation_base_url=openai_server.base_url,
                                    escalation_model="same")
    assert local_spec(settings).judge == escalation_spec(settings).judge  # type: ignore[union-attr]
    diagnosis = await diagnose_signal(_signal(), settings, providers=Providers())
    assert len(openai_server.requests) == 1
    assert [(t.tier, t.outcome) for t in diagnosis.tiers][-1] == ("openai", "reused") and diagnosis.escalated is False
