"""The cascade end to end: a failing playbook, the engine's hook, the official `ollama` and
`openai` clients, and scripted loopback servers speaking their HTTP APIs.

Every scenario also checks what the servers received: the keychain value, the bearer token, the
password and the API key planted in the failure never reach them.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from llm_servers import LlmServer, Reply, answer, closed_port_url, user_signal

SECRET = "kc-value-Zq8Lm3Np7Rt2Vx6Yb1"  # the keychain value the failing step uses
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdmMifQ.c2lnbmF0dXJlMTIzNDU2"
API_KEY = "sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3"
TOKEN_SHAPES = [
    re.compile(r"sk-[A-Za-z0-9-]{16,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"),
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/-]{8,}"),
    re.compile(r"password=(?!\*\*\*)\S+"),
]


def failing(write_playbook: Any, name: str, exception: str, on_failure: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A playbook whose Python step raises `exception` with secrets and token shapes in the text."""
    monkeypatch.setenv("TS_TEST_SECRET", SECRET)
    write_playbook(name, f"""
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {{name: {name}}}
        keychain:
          - {{name: service_password, env: TS_TEST_SECRET}}
        on_failure: {on_failure}
        workflow:
          - step: sync
            tool:
              kind: python
              code: |
                def main(secret):
                    raise {exception}("sync as svc with " + secret + " failed; Authorization: Bearer {BEARER} "
                                      "password=hunter22 key {API_KEY}")
            input: {{secret: "{{{{ keychain.service_password }}}}"}}
    """)


def assert_nothing_secret(*servers: LlmServer) -> None:
    for server in servers:
        sent = server.bodies_text()
        for value in (SECRET, BEARER, API_KEY, "hunter22"):
            assert value not in sent, f"{value!r} reached {server.kind}"
        for shape in TOKEN_SHAPES:
            assert not shape.search(sent), f"{shape.pattern} matched what {server.kind} received: {shape.search(sent)}"


async def run_failing(hub: Any, name: str) -> tuple[Any, list[Any]]:
    h = await hub()
    envelope = await h.engine.run(name, {})
    assert envelope.status == "error"
    await h.store.flush()
    return envelope, await h.store.events(envelope.execution_id)


def tiers(envelope: Any) -> list[tuple[str, str]]:
    return [(t["tier"], t["outcome"]) for t in envelope.error.diagnosis["tiers"]]


async def test_confident_local_answer_does_not_escalate(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server):
    failing(write_playbook, "keyerr", "KeyError", "{troubleshoot: true}", monkeypatch)
    ollama_server.script(answer("tool_error", 0.95, "The sync step looked up a missing key.", "Check the payload."))
    envelope, events = await run_failing(hub, "keyerr")
    d = envelope.error.diagnosis
    assert envelope.error.code == "PYTHON_ERROR" and envelope.error.message.startswith("KeyError")
    assert d["category"] == "tool_error" and d["source"] == "ollama" and d["escalated"] is False
    assert d["confidence"] >= 0.9 and d["root_cause"] == "The sync step looked up a missing key."
    assert tiers(envelope) == [("rules", "ok"), ("ollama", "ok")]
    ollama_tier = d["tiers"][1]
    assert ollama_tier["model"] == "gemma2:2b" and ollama_tier["tokens_in"] == 120 and ollama_tier["tokens_out"] == 40
    assert openai_server.requests == []
    assert len(ollama_server.requests) == 1
    request = ollama_server.requests[0]
    assert request["format"]["properties"]["category"]["enum"][0] == "transient_5xx"  # the schema as `format`
    assert request["stream"] is False and request["model"] == "gemma2:2b"
    sent = user_signal(request)
    assert sent["failed_step"] == "sync" and sent["error_code"] == "PYTHON_ERROR" and sent["exception_type"] == "KeyError"
    finished = [e for e in events if e.type == "diagnosis.finished"]
    assert len(finished) == 1 and finished[0].data["diagnosis"]["category"] == "tool_error"
    assert finished[0].data["trigger"] == "auto"
    record = await (await hub()).store.get(envelope.execution_id)
    assert record.envelope["error"]["diagnosis"]["category"] == "tool_error"  # stored with the envelope
    assert_nothing_secret(ollama_server, openai_server)


async def test_low_confidence_escalates_and_keeps_the_better_supported_answer(
    hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server
):
    failing(write_playbook, "keyerr", "KeyError", "{troubleshoot: true}", monkeypatch)
    ollama_server.script(answer("infra", 0.9, "The network is down."))  # contradicts the rule
    openai_server.script(answer("tool_error", 0.9, "The step reads a key the payload does not have.", "Guard the lookup."))
    envelope, _ = await run_failing(hub, "keyerr")
    d = envelope.error.diagnosis
    assert d["escalated"] is True and d["category"] == "tool_error" and d["source"] == "openai"
    assert d["confidence"] >= 0.9
    assert [t["category"] for t in d["tiers"]] == ["tool_error", "infra", "tool_error"]
    request = openai_server.requests[0]
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["strict"] is True
    assert request["response_format"]["json_schema"]["schema"]["additionalProperties"] is False
    assert openai_server.headers[0]["authorization"] == f"Bearer {llm_env['OPENAI_API_KEY']}"
    assert_nothing_secret(ollama_server, openai_server)


async def test_the_last_answer_does_not_simply_win(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server):
    failing(write_playbook, "rt", "RuntimeError", "{troubleshoot: true}", monkeypatch)  # rule: tool_error at 0.6
    ollama_server.script(answer("tool_error", 0.3))
    openai_server.script(answer("rate_limit", 0.5, "Maybe throttled."))  # weak, unsupported
    envelope, _ = await run_failing(hub, "rt")
    d = envelope.error.diagnosis
    assert d["escalated"] is True
    assert d["category"] == "tool_error" and d["source"] == "rules"
    assert d["confidence"] < 0.7  # honest: still unsure


async def test_malformed_local_json_escalates(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server):
    failing(write_playbook, "rt", "RuntimeError", "{troubleshoot: true}", monkeypatch)
    ollama_server.script(Reply(content='{"category": "tool_error", "confidence": 0.9'))  # cut short
    openai_server.script(answer("tool_error", 0.85, "The step raised on purpose."))
    envelope, _ = await run_failing(hub, "rt")
    d = envelope.error.diagnosis
    assert tiers(envelope) == [("rules", "ok"), ("ollama", "malformed"), ("openai", "ok")]
    assert d["escalated"] is True and d["source"] == "openai" and d["category"] == "tool_error"
    assert_nothing_secret(ollama_server, openai_server)


async def test_off_schema_local_answer_counts_as_none(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server):
    failing(write_playbook, "rt", "RuntimeError", "{troubleshoot: true, escalate_to: none}", monkeypatch)
    ollama_server.script(answer("network_glitch", 0.99))  # not a category
    envelope, _ = await run_failing(hub, "rt")
    assert tiers(envelope) == [("rules", "ok"), ("ollama", "off_schema")]
    assert envelope.error.diagnosis["source"] == "rules"
    ollama_server.script(answer("infra", 1.7))  # confidence out of range
    envelope, _ = await run_failing(hub, "rt")
    assert tiers(envelope) == [("rules", "ok"), ("ollama", "off_schema")]


async def test_ollama_down_uses_rules_and_openai(hub, write_playbook, monkeypatch, llm_env, openai_server, ollama_server):
    monkeypatch.setenv("OLLAMA_HOST", closed_port_url())
    failing(write_playbook, "rt", "RuntimeError", "{troubleshoot: true}", monkeypatch)
    openai_server.script(answer("tool_error", 0.9, "The sync step raised a RuntimeError."))
    envelope, _ = await run_failing(hub, "rt")
    d = envelope.error.diagnosis
    assert tiers(envelope) == [("rules", "ok"), ("ollama", "unreachable"), ("openai", "ok")]
    assert d["escalated"] is True and d["category"] == "tool_error" and d["confidence"] >= 0.7
    assert ollama_server.requests == []
    assert_nothing_secret(openai_server)


async def test_openai_500_keeps_the_local_answer(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server):
    failing(write_playbook, "rt", "RuntimeError", "{troubleshoot: true}", monkeypatch)
    ollama_server.script(answer("infra", 0.8, "The sync target refused the connection."))
    openai_server.script(Reply(status=500, error="upstream exploded"))
    envelope, _ = await run_failing(hub, "rt")
    d = envelope.error.diagnosis
    assert tiers(envelope) == [("rules", "ok"), ("ollama", "ok"), ("openai", "http_error")]
    assert "500" in d["tiers"][2]["detail"]
    assert d["source"] == "ollama" and d["category"] == "infra" and d["escalated"] is True
    assert len(openai_server.requests) == 1  # the SDK's own retries are off: the budget decides
    assert envelope.error.code == "PYTHON_ERROR"


async def test_budget_bounds_every_tier(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server):
    failing(write_playbook, "rt", "RuntimeError", "{troubleshoot: true, budget: 3.0}", monkeypatch)
    ollama_server.script(Reply(delay=30.0, answer={"category": "infra", "confidence": 1, "root_cause": "x", "suggested_action": "y"}))
    openai_server.script(Reply(delay=30.0, answer={"category": "infra", "confidence": 1, "root_cause": "x", "suggested_action": "y"}))
    h = await hub()
    started = time.monotonic()
    envelope = await h.engine.run("rt", {})
    elapsed = time.monotonic() - started
    d = envelope.error.diagnosis
    assert tiers(envelope) == [("rules", "ok"), ("ollama", "timeout"), ("openai", "timeout")]
    ollama_tier, openai_tier = d["tiers"][1], d["tiers"][2]
    # not speed but the budget: the servers would take 60 s; the tiers are cut at 60 % and 40 % of the 3 s budget (the
    # bounds leave room for a loaded machine; they only need to be far below the servers' 30 s each)
    assert ollama_tier["latency"] < openai_tier["latency"] + 5  # Ollama's share did not eat the budget
    assert ollama_tier["latency"] + openai_tier["latency"] < 10
    assert d["source"] == "rules" and d["category"] == "tool_error"
    assert elapsed < 15, elapsed  # the run's answer waits for the budget, not for the slow servers


async def test_a_tiny_budget_skips_the_model_tiers(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server):
    failing(write_playbook, "rt", "RuntimeError", "{troubleshoot: true, budget: 0.2}", monkeypatch)
    envelope, _ = await run_failing(hub, "rt")
    assert tiers(envelope) == [("rules", "ok"), ("ollama", "skipped_budget"), ("openai", "skipped_budget")]
    assert ollama_server.requests == [] and openai_server.requests == []


async def test_escalate_to_none_stops_after_ollama(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server):
    failing(write_playbook, "rt", "RuntimeError", "{troubleshoot: true, escalate_to: none}", monkeypatch)
    ollama_server.script(answer("infra", 0.8))
    envelope, _ = await run_failing(hub, "rt")
    d = envelope.error.diagnosis
    assert tiers(envelope) == [("rules", "ok"), ("ollama", "ok")]
    assert d["escalated"] is False and d["confidence"] < 0.7
    assert openai_server.requests == []


async def test_openai_credential_comes_from_the_keychain(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("TS_OPENAI_KEY", "sk-from-keychain-abcdefghijklmnop")
    write_playbook("withkey", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: withkey}
        keychain:
          - {name: openai_token, env: TS_OPENAI_KEY}
        on_failure: {troubleshoot: true, openai_credential: openai_token, ollama_model: "llama3.2:1b", openai_model: gpt-test}
        workflow:
          - step: boom
            tool: {kind: python, code: "def main():\\n    raise RuntimeError('it broke')"}
    """)
    ollama_server.script(Reply(content="nonsense"))
    openai_server.script(answer("tool_error", 0.9))
    envelope, _ = await run_failing(hub, "withkey")
    assert envelope.error.diagnosis["source"] == "openai"
    assert openai_server.headers[0]["authorization"] == "Bearer sk-from-keychain-abcdefghijklmnop"
    assert openai_server.requests[0]["model"] == "gpt-test" and ollama_server.requests[0]["model"] == "llama3.2:1b"
    assert "sk-from-keychain" not in openai_server.bodies_text()  # a header, never the prompt


async def test_missing_openai_credential_is_recorded(hub, write_playbook, monkeypatch, llm_env, ollama_server, openai_server):
    write_playbook("nokey", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: nokey}
        keychain:
          - {name: openai_token, env: TS_UNSET_OPENAI_KEY, required: false}
        on_failure: {troubleshoot: true, openai_credential: openai_token}
        workflow:
          - step: boom
            tool: {kind: python, code: "def main():\\n    raise RuntimeError('it broke')"}
    """)
    ollama_server.script(answer("unknown", 0.4))
    envelope, _ = await run_failing(hub, "nokey")
    assert tiers(envelope) == [("rules", "ok"), ("ollama", "ok"), ("openai", "no_credentials")]
    assert openai_server.requests == []
    assert envelope.error.diagnosis["escalated"] is False  # the escalation tier was never asked


async def test_http_failure_with_echoed_credentials_is_redacted(hub, write_playbook, monkeypatch, llm_env, http_server, ollama_server, openai_server):
    """An API that echoes the refused bearer token in its error body: the token never leaves."""
    monkeypatch.setenv("TS_API_TOKEN", SECRET)
    http_server.script("/me", (401, {"error": "bad token", "got": f"Bearer {SECRET}", "also": BEARER}))
    write_playbook("me", f"""
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {{name: me}}
        keychain:
          - {{name: api_token, env: TS_API_TOKEN}}
        on_failure: {{troubleshoot: true}}
        workflow:
          - step: whoami
            tool:
              kind: http
              url: "{http_server.url}/me"
              headers: {{authorization: "Bearer {{{{ keychain.api_token }}}}"}}
            retry: {{attempts: 1}}
    """)
    ollama_server.script(answer("auth", 0.9, "The API refused the token."))
    envelope, _ = await run_failing(hub, "me")
    d = envelope.error.diagnosis
    assert d["category"] == "auth" and d["escalated"] is False
    sent = user_signal(ollama_server.requests[0])
    assert sent["http_status"] == 401 and sent["tool_kind"] == "http"
    assert_nothing_secret(ollama_server, openai_server)
