"""`tool.kind: sample`: ask the calling MCP client's model for a completion (MCP sampling).

A playbook uses the caller's LLM with no API key of its own: `prompt` (one user message) or
`messages` (`{role: user|assistant, text}`), `system`, `max_tokens`, `temperature`,
`stop_sequences` and `model_preferences` (`hints`, `cost_priority`, `speed_priority`,
`intelligence_priority`: the client picks the model, these only guide it). The step answers
`{text, model, stop_reason, role}`. The client (and its user) may refuse: CALLER_REQUEST_FAILED. Without
an MCP caller (REST, CLI, a cluster worker) the step fails NO_MCP_CALLER.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.contract.caller import ModelPreferences, SampleMessage, SampleQuestion
from hub.contract.steps import StepCall
from hub.engine.kinds.asking import question_key, reachable_caller, unreachable


class SampleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field(default=None, description="One user message (or give `messages`).")
    messages: list[SampleMessage] | None = Field(default=None, description="The conversation: [{role, text}].")
    system: str | None = Field(default=None, description="The system prompt.")
    max_tokens: int = Field(default=1000, ge=1, description="The most tokens the model may answer with.")
    temperature: float | None = Field(default=None, ge=0, le=2)
    stop_sequences: list[str] | None = None
    model_preferences: ModelPreferences | None = None

    @model_validator(mode="after")
    def _one_prompt(self) -> SampleConfig:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of prompt or messages")
        if self.messages is not None and not self.messages:
            raise ValueError("messages is empty")
        return self


class SampleKind:
    name = "sample"
    config_model = SampleConfig
    raw_fields: frozenset[str] = frozenset()
    default_retry = None
    deadline_aware = False

    def client_capability(self, config: dict[str, Any]) -> str | None:
        return "sampling"

    async def run(self, call: StepCall) -> dict[str, Any]:
        config = call.config
        assert isinstance(config, SampleConfig)
        caller = reachable_caller(call, "sampling")
        if caller is None:
            raise unreachable(call, "sampling", "asks the caller's model")
        messages = config.messages if config.messages is not None else [SampleMessage(text=config.prompt or "")]
        answer = await caller.sample(SampleQuestion(
            key=question_key(call),
            messages=messages, max_tokens=config.max_tokens, system_prompt=config.system,
            temperature=config.temperature, stop_sequences=config.stop_sequences,
            model_preferences=config.model_preferences,
        ))
        return answer.model_dump()
