"""Defects found with a real model in the loop: over-redaction of exception names, `escalated`
without an escalation, and root causes that lose the package the error names."""

from __future__ import annotations

import pytest

from troubleshoot.cascade import run_cascade
from troubleshoot.categories import Category
from troubleshoot.diagnosis import ModelAnswer, TierRun
from troubleshoot.redaction import Scrubber
from troubleshoot.rules import classify
from troubleshoot.settings import TroubleshootSettings
from troubleshoot.signal import FailureSignal
from troubleshoot.tiers import TierAnswer


@pytest.mark.parametrize(
    "text",
    [
        "AuthenticationError: Error code: 401",
        "openai.AuthenticationError: Error code: 401 - {'error': {'message': 'Incorrect API key provided'}}",
        "PermissionDeniedError: Error code: 403",
        "TokenExpiredError: token expired at 12:00",
    ],
)
def test_exception_names_are_not_taken_for_keys(text: str) -> None:
    assert Scrubber().text(text) == text


@pytest.mark.parametrize(
    ("text", "leak", "kept"),
    [
        ("auth_token = s3cr3tval and more", "s3cr3tval", "auth_token = ***"),
        ("Authorization: Bearer abc", "abc", "Authorization: Bearer ***"),
        ("credentials: Zm9vYmFy", "Zm9vYmFy", "credentials: ***"),
    ],
)
def test_key_value_secrets_are_still_masked(text: str, leak: str, kept: str) -> None:
    scrubbed = Scrubber().text(text)
    assert leak not in scrubbed and kept in scrubbed


def _signal(message: str, **fields: object) -> FailureSignal:
    base = {"execution_id": "e1", "error_kind": "agent.execution", "error_code": "PYTHON_ERROR", "error_message": message}
    return FailureSignal.model_validate({**base, **fields})


def test_auth_error_root_cause_keeps_its_words() -> None:
    signal = _signal("AuthenticationError: Error code: 401", failed_step="ask", tool_kind="agent")
    scrubbed = Scrubber()(signal.model_dump(mode="json"))
    assert scrubbed["error_message"] == "AuthenticationError: Error code: 401"
    verdict = classify(FailureSignal.model_validate(scrubbed))
    assert verdict.category is Category.AUTH and "***" not in verdict.root_cause and "401" in verdict.root_cause


def test_framework_dependency_names_the_package_and_its_install_command() -> None:
    """The message the agent bridge really raises (bridges/agent/dependencies.py)."""
    signal = _signal(
        "framework 'adk' needs google-adk, which is not installed: pip install 'agenthub[adk]'",
        error_kind="agent.dependency", error_code="FRAMEWORK_NOT_INSTALLED", failed_step="research", tool_kind="agent",
    )
    verdict = classify(signal)
    assert verdict.category is Category.DEPENDENCY
    assert "google-adk" in verdict.root_cause and "required package" not in verdict.root_cause
    assert "pip install 'agenthub[adk]'" in verdict.suggested_action


@pytest.mark.parametrize(
    ("message", "package"),
    [
        ("ModuleNotFoundError: No module named 'langchain_core.messages'", "langchain_core"),
        ("ImportError: Could not import tiktoken python package. Please install it with `pip install tiktoken`.", "tiktoken"),
        ("module 'm' needs 'pkg_x', which is not installed (pip install pkg_x)", "pkg_x"),
    ],
)
def test_import_failures_name_the_package(message: str, package: str) -> None:
    verdict = classify(_signal(message, exception_type=message.split(":")[0]))
    assert verdict.category is Category.DEPENDENCY and package in verdict.root_cause and package in verdict.suggested_action


class _Scripted:
    def __init__(self, name: str, answer: TierAnswer) -> None:
        self.name, self._answer, self.calls = name, answer, 0

    async def ask(self, signal: FailureSignal, *, timeout: float) -> TierAnswer:
        self.calls += 1
        return self._answer


async def test_escalated_is_false_when_the_escalation_tier_had_no_credentials() -> None:
    local = _Scripted("ollama", TierAnswer(answer=ModelAnswer(category="unknown", confidence=0.3, root_cause="r", suggested_action="a"),
                                           run=TierRun(tier="ollama", outcome="ok")))
    remote = _Scripted("openai", TierAnswer(answer=None, run=TierRun(tier="openai", outcome="no_credentials")))
    diagnosis = await run_cascade(_signal("something odd happened"), TroubleshootSettings(enabled=True),
                                  local=lambda: local, remote=lambda: remote)
    assert remote.calls == 1 and diagnosis.escalated is False
    assert [(t.tier, t.outcome) for t in diagnosis.tiers][-1] == ("openai", "no_credentials")


async def test_escalated_is_true_when_the_escalation_tier_answered() -> None:
    local = _Scripted("ollama", TierAnswer(answer=None, run=TierRun(tier="ollama", outcome="timeout")))
    remote = _Scripted("openai", TierAnswer(answer=ModelAnswer(category="tool_error", confidence=0.9, root_cause="r", suggested_action="a"),
                                            run=TierRun(tier="openai", outcome="ok")))
    diagnosis = await run_cascade(_signal("something odd happened"), TroubleshootSettings(enabled=True),
                                  local=lambda: local, remote=lambda: remote)
    assert diagnosis.escalated is True and diagnosis.category is Category.TOOL_ERROR
