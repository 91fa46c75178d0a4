"""Measured trust: a calibration profile per provider+model, and the map it gives from a model's
stated confidence to the accuracy it really had.

Why: a small model's self-reported confidence says little (Gemma 3 270M said only 0 or 1, and was
right about half the time), so the cascade must not pool it as if it were a probability. A
profile is made by `agenthub troubleshoot calibrate`: the labelled corpus is put to the model, and
its answers give (stated confidence, right?) pairs. From them:
- `per_category`: accuracy by true category (what the operator reads);
- `precision`: by the category the model *said*, how often it was right (what the cascade needs:
  "when it says auth, is it auth?");
- `steps`: an isotonic (pool-adjacent-violators) map from stated confidence to observed accuracy,
  monotone, each step with its count.
- `category_steps`: the same map per said category.
A calibrated confidence is the said category's map where it has answers, shrunk toward the global
map by `SHRINK` pseudo-answers ((n_c * cat + SHRINK * global) / (n_c + SHRINK)); each step's
accuracy is Laplace-smoothed ((right + 1) / (n + 2)), so a handful of lucky answers never buys
certainty. A model with no profile gets `UNCALIBRATED_TRUST` times its own figure: it can add to
an answer but cannot overturn a rule on its own say.

Profiles live as JSON files in a directory (the `calibration_dir` knob, default
`.agenthub/calibration`), one per judge, named from provider, base URL and model.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from troubleshoot.categories import Category

UNCALIBRATED_TRUST = 0.5
SHRINK = 8
DEFAULT_DIR = Path(".agenthub") / "calibration"


class Step(BaseModel):
    """One isotonic step: stated confidences from `low` up map to `accuracy` (over `n` answers)."""

    low: float
    high: float
    n: int
    right: int

    @property
    def accuracy(self) -> float:
        return (self.right + 1) / (self.n + 2)


class Tally(BaseModel):
    n: int = 0
    right: int = 0

    @property
    def smoothed(self) -> float:
        return (self.right + 1) / (self.n + 2)


class CalibrationProfile(BaseModel):
    """What one model on one server was measured to be worth, on one corpus."""

    provider: str
    base_url: str
    model: str
    created_at: str
    corpus: str = Field(description="What it was measured on (paths).")
    cases: int
    answered: int
    accuracy: float
    per_category: dict[str, float] = Field(default_factory=dict, description="Accuracy by true category.")
    precision: dict[str, Tally] = Field(default_factory=dict, description="By the category the model said.")
    steps: list[Step] = Field(default_factory=list)
    category_steps: dict[str, list[Step]] = Field(default_factory=dict)

    @property
    def judge(self) -> tuple[str, str, str]:
        return (self.provider, self.base_url.rstrip("/"), self.model)

    def calibrate(self, stated: float, category: Category) -> float:
        """Observed accuracy for an answer of `category` at `stated` confidence."""
        if not self.steps:
            return 0.0
        overall = _lookup(self.steps, stated)
        said = self.category_steps.get(category.value)
        n = self.precision[category.value].n if said and category.value in self.precision else 0
        if not said or n == 0:
            return round(overall * (SHRINK / (SHRINK + 2)), 4)  # never seen saying it: a little less
        return round((n * _lookup(said, stated) + SHRINK * overall) / (n + SHRINK), 4)


def _lookup(steps: Sequence[Step], stated: float) -> float:
    step = steps[0]
    for candidate in steps:
        if candidate.low <= stated:
            step = candidate
    return step.accuracy


def isotonic_steps(pairs: Sequence[tuple[float, bool]]) -> list[Step]:
    """Pool-adjacent-violators over (confidence, right) sorted by confidence: the monotone step map."""
    blocks: list[Step] = []
    for confidence, right in sorted(pairs, key=lambda p: p[0]):
        blocks.append(Step(low=confidence, high=confidence, n=1, right=int(right)))
        while len(blocks) > 1 and blocks[-2].right / blocks[-2].n >= blocks[-1].right / blocks[-1].n:
            last = blocks.pop()
            prev = blocks.pop()
            blocks.append(Step(low=prev.low, high=last.high, n=prev.n + last.n, right=prev.right + last.right))
    return blocks


def build_profile(
    judge: tuple[str, str, str],
    truths: Sequence[Category],
    answers: Sequence[tuple[Category, float] | None],
    *,
    corpus: str,
) -> CalibrationProfile:
    """A profile from each case's true category and the model's answer (None = no valid answer)."""
    provider, base_url, model = judge
    pairs: list[tuple[float, bool]] = []
    by_said: dict[str, list[tuple[float, bool]]] = {}
    precision: dict[str, Tally] = {}
    seen: dict[str, list[bool]] = {}
    for truth, answer in zip(truths, answers, strict=True):
        right = answer is not None and answer[0] is truth
        seen.setdefault(truth.value, []).append(right)
        if answer is None:
            continue
        pairs.append((answer[1], right))
        by_said.setdefault(answer[0].value, []).append((answer[1], right))
        tally = precision.setdefault(answer[0].value, Tally())
        tally.n += 1
        tally.right += int(right)
    return CalibrationProfile(
        provider=provider, base_url=base_url, model=model, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        corpus=corpus, cases=len(truths), answered=len(pairs),
        accuracy=round(sum(sum(v) for v in seen.values()) / max(len(truths), 1), 4),
        per_category={k: round(sum(v) / len(v), 4) for k, v in sorted(seen.items())},
        precision=dict(sorted(precision.items())), steps=isotonic_steps(pairs),
        category_steps={k: isotonic_steps(v) for k, v in sorted(by_said.items())},
    )


def profile_filename(judge: tuple[str, str, str]) -> str:
    """Readable and unique: provider, model, and a short hash of the whole judge."""
    provider, _, model = judge
    digest = hashlib.sha256("\n".join(judge).encode()).hexdigest()[:10]
    return f"{provider}--{re.sub(r'[^A-Za-z0-9._-]+', '_', model)}--{digest}.json"


class Profiles:
    """The profiles of one directory, looked up by judge."""

    def __init__(self, profiles: Iterable[CalibrationProfile] = ()) -> None:
        self._by_judge = {p.judge: p for p in profiles}

    @classmethod
    def load(cls, directory: Path | str | None) -> Profiles:
        folder = Path(directory) if directory else DEFAULT_DIR
        if not folder.is_dir():
            return cls()
        found = []
        for path in sorted(folder.glob("*.json")):
            try:
                found.append(CalibrationProfile.model_validate_json(path.read_text(encoding="utf-8")))
            except ValueError:
                continue  # not a profile (or a broken one): that model is simply uncalibrated
        return cls(found)

    def get(self, judge: tuple[str, str, str] | None) -> CalibrationProfile | None:
        return self._by_judge.get(judge) if judge else None

    def trust(self, judge: tuple[str, str, str] | None, stated: float, category: Category) -> tuple[float, bool]:
        """(calibrated confidence, whether a profile gave it)."""
        profile = self.get(judge)
        if profile is None:
            return round(UNCALIBRATED_TRUST * stated, 4), False
        return profile.calibrate(stated, category), True


def write_profile(profile: CalibrationProfile, directory: Path | str | None) -> Path:
    folder = Path(directory) if directory else DEFAULT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / profile_filename(profile.judge)
    path.write_text(json.dumps(profile.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
