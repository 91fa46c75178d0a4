"""The OpenAI-compatible provider: `openai.AsyncOpenAI` chat completions, structured output negotiated.

Any server speaking the OpenAI chat API works: OpenAI itself, llama.cpp's and llama-cpp-python's
servers, vLLM, LM Studio, Ollama's own `/v1`, Anthropic's OpenAI-compatible endpoint. They differ in
what structured output they take, so the provider asks with the strongest mode first
(`response_format: json_schema`, strict), and when the server refuses the parameter (llama-cpp-python:
HTTP 500 "Input should be 'text' or 'json_object'") asks again with the next: `json_object` with
the schema attached (llama.cpp's and llama-cpp-python's servers turn it into a grammar, so even a
270M model answers in the schema's shape), then bare `json_object` with the schema in the prompt
(a server that refuses the extra `schema` field), then plain text with the JSON extracted,
remembering per server and model what worked (`ModeMemory`). A reply that ignored the mode and came back as prose is read
leniently and the server is asked in text mode from then on. Every call carries `max_tokens`.

The base URL is the `base_url` argument, else `OPENAI_BASE_URL` (the client's own convention); the
key is the `api_key` argument or `OPENAI_API_KEY`. The client's own retries are off: the caller's
budget, not the SDK, decides how long to keep trying.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import openai

from bridges.llm.base import (
    LlmResult,
    ModeMemory,
    Outcome,
    OutputMode,
    parse_answer,
    refuses_format,
    result_timer,
    schema_instructions,
    short,
    strict_subset,
)

DEFAULT_MAX_TOKENS = 400


class OpenAIProvider:
    """One model on one OpenAI-compatible endpoint; the client is made on first use."""

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_retries: int = 0,
        temperature: float = 0.0,
        schema_name: str = "answer",
        max_tokens: int = DEFAULT_MAX_TOKENS,
        modes: ModeMemory | None = None,
        key_from_env: bool = True,
    ) -> None:
        self.model = model
        self._api_key = api_key or (os.environ.get("OPENAI_API_KEY") if key_from_env else None) or None
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self._max_retries = max_retries
        self._temperature = temperature
        self._schema_name = schema_name
        self._max_tokens = max_tokens
        self._modes = modes or ModeMemory()
        self._client: openai.AsyncOpenAI | None = None

    modes_offered = tuple(OutputMode)
    """Every mode, strongest first: OpenAI-compatible servers differ in each of them."""

    @property
    def mode_key(self) -> tuple[str, str, str]:
        return ("openai", self.base_url.rstrip("/"), self.model)

    def _openai(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key, base_url=self.base_url, max_retries=self._max_retries
            )
        return self._client

    def _request(self, mode: OutputMode, system: str, user: str, schema: dict[str, Any]) -> dict[str, Any]:
        prompt = system if mode is OutputMode.JSON_SCHEMA else schema_instructions(system, schema)
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": prompt}, {"role": "user", "content": user}],
            "temperature": self._temperature,
            "max_tokens": self._max_tokens,
            "stream": False,
        }
        if mode is OutputMode.JSON_SCHEMA:
            request["response_format"] = {"type": "json_schema", "json_schema": {
                "name": self._schema_name, "strict": True, "schema": strict_subset(schema)}}
        elif mode is OutputMode.JSON_OBJECT_SCHEMA:
            request["response_format"] = {"type": "json_object", "schema": schema}
        elif mode is OutputMode.JSON_OBJECT:
            request["response_format"] = {"type": "json_object"}
        return request

    async def complete(
        self, system: str, user: str, schema: dict[str, Any], *, timeout: float
    ) -> LlmResult:
        result = result_timer(self.model)

        if not self._api_key:
            return result(Outcome.NO_CREDENTIALS, "no API key (OPENAI_API_KEY or a keychain credential)")
        if timeout <= 0:
            return result(Outcome.TIMEOUT, "no time left in the budget")
        mode = self._modes.get(self.mode_key)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    try:
                        completion = await self._openai().chat.completions.create(
                            **self._request(mode, system, user, schema), timeout=timeout
                        )
                        break
                    except openai.APIStatusError as exc:
                        weaker = mode.weaker(self.modes_offered)
                        if weaker is None or not refuses_format(exc.status_code, str(exc)):
                            raise
                        self._modes.downgrade(self.mode_key, weaker)
                        mode = weaker
        except TimeoutError:
            return result(Outcome.TIMEOUT, f"no answer within {timeout:.2f}s")
        except openai.APITimeoutError as exc:
            return result(Outcome.TIMEOUT, short(exc))
        except openai.APIConnectionError as exc:
            return result(Outcome.UNREACHABLE, short(exc))
        except openai.APIStatusError as exc:
            return result(Outcome.HTTP_ERROR, f"HTTP {exc.status_code}: {short(exc, 240)}")
        except Exception as exc:  # a provider never raises to the cascade
            return result(Outcome.ERROR, short(exc))
        usage = completion.usage
        facts: dict[str, Any] = {
            "tokens_in": usage.prompt_tokens if usage else None,
            "tokens_out": usage.completion_tokens if usage else None,
            "mode": mode.value,
        }
        if not completion.choices:
            return result(Outcome.MALFORMED, "no choices in the completion", **facts)
        message = completion.choices[0].message
        if getattr(message, "refusal", None):
            return result(Outcome.REFUSED, str(message.refusal)[:300], **facts)
        answer, outcome, detail = parse_answer(message.content, schema, lenient=mode is OutputMode.TEXT)
        if outcome == Outcome.MALFORMED and mode is not OutputMode.TEXT:
            answer, outcome, detail = parse_answer(message.content, schema, lenient=True)
            if answer is not None or outcome == Outcome.OFF_SCHEMA:  # the server ignored the format: say it in the prompt
                self._modes.downgrade(self.mode_key, OutputMode.TEXT)
                detail = detail or f"the server ignored {mode.value}; JSON taken from prose"
        if outcome == Outcome.MALFORMED and completion.choices[0].finish_reason == "length":
            detail = f"{detail}; cut at max_tokens={self._max_tokens}"
        return result(outcome, detail, answer=answer, **facts)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
