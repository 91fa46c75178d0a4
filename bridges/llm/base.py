"""The LLM provider contract: one structured-output chat call that never raises.

Why a contract of its own: the troubleshoot cascade must treat every model failure the same way
(no answer, recorded with its outcome) whatever the client library raised, so each provider turns
its library's errors into an `outcome` string here and the caller never needs a try/except.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol

import jsonschema
from pydantic import BaseModel, Field


class Outcome:
    """The closed set of `LlmResult.outcome` values (plain strings so they serialise as is)."""

    OK = "ok"
    MALFORMED = "malformed"
    """The reply was not one JSON object."""
    OFF_SCHEMA = "off_schema"
    """A JSON object that does not fit the requested schema."""
    UNREACHABLE = "unreachable"
    """Connection refused, DNS failure: the server is not there."""
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"
    """The server answered with an error status (detail names it)."""
    REFUSED = "refused"
    """The model declined to answer (an OpenAI refusal)."""
    NO_CREDENTIALS = "no_credentials"
    ERROR = "error"
    """Anything else the client raised (detail names it)."""


class LlmResult(BaseModel):
    """What one call gave: the parsed answer or None, and what it cost."""

    answer: dict[str, Any] | None = None
    outcome: str = Outcome.OK
    latency: float = Field(default=0.0, description="Seconds, wall clock around the whole call.")
    tokens_in: int | None = None
    tokens_out: int | None = None
    model: str | None = None
    detail: str | None = Field(default=None, description="Why there is no answer (short, for humans).")

    @property
    def ok(self) -> bool:
        return self.answer is not None


def result_timer(model: str) -> Callable[..., LlmResult]:
    """Started now: `result(outcome, detail=None, **facts)` builds an `LlmResult` for `model`
    with the latency measured from this call."""
    started = time.monotonic()

    def result(outcome: str, detail: str | None = None, **facts: Any) -> LlmResult:
        return LlmResult(
            outcome=outcome, detail=detail, model=model, latency=round(time.monotonic() - started, 4), **facts
        )

    return result


class LlmProvider(Protocol):
    """A chat model that answers with one JSON object fitting `schema`."""

    name: str
    model: str

    async def complete(
        self, system: str, user: str, schema: dict[str, Any], *, timeout: float
    ) -> LlmResult:
        """Ask once; never raises (every failure is an outcome), returns within `timeout` (+ a
        little for cancellation to unwind)."""
        ...

    async def aclose(self) -> None: ...


def parse_answer(text: str | None, schema: dict[str, Any]) -> tuple[dict[str, Any] | None, str, str | None]:
    """(answer, outcome, detail) for a model's raw text: one JSON object that fits the schema.

    No fence-stripping or brace-hunting: both providers constrain the output to the schema, so
    anything else is a broken answer and must count as none (NoETL's lenient parse let half
    answers through as "diagnoses")."""
    if not text or not text.strip():
        return None, Outcome.MALFORMED, "empty reply"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, Outcome.MALFORMED, f"not JSON: {exc.msg} at {exc.pos}"
    if not isinstance(value, dict):
        return None, Outcome.MALFORMED, f"a JSON {type(value).__name__}, not an object"
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
        return None, Outcome.OFF_SCHEMA, f"{where}: {errors[0].message}"[:300]
    return value, Outcome.OK, None


def short(exc: BaseException, limit: int = 300) -> str:
    """`Type: message`, bounded: enough to tell failures apart in a tier record."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
