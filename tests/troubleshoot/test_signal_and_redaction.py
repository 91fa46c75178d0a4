"""The failure signal (sub-run chains, bounds) and the scrubbing of secrets by value and shape."""

from __future__ import annotations

import json

import pytest
from llm_servers import answer, user_signal

from hub.contract.records import EventRecord
from troubleshoot.redaction import Scrubber
from troubleshoot.rules import classify
from troubleshoot.signal import MAX_SIGNAL_CHARS, FailureSignal, signal_from


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("Authorization: Bearer abcdefghij0123456789", "abcdefghij0123456789"),
        ("key sk-proj-AbCdEfGhIjKlMnOpQrStUv123", "sk-proj-AbCdEfGhIjKlMnOpQrStUv123"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdEFGH1234", "eyJhbGciOiJIUzI1NiJ9"),
        ("connect postgres://bob:pw123secret@db:5432/app", "pw123secret"),
        ("password=hunter22 user=bob", "hunter22"),
        ('{"api_key": "abc123xyz789"}', "abc123xyz789"),
        ("GET https://x/a?access_token=abcd1234efgh&x=1 -> 401", "abcd1234efgh"),
        ("id AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789 pushed", "ghp_abcdefghijklmnopqrstuvwxyz"),
        ("xoxb-1234567890-abcdefghij", "xoxb-1234567890"),
        ("sig deadbeefdeadbeefdeadbeefdeadbeef00", "deadbeefdeadbeef"),
        ("blob QWxhZGRpbjpvcGVuIHNlc2FtZTEyMzQ1Njc4OTA0NTY3", "QWxhZGRpbjpvcGVu"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA"),
    ],
)
def test_token_shapes_are_masked(text: str, leak: str) -> None:
    assert leak not in Scrubber().text(text)


@pytest.mark.parametrize(
    "text",
    [
        "execution 0190a1b2-c3d4-7e5f-8a9b-0123456789ab failed",
        'File "/work/main/.venv/lib/python3.11/site-packages/httpx/_transports/default.py", line 72',
        "ModuleNotFoundError: No module named 'langchain_core'",
        "GET http://127.0.0.1:8080/status -> 503 Service Unavailable",
        "KeyError: 'total'",
    ],
)
def test_ordinary_text_survives(text: str) -> None:
    assert Scrubber().text(text) == text


def test_known_values_are_masked_anywhere() -> None:
    scrub = Scrubber(["s3cr3t-value", "abc"])  # too short to mask safely: ignored
    assert scrub({"a": ["x s3cr3t-value y"], "s3cr3t-value": 1}) == {"a": ["x *** y"], "***": 1}
    assert scrub("abc") == "abc"


def _event(seq: int, type_: str, step: str | None = None, **data: object) -> EventRecord:
    return EventRecord(execution_id="e", seq=seq, type=type_, at=0.0, step=step, data=data)


def test_signal_is_bounded_and_keeps_the_essentials() -> None:
    envelope = {
        "execution_id": "e", "entrypoint": "p",
        "error": {"kind": "agent.execution", "code": "PYTHON_ERROR", "message": "ValueError: " + "x" * 5000,
                  "step": {"name": "s", "kind": "python"},
                  "details": {"exception_type": "ValueError", "traceback": [f"line {i} " + "y" * 400 for i in range(50)]}},
    }
    events = [_event(i, "step.progress", "s", message="m" * 300) for i in range(1, 400)]
    events.append(_event(400, "step.failed", "s", kind="python", attempt=3, error={"code": "PYTHON_ERROR", "message": "boom"}))
    signal = signal_from(envelope, events)
    assert len(signal.prompt_json()) <= MAX_SIGNAL_CHARS
    assert signal.failed_step == "s" and signal.exception_type == "ValueError" and signal.attempts == 3
    assert signal.last_events and signal.last_events[-1].type == "step.failed"
    assert all(len(line) <= 240 for line in signal.traceback_tail)


def test_exception_type_and_status_are_read_from_the_error() -> None:
    envelope = {"execution_id": "e", "error": {"kind": "agent.execution", "code": "HTTP_STATUS_503", "message": "GET x -> 503"}}
    signal = signal_from(envelope, [])
    assert signal.http_status == 503
    envelope = {"execution_id": "e", "error": {"kind": "agent.execution", "code": "PYTHON_ERROR", "message": "ZeroDivisionError: division by zero"}}
    assert signal_from(envelope, []).exception_type == "ZeroDivisionError"


def test_rules_follow_a_child_code_in_the_message() -> None:
    signal = FailureSignal(execution_id="e", error_kind="agent.execution", error_code="PLAYBOOK_FAILED",
                           error_message="sub-run a (1) failed: PLAYBOOK_FAILED: sub-run b (2) failed: HTTP_STATUS_429: GET x -> 429")
    verdict = classify(signal)
    assert verdict.category.value == "rate_limit" and verdict.rule.startswith("child:")


PARENT = """
    apiVersion: agenthub/v1
    kind: Playbook
    metadata: {{name: parent}}
    workflow:
      - step: delegate
        {on_failure}
        tool: {{kind: playbook, path: child}}
"""
CHILD = """
    apiVersion: agenthub/v1
    kind: Playbook
    metadata: {{name: child}}
    {on_failure}
    workflow:
      - step: fetch
        tool: {{kind: http, url: "{url}/status"}}
        retry: {{attempts: 1}}
"""


async def test_a_parent_failure_is_diagnosed_from_the_root_failure(hub, write_playbook, http_server, llm_env, ollama_server) -> None:
    http_server.script("/status", (503, {"error": "busy"}))
    write_playbook("parent", PARENT.format(on_failure="on_failure: {troubleshoot: true, escalate_to: none}"))
    write_playbook("child", CHILD.format(on_failure="", url=http_server.url))
    ollama_server.script(answer("transient_5xx", 0.9, "The status endpoint answered 503."))
    h = await hub()
    envelope = await h.engine.run("parent", {})
    assert envelope.error.code == "PLAYBOOK_FAILED"
    assert envelope.error.diagnosis["category"] == "transient_5xx"
    sent = user_signal(ollama_server.requests[0])
    assert sent["failed_step"] == "fetch" and sent["http_status"] == 503 and sent["error_code"] == "HTTP_STATUS_503"
    assert [link["step"] for link in sent["chain"]] == ["delegate", "fetch"]
    assert sent["execution_id"] == envelope.execution_id


async def test_a_diagnosed_child_is_reused_by_the_parent(hub, write_playbook, http_server, llm_env, ollama_server) -> None:
    http_server.script("/status", (503, {"error": "busy"}))
    write_playbook("parent", PARENT.format(on_failure="on_failure: {troubleshoot: true}"))
    write_playbook("child", CHILD.format(on_failure="on_failure: {troubleshoot: true}", url=http_server.url))
    ollama_server.script(answer("transient_5xx", 0.9))
    h = await hub()
    envelope = await h.engine.run("parent", {})
    d = envelope.error.diagnosis
    assert d["category"] == "transient_5xx" and d["tiers"][0] == {
        "tier": "child", "outcome": "reused", "latency": 0.0,
        "detail": f"the diagnosis of sub-run {envelope.error.details['child_execution_id']}"}
    assert len(ollama_server.requests) == 1  # one diagnosis paid for, not two
    assert json.dumps(d)  # JSON-ready


def test_rule_root_cause_names_the_whole_url_with_its_port():
    from troubleshoot.rules import classify
    from troubleshoot.signal import FailureSignal

    signal = FailureSignal(
        execution_id="x", failed_step="fetch", tool_kind="http", error_kind="agent.execution",
        error_code="HTTP_CONNECTION_ERROR",
        error_message="GET http://127.0.0.1:9/status: ConnectError: All connection attempts failed",
    )
    verdict = classify(signal)
    assert verdict.category == "infra"
    assert "GET http://127.0.0.1:9/status" in verdict.root_cause
