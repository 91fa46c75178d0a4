"""The Ollama provider: `ollama.AsyncClient.chat` with the answer's JSON Schema as `format`.

Ollama turns a JSON Schema `format` into a grammar, so even a 2B model answers with an object of
the right shape; `parse_answer` still checks it, because a server (or a proxy pretending to be one)
may ignore the grammar. An older server that refuses a schema `format` is asked with
`format: "json"` and the schema in the prompt, then with no format (`ModeMemory` remembers).
Every call caps the output (`num_predict`). The host follows the client's own convention: the
`host` argument, else `OLLAMA_HOST`, else http://127.0.0.1:11434.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import ollama

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
)

DEFAULT_MAX_TOKENS = 400


class OllamaProvider:
    """One model on one Ollama server; the HTTP client lives as long as this object."""

    name = "ollama"

    def __init__(
        self,
        model: str,
        *,
        host: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        modes: ModeMemory | None = None,
    ) -> None:
        self.model = model
        self.base_url = host or os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
        self._options = {"temperature": temperature, "num_predict": max_tokens}
        self._modes = modes or ModeMemory()
        # the client resolves `host or OLLAMA_HOST` itself; creating it does no I/O
        self._client = ollama.AsyncClient(host=host)

    modes_offered = (OutputMode.JSON_SCHEMA, OutputMode.JSON_OBJECT, OutputMode.TEXT)
    """Ollama's `format` takes a schema, "json" or nothing; it has no schema-carrying JSON mode."""

    @property
    def mode_key(self) -> tuple[str, str, str]:
        return ("ollama", self.base_url.rstrip("/"), self.model)

    async def _chat(self, mode: OutputMode, system: str, user: str, schema: dict[str, Any]) -> Any:
        prompt = system if mode is OutputMode.JSON_SCHEMA else schema_instructions(system, schema)
        fmt: Any = schema if mode is OutputMode.JSON_SCHEMA else ("json" if mode is OutputMode.JSON_OBJECT else None)
        return await self._client.chat(
            model=self.model,
            messages=[{"role": "system", "content": prompt}, {"role": "user", "content": user}],
            format=fmt,
            options=self._options,
            stream=False,
        )

    async def complete(
        self, system: str, user: str, schema: dict[str, Any], *, timeout: float
    ) -> LlmResult:
        result = result_timer(self.model)

        if timeout <= 0:
            return result(Outcome.TIMEOUT, "no time left in the budget")
        mode = self._modes.get(self.mode_key)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    try:
                        response = await self._chat(mode, system, user, schema)
                        break
                    except ollama.ResponseError as exc:
                        weaker = mode.weaker(self.modes_offered)
                        if weaker is None or not refuses_format(exc.status_code, str(exc.error)):
                            raise
                        self._modes.downgrade(self.mode_key, weaker)
                        mode = weaker
        except TimeoutError:
            return result(Outcome.TIMEOUT, f"no answer within {timeout:.2f}s")
        except ConnectionError as exc:  # the client's own wording for "could not connect"
            return result(Outcome.UNREACHABLE, short(exc))
        except ollama.ResponseError as exc:
            return result(Outcome.HTTP_ERROR, f"HTTP {exc.status_code}: {exc.error}"[:300])
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return result(Outcome.UNREACHABLE, short(exc))
        except httpx.TimeoutException as exc:
            return result(Outcome.TIMEOUT, short(exc))
        except Exception as exc:  # a provider never raises to the cascade
            return result(Outcome.ERROR, short(exc))
        facts = {"tokens_in": response.prompt_eval_count, "tokens_out": response.eval_count, "mode": mode.value}
        content = response.message.content
        answer, outcome, detail = parse_answer(content, schema, lenient=mode is OutputMode.TEXT)
        if outcome == Outcome.MALFORMED and mode is not OutputMode.TEXT:
            answer, outcome, detail = parse_answer(content, schema, lenient=True)
            if answer is not None or outcome == Outcome.OFF_SCHEMA:
                self._modes.downgrade(self.mode_key, OutputMode.TEXT)
                detail = detail or f"the server ignored {mode.value}; JSON taken from prose"
        return result(outcome, detail, answer=answer, **facts)

    async def aclose(self) -> None:
        await self._client.close()
