"""The LLM provider contract: one structured-output chat call that never raises.

Why a contract of its own: the troubleshoot cascade must treat every model failure the same way
(no answer, recorded with its outcome) whatever the client library raised, so each provider turns
its library's errors into an `outcome` string here and the caller never needs a try/except.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

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
    mode: str | None = Field(default=None, description="The structured-output mode the answer was asked in.")
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


class OutputMode(str, Enum):
    """How a server is asked for structured output, strongest first. A server that refuses one
    mode is asked with the next, and the provider remembers what worked (`ModeMemory`)."""

    JSON_SCHEMA = "json_schema"
    """The schema itself constrains decoding (OpenAI `response_format: json_schema`, Ollama `format: {schema}`)."""
    JSON_OBJECT_SCHEMA = "json_object_schema"
    """JSON mode with the schema attached (`response_format: {"type": "json_object", "schema": ...}`):
    llama.cpp's and llama-cpp-python's servers compile that schema into a grammar, so the schema
    still constrains decoding where `json_schema` is refused; it also rides in the prompt."""
    JSON_OBJECT = "json_object"
    """Any JSON object is enforced; the schema rides in the prompt (`json_object`, Ollama `format: json`)."""
    TEXT = "text"
    """Nothing enforced; the schema rides in the prompt and the JSON is extracted from the reply."""

    def weaker(self, ladder: tuple[OutputMode, ...] | None = None) -> OutputMode | None:
        """The next mode down `ladder` (a provider's own modes, strongest first; all by default)."""
        order = ladder or tuple(OutputMode)
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


class ModeMemory:
    """What each server accepted, keyed by (provider, base URL, model): so the negotiation (a
    refused request costs a round trip) happens once per server, not once per diagnosis. One
    lives as long as its owner (the hub's provider factory); nothing is kept at module level."""

    def __init__(self) -> None:
        self._modes: dict[tuple[str, str, str], OutputMode] = {}

    def get(self, key: tuple[str, str, str]) -> OutputMode:
        return self._modes.get(key, OutputMode.JSON_SCHEMA)

    def downgrade(self, key: tuple[str, str, str], to: OutputMode) -> None:
        current = self.get(key)
        if list(OutputMode).index(to) > list(OutputMode).index(current):
            self._modes[key] = to

    def snapshot(self) -> dict[str, str]:
        return {" ".join(k): m.value for k, m in self._modes.items()}


def schema_instructions(system: str, schema: dict[str, Any]) -> str:
    """The system prompt with the schema spelled out, for servers that do not take it as a parameter."""
    return (system + "\n\nAnswer with only one JSON object (no prose, no code fence) that fits this JSON Schema:\n"
            + json.dumps(schema, ensure_ascii=False))


_UNSTRICT_KEYWORDS = frozenset({"minLength", "maxLength", "minimum", "maximum"})


def strict_subset(schema: Any) -> Any:
    """The schema without the bounds OpenAI's strict `json_schema` mode refuses (string lengths,
    numeric ranges); the answer is still checked against the rest afterwards."""
    return without_keywords(schema, _UNSTRICT_KEYWORDS)


def without_keywords(schema: Any, keywords: frozenset[str]) -> Any:
    """A copy of `schema` with these keywords removed at every level (property names stay)."""
    if isinstance(schema, list):
        return [without_keywords(v, keywords) for v in schema]
    if not isinstance(schema, dict):
        return schema
    kept: dict[str, Any] = {}
    for key, value in schema.items():
        if key in keywords:
            continue
        if key in ("properties", "$defs") and isinstance(value, dict):  # names, not keywords
            kept[key] = {name: without_keywords(sub, keywords) for name, sub in value.items()}
        else:
            kept[key] = without_keywords(value, keywords)
    return kept


_FORMAT_REFUSAL = re.compile(r"(?i)response_format|json_schema|json_object|'text'|\bschema\b|grammar|\bformat\b")


def refuses_format(status: int | None, message: str) -> bool:
    """Whether an error reply is a server refusing the structured-output parameter (llama.cpp's
    server: HTTP 500 "Input should be 'text' or 'json_object'"), not a failure of the model."""
    return status in (400, 404, 415, 422, 500, 501) and bool(_FORMAT_REFUSAL.search(message))


def extract_json(text: str) -> dict[str, Any] | None:
    """The first JSON object inside prose or a code fence (a model that ignored the format)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def parse_answer(
    text: str | None, schema: dict[str, Any], *, lenient: bool = False
) -> tuple[dict[str, Any] | None, str, str | None]:
    """(answer, outcome, detail) for a model's raw text: one JSON object that fits the schema.

    Strict unless `lenient`: a reply under a schema-constrained mode must be the object itself.
    Lenient (a server that took no format, or ignored it) also takes the first object found in
    prose; either way the object must fit the schema, so a half answer never passes as one."""
    if not text or not text.strip():
        return None, Outcome.MALFORMED, "empty reply"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        value = extract_json(text) if lenient else None
        if value is None:
            return None, Outcome.MALFORMED, f"not JSON: {exc.msg} at {exc.pos}"
    if not isinstance(value, dict):
        return None, Outcome.MALFORMED, f"a JSON {type(value).__name__}, not an object"
    # a string's maxLength guides generation (a grammar bounds it); an answer that runs longer is
    # still an answer, shortened by the caller, not a reason to throw the diagnosis away
    checked = without_keywords(schema, frozenset({"maxLength"}))
    import jsonschema  # here, not where the providers load (a hub start-up needs no validator)

    errors = sorted(jsonschema.Draft202012Validator(checked).iter_errors(value), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
        return None, Outcome.OFF_SCHEMA, f"{where}: {errors[0].message}"[:300]
    return value, Outcome.OK, None


def short(exc: BaseException, limit: int = 300) -> str:
    """`Type: message`, bounded: enough to tell failures apart in a tier record."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."
