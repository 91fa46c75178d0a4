"""Entrypoints the agent tests name in their playbooks (`tests.agents.agent_entrypoints:...`).

Kept apart from the examples package so each test states its own edge: signatures that do or do
not fit a payload, agents that raise, hang or yield, factories that count their calls.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any


def add(a: int, b: int = 0) -> dict[str, Any]:
    """Sync: a mapping payload is spread onto (a, b); runs in a worker thread."""
    return {"sum": a + b, "thread": threading.current_thread().name}


async def shout(text: str) -> str:
    """Async, awaited on the loop."""
    await asyncio.sleep(0)
    return text.upper()


def countdown(start: int) -> Iterator[int]:
    """A sync generator: drained into a list."""
    yield from range(start, 0, -1)


async def letters(word: str) -> AsyncIterator[str]:
    """An async generator: drained into a list."""
    for letter in word:
        await asyncio.sleep(0)
        yield letter


def takes_payload(payload: Any, loud: bool = False) -> dict[str, Any]:
    """An input-like parameter: the whole payload arrives here when its keys do not fit."""
    return {"got": payload, "loud": loud}


def takes_state(state: dict[str, Any], /) -> dict[str, Any]:
    """A positional-only input-like parameter."""
    return {"keys": sorted(state)}


def one_param(city: str) -> str:
    """A single non-input-like parameter: only a non-mapping payload may fill it."""
    return f"weather in {city}"


def two_params(x: int, y: int) -> int:
    return x * y


def boom(reason: str = "kaput") -> None:
    raise ValueError(f"agent exploded: {reason}")


async def sleepy(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "awake"


def sleepy_sync(seconds: float) -> str:
    time.sleep(seconds)
    return "awake"


NOT_CALLABLE = {"just": "data"}


class Counter:
    """A stateful runtime built by its factory; `invoke` is found by the method rules."""

    builds = itertools.count(1)

    def __init__(self, start: int = 0, step: int = 1) -> None:
        self.value = start
        self.step = step
        self.build = next(Counter.builds)

    def invoke(self, input: dict[str, Any]) -> dict[str, Any]:
        self.value += self.step * int(input.get("times", 1))
        return {"value": self.value, "build": self.build}

    def reset(self) -> dict[str, Any]:
        self.value = 0
        return {"value": 0}


class AsyncAgent:
    """`ainvoke` wins over `invoke`, and async methods are awaited."""

    async def ainvoke(self, message: str) -> str:
        return f"async:{message}"

    def invoke(self, message: str) -> str:
        return f"sync:{message}"


class NoMethods:
    pass


def make_no_methods() -> NoMethods:
    return NoMethods()


async def async_factory(prefix: str) -> Any:
    await asyncio.sleep(0)

    def agent(text: str) -> str:
        return f"{prefix}{text}"

    return agent


def failing_factory() -> Any:
    raise RuntimeError("no credentials for the agent")


def returns_model() -> Any:
    """An output that is not plain JSON: a pydantic model, a set, a tuple."""
    from pydantic import BaseModel

    class Answer(BaseModel):
        text: str
        score: float

    return {"answer": Answer(text="hi", score=0.5), "tags": {"b", "a"}, "pair": (1, 2)}


ready_agent = AsyncAgent()
"""An agent object that already exists: callable mode (or factory mode, as it is no factory) uses it."""


def langchain_config_echo() -> Any:
    """A Runnable that answers with the input and config it was invoked with (langchain tests)."""
    from langchain_core.runnables import Runnable, RunnableConfig

    class ConfigEcho(Runnable[Any, Any]):
        def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
            config = config or {}
            return {"input": input, "kwargs": kwargs, "run_name": config.get("run_name"),
                    "tags": config.get("tags"), "metadata": config.get("metadata")}

    return ConfigEcho()


def langchain_failing_chain() -> Any:
    from langchain_core.runnables import RunnableLambda

    def explode(data: Any) -> Any:
        raise KeyError("missing_variable")

    return RunnableLambda(explode)


def langchain_message_model() -> Any:
    """A bare chat model: its answer is an AIMessage, which the hub turns into its content."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    return FakeListChatModel(responses=["plain answer"])


def langchain_structured() -> Any:
    """A chain ending in a pydantic model (a with_structured_output-like parser)."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.output_parsers import PydanticOutputParser
    from pydantic import BaseModel

    class Ticket(BaseModel):
        priority: str
        team: str

    model = FakeListChatModel(responses=['{"priority": "low", "team": "billing"}'])
    return model | PydanticOutputParser(pydantic_object=Ticket)


def _adk_model(reply: Any) -> Any:
    """A BaseLlm answering every request with `reply(request)` (an LlmResponse) or raising it."""
    from google.adk.models.base_llm import BaseLlm

    class OneShot(BaseLlm):
        model: str = "one-shot"

        async def generate_content_async(self, llm_request: Any, stream: bool = False) -> Any:
            answer = reply(llm_request)
            if isinstance(answer, Exception):
                raise answer
            yield answer

    return OneShot()


def adk_runner() -> Any:
    """A factory returning a Runner (not an agent): the hub uses it as it is."""
    from google.adk.runners import InMemoryRunner

    from hub.examples.adk_agents import weather_agent

    return InMemoryRunner(agent=weather_agent("runner_agent"), app_name="my_app")


def adk_structured_agent() -> Any:
    """An agent with an output schema and output key: `data.output` is the structured answer."""
    from google.adk.agents import LlmAgent
    from google.adk.models.llm_response import LlmResponse
    from google.genai import types
    from pydantic import BaseModel

    class Ticket(BaseModel):
        priority: str
        team: str

    def reply(request: Any) -> Any:
        text = '{"priority": "high", "team": "network"}'
        return LlmResponse(content=types.Content(role="model", parts=[types.Part(text=text)]))

    return LlmAgent(name="triage", model=_adk_model(reply), output_schema=Ticket, output_key="ticket")


def adk_error_agent() -> Any:
    from google.adk.agents import LlmAgent
    from google.adk.models.llm_response import LlmResponse

    return LlmAgent(name="broken", model=_adk_model(
        lambda request: LlmResponse(error_code="RESOURCE_EXHAUSTED", error_message="quota used up")))


def adk_raising_agent() -> Any:
    from google.adk.agents import LlmAgent

    return LlmAgent(name="raising", model=_adk_model(lambda request: ConnectionError("model host unreachable")))


def adk_parts_agent() -> Any:
    """Echoes how many parts the user turn had, to show `parts` payloads arrive as Parts."""
    from google.adk.agents import LlmAgent
    from google.adk.models.llm_response import LlmResponse
    from google.genai import types

    def reply(request: Any) -> Any:
        parts = request.contents[-1].parts or []
        text = f"{len(parts)} parts: " + " | ".join(p.text or "?" for p in parts)
        return LlmResponse(content=types.Content(role="model", parts=[types.Part(text=text)]))

    return LlmAgent(name="parts", model=_adk_model(reply))


def ask(query: str, top_k: int = 3) -> dict[str, Any]:
    """An input-like name typed `str`: a mapping payload is not forced into it."""
    return {"query": query, "top_k": top_k}


def respond(message: Any, history: list[Any] | None = None) -> dict[str, Any]:
    return {"message": message, "history": history}
