"""The OpenAI provider: `openai.AsyncOpenAI` chat completions with strict structured output.

`response_format={"type": "json_schema", "json_schema": {..., "strict": True}}` makes the API
answer with an object of exactly the schema (the schema must then list every property as required
and forbid extras). The base URL follows the client's convention (`base_url` argument, else
`OPENAI_BASE_URL`), so any OpenAI-compatible server works; the key is the `api_key` argument
(the troubleshoot agent passes a keychain value there) or `OPENAI_API_KEY`. The client's own
retries are off by default: the caller's budget, not the SDK, decides how long to keep trying.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import openai

from bridges.llm.base import LlmResult, Outcome, parse_answer, result_timer, short


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
    ) -> None:
        self.model = model
        self._api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        self._base_url = base_url
        self._max_retries = max_retries
        self._temperature = temperature
        self._schema_name = schema_name
        self._client: openai.AsyncOpenAI | None = None

    def _openai(self) -> openai.AsyncOpenAI:
        if self._client is None:
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key, base_url=self._base_url, max_retries=self._max_retries
            )
        return self._client

    async def complete(
        self, system: str, user: str, schema: dict[str, Any], *, timeout: float
    ) -> LlmResult:
        result = result_timer(self.model)

        if not self._api_key:
            return result(Outcome.NO_CREDENTIALS, "no API key (OPENAI_API_KEY or a keychain credential)")
        if timeout <= 0:
            return result(Outcome.TIMEOUT, "no time left in the budget")
        try:
            async with asyncio.timeout(timeout):
                completion = await self._openai().chat.completions.create(
                    model=self.model,
                    messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                    response_format={
                        "type": "json_schema",
                        "json_schema": {"name": self._schema_name, "strict": True, "schema": schema},
                    },
                    temperature=self._temperature,
                    stream=False,
                    timeout=timeout,
                )
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
        tokens = {
            "tokens_in": usage.prompt_tokens if usage else None,
            "tokens_out": usage.completion_tokens if usage else None,
        }
        if not completion.choices:
            return result(Outcome.MALFORMED, "no choices in the completion", **tokens)
        message = completion.choices[0].message
        if getattr(message, "refusal", None):
            return result(Outcome.REFUSED, str(message.refusal)[:300], **tokens)
        answer, outcome, detail = parse_answer(message.content, schema)
        return result(outcome, detail, answer=answer, **tokens)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
