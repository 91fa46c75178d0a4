"""The cascade's acceptance rule: on the bundled corpus, with any set of tiers, calibrated or not,
its accuracy is never below the rule tier's alone — including a scripted model that is confidently
wrong 60 % of the time, on loopback servers speaking the Ollama and OpenAI APIs.

Also: `calibrate` measures such a model for what it is (its profile maps its confident answers
to about the accuracy it had), and the calibrated cascade is at least as good as the uncalibrated.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest
from llm_servers import LlmServer, RememberingProviders, scripted_model

from troubleshoot.calibration import Profiles
from troubleshoot.categories import Category
from troubleshoot.eval import calibrate, evaluate, load_corpus
from troubleshoot.settings import TroubleshootSettings

# (accuracy, confidence when right, confidence when wrong)
MODELS = {
    "confidently_wrong": (0.4, 0.7, 0.95),  # wrong 60 % of the time, and surest when wrong
    "good": (0.9, 0.9, 0.6),
}
TIER_SETS = [("rules", "ollama"), ("rules", "openai"), ("rules", "ollama", "openai")]


def _model(labels: dict[str, str], name: str, salt: str):  # type: ignore[no-untyped-def]
    accuracy, right, wrong = MODELS[name]
    return scripted_model(labels, accuracy=accuracy, confidence=right, wrong_confidence=wrong, salt=salt + name)


@pytest.fixture(scope="module")
def cases():  # type: ignore[no-untyped-def]
    return load_corpus()


def _settings(ollama: LlmServer, openai: LlmServer, calibration: Path) -> TroubleshootSettings:
    return TroubleshootSettings(enabled=True, local_base_url=ollama.url, escalation_base_url=openai.base_url,
                                calibration_dir=str(calibration))


async def test_the_cascade_is_never_below_the_rules(cases, ollama_server, openai_server, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-acceptance-000000000000")
    labels = {c.signal.execution_id: c.category.value for c in cases}
    seen: list[tuple[str, str, tuple[str, ...], bool, float, float]] = []
    for local_name, remote_name in product(MODELS, MODELS):
        ollama_server.responder = _model(labels, local_name, "local")
        openai_server.responder = _model(labels, remote_name, "remote")
        folder = tmp_path / f"{local_name}-{remote_name}"
        settings = _settings(ollama_server, openai_server, folder)
        remembering = RememberingProviders()
        written = await calibrate(cases, settings, concurrency=8, corpus="bundled", providers=remembering)
        assert [p is not None for p, _, _ in written] == [True, True]
        for tiers, calibrated in product(TIER_SETS, (False, True)):
            report = await evaluate(cases, settings, tiers=tiers, calibrated=calibrated, concurrency=8, providers=remembering)
            rules = report.tiers["rules"].accuracy
            seen.append((local_name, remote_name, tiers, calibrated, report.cascade.accuracy, rules))
            assert report.cascade.accuracy >= rules, seen[-1]
            assert report.cascade.rules_accuracy == rules
    wrong = [s for s in seen if s[0] == "confidently_wrong" and s[2] == ("rules", "ollama")]
    assert wrong and all(acc >= rules for *_, acc, rules in wrong)


async def test_calibrate_measures_a_confidently_wrong_model(cases, ollama_server, openai_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    labels = {c.signal.execution_id: c.category.value for c in cases}
    ollama_server.responder = _model(labels, "confidently_wrong", "cw")
    settings = _settings(ollama_server, openai_server, tmp_path / "cal").model_copy(update={"escalate_to": "none"})
    written = await calibrate(cases, settings, tiers=["rules", "ollama"], concurrency=8, corpus="bundled")
    (profile, path, line), = written
    assert profile is not None and path is not None and path.is_file() and "accuracy" in line
    assert profile.cases == len(cases) and 0.3 <= profile.accuracy <= 0.5
    loaded = Profiles.load(tmp_path / "cal").get(profile.judge)
    assert loaded is not None
    # its 0.95 answers are its wrong ones: the isotonic map pools them with its 0.7 ones (one step
    # near its real accuracy), and no calibrated answer of it reaches the threshold or a rule's 0.72
    assert len(loaded.steps) == 1 and abs(loaded.steps[0].accuracy - profile.accuracy) < 0.05
    assert all(loaded.calibrate(0.95, c) < 0.7 for c in Category)
    assert set(profile.per_category) == {c.category.value for c in cases}
    uncalibrated = await evaluate(cases, settings, tiers=["rules", "ollama"], calibrated=False, concurrency=8)
    calibrated_report = await evaluate(cases, settings, tiers=["rules", "ollama"], concurrency=8)
    assert calibrated_report.tiers["ollama"].calibrated is True and uncalibrated.tiers["ollama"].calibrated is False
    assert calibrated_report.tiers["ollama"].calibrated_ece < calibrated_report.tiers["ollama"].ece
    assert calibrated_report.cascade.accuracy >= uncalibrated.cascade.accuracy
