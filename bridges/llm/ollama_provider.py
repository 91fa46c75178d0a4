"""The Ollama provider: `ollama.AsyncClient.chat` with the answer's JSON Schema as `format`.

Ollama turns a JSON Schema `format` into a grammar, so even a 2B model answers with an object of
the right shape; `parse_answer` still checks it, because a server (or a proxy pretending to be one)
may ignore the grammar. The host follows the client's own convention: the `host` argument, else
`OLLAMA_HOST`, else http://127.0.0.1:11434.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import ollama

from bridges.llm.base import LlmResult, Outcome, parse_answer, result_timer, short


class OllamaProvider:
    """One model on one Ollama server; the HTTP client lives as long as this object."""

    name = "ollama"

    def __init__(self, model: str, *, host: str | None = None, temperature: float = 0.0) -> None:
        self.model = model
        self._options = {"temperature": temperature}
        # the client resolves `host or OLLAMA_HOST` itself; creating it does no I/O
        self._client = ollama.AsyncClient(host=host)

    async def complete(
        self, system: str, user: str, schema: dict[str, Any], *, timeout: float
    ) -> LlmResult:
        result = result_timer(self.model)

        if timeout <= 0:
            return result(Outcome.TIMEOUT, "no time left in the budget")
        try:
            async with asyncio.timeout(timeout):
                response = await self._client.chat(
                    model=self.model,
                    messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                    format=schema,
                    options=self._options,
                    stream=False,
                )
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
        tokens = {"tokens_in": response.prompt_eval_count, "tokens_out": response.eval_count}
        answer, outcome, detail = parse_answer(response.message.content, schema)
        return result(outcome, detail, answer=answer, **tokens)

    async def aclose(self) -> None:
        await self._client.close()
