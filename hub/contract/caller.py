"""The caller seam: how a step asks the MCP client that started its run for something.

`kind: elicit` asks the client's user (MCP elicitation), `kind: sample` asks the client's model
(MCP sampling), `kind: roots` asks for the client's workspace roots (MCP roots). No kind knows the
protocol: they build an `ElicitQuestion`, a `SampleQuestion` or a `RootsQuestion` and hand it to
the run's `CallerChannel` (`RunContext.caller`), which the MCP
face provides per tools/call. The face decides how the question travels: a request pushed on the
connection (2025-11-25), or an input round of the call itself (2026-07-28, `InputRequiredResult`).

A run started without an MCP client (REST, CLI, a cluster worker that does not hold the caller's
connection) has no channel (`RunContext.caller is None`); the kinds then fail with
`NO_MCP_CALLER`. A channel fails its calls with `Failure`s of the codes in `hub.contract.errors`.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

Capability = Literal["elicitation", "sampling", "roots"]
"""A client capability a step kind may need (the MCP `ClientCapabilities` field of that name)."""


class ElicitQuestion(BaseModel):
    """What an `elicit` step asks the user: a message and a flat form (MCP's restricted schema)."""

    model_config = ConfigDict(frozen=True)

    key: str
    """Names the question within its run (the step, and the loop item): the id of an input round."""
    message: str
    requested_schema: dict[str, Any]


class ElicitAnswer(BaseModel):
    """The user's answer: accept (with the form's content), decline, or cancel (dismissed)."""

    action: Literal["accept", "decline", "cancel"]
    content: dict[str, Any] | None = None


class SampleMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"] = "user"
    text: str


class ModelPreferences(BaseModel):
    """MCP's model preferences: name hints (substrings, first match wins) and priorities 0..1."""

    model_config = ConfigDict(extra="forbid")

    hints: list[str] = Field(default_factory=list, description="Model name hints, e.g. [claude-3-5-sonnet, gpt-4o].")
    cost_priority: float | None = Field(default=None, ge=0, le=1)
    speed_priority: float | None = Field(default=None, ge=0, le=1)
    intelligence_priority: float | None = Field(default=None, ge=0, le=1)


class SampleQuestion(BaseModel):
    """What a `sample` step asks the client's model."""

    model_config = ConfigDict(frozen=True)

    key: str
    messages: list[SampleMessage]
    max_tokens: int
    system_prompt: str | None = None
    temperature: float | None = None
    stop_sequences: list[str] | None = None
    model_preferences: ModelPreferences | None = None


class SampleAnswer(BaseModel):
    """The client's completion: its text, and which model made it and why it stopped."""

    text: str
    role: str = "assistant"
    model: str | None = None
    stop_reason: str | None = None


class RootsQuestion(BaseModel):
    """A `roots` step's question: which folders (or files) the client works in."""

    model_config = ConfigDict(frozen=True)

    key: str


class Root(BaseModel):
    """One of the client's roots: a `file://` URI and an optional display name."""

    uri: str
    name: str | None = None


class CallerChannel(Protocol):
    """The MCP client of one tools/call, as the run's steps see it."""

    @property
    def capabilities(self) -> frozenset[str]:
        """The client capabilities the caller declared that the channel can serve."""
        ...

    async def elicit(self, question: ElicitQuestion) -> ElicitAnswer: ...

    async def sample(self, question: SampleQuestion) -> SampleAnswer: ...

    async def roots(self, question: RootsQuestion) -> list[Root]: ...
