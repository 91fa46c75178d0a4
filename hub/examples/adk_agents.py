"""A Google ADK agent for `framework: adk`, offline: a scripted local model stands in for Gemini.

`ScriptedLlm` is a real `BaseLlm` subclass, so ADK runs it exactly like a hosted model: it builds
the request from the session history, calls the model, runs the tools the model asks for and
feeds their results back. The script:

- a user turn asking about "weather in <city>" -> a function call `get_weather(city=<city>)`;
- a function response in the request -> a sentence built from the tool's result;
- anything else -> an echo that says how many user turns the session has seen, which shows a
  continued session (the model sees the history).

`weather_agent()` is the factory the example playbook names (`hub.examples.adk_agents:weather_agent`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Any

from google.adk.agents import LlmAgent
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.genai import types

WEATHER = {"paris": (18, "cloudy"), "lisbon": (24, "sunny"), "oslo": (3, "snowing")}


def get_weather(city: str) -> dict[str, Any]:
    """Current weather for a city (a fixed table: the example must run offline)."""
    temperature, conditions = WEATHER.get(city.lower(), (15, "unknown"))
    return {"city": city, "temperature_c": temperature, "conditions": conditions}


class ScriptedLlm(BaseLlm):
    """A model that answers from the script in the module docstring."""

    model: str = "scripted-weather"

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        contents = llm_request.contents
        last = contents[-1] if contents else types.Content(role="user", parts=[types.Part(text="")])
        responses = [p.function_response for p in (last.parts or []) if p.function_response]
        if responses:
            result = responses[-1].response or {}
            text = f"It is {result.get('temperature_c')} C and {result.get('conditions')} in {result.get('city')}."
            yield _text(text)
            return
        said = " ".join(p.text for p in (last.parts or []) if p.text)
        match = re.search(r"weather in ([A-Za-z ]+)", said, re.IGNORECASE)
        if match:
            call = types.FunctionCall(name="get_weather", args={"city": match.group(1).strip().rstrip("?")})
            yield _response(types.Part(function_call=call))
            return
        user_turns = sum(1 for c in contents if c.role == "user" and any(p.text for p in (c.parts or [])))
        yield _text(f"You said: {said} (user turn {user_turns} of this session)")


def _text(text: str) -> LlmResponse:
    return _response(types.Part(text=text))


def _response(part: types.Part) -> LlmResponse:
    """A model turn with token counts (ADK's telemetry warns about responses without them)."""
    usage = types.GenerateContentResponseUsageMetadata(
        prompt_token_count=1, candidates_token_count=1, total_token_count=2
    )
    return LlmResponse(content=types.Content(role="model", parts=[part]), usage_metadata=usage)


def weather_agent(name: str = "weather_agent") -> LlmAgent:
    """The factory: an LlmAgent with the scripted model and the `get_weather` tool."""
    return LlmAgent(
        name=name,
        model=ScriptedLlm(),
        instruction="Answer weather questions with the get_weather tool; otherwise chat briefly.",
        tools=[get_weather],
    )
