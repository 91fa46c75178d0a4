"""`framework: adk`: a Google ADK agent run through a Runner, one user turn per step.

The entrypoint (a factory by default) gives an ADK agent or a Runner. For an agent the hub makes
an `InMemoryRunner` (in-memory session, artifact and memory services, app name = the agent's
name); either way the runner is kept per entrypoint (see `runtimes`), so a session lives on
between calls.

The payload is the new user message: `text` (or `message`, or a plain string payload) for a text
message, or `parts` for a list of `google.genai` Part objects as JSON. `user_id` and `session_id`
pick the session: `user_id` defaults to `agenthub` (stable, so a `session_id` alone continues a
session), `session_id` to a fresh one; an unknown `session_id` is created under that id, so a
caller may choose its own ids. `state` is applied to the session state with this turn
(`state_delta`). Nothing else is accepted, so a misspelled key is PAYLOAD_MISMATCH rather than a
silently empty message. `invoke_kwargs` go to `run_async` (e.g. `run_config`).

`data` is `{response, output?, session_id, user_id, events: {count, tool_calls, authors}}`:
`response` is the text of the final response, `output` the structured output when the agent has
an `output_key` (the value ADK stored in the session state) or an `output_schema` (the response
parsed as JSON). The event stream is summarised, not dumped; each tool call the agent makes is
reported as step progress as it happens. An exception, or a final event carrying an error code
(a model error), is AGENT_ERROR.

Imported only when an adk step runs (google-adk is the `adk` extra).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from contextlib import aclosing
from typing import Any

from google.adk.agents import BaseAgent
from google.adk.runners import InMemoryRunner, Runner
from google.genai import types
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from bridges.agent.config import AgentConfig
from bridges.agent.custom import agent_error
from bridges.agent.outcome import Outcome
from bridges.agent.outputs import jsonable
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall

DEFAULT_USER = "agenthub"


class AdkPayload(BaseModel):
    """The payload of an adk step: one user turn."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    message: str | None = None
    parts: list[dict[str, Any]] | None = None
    user_id: str | None = None
    session_id: str | None = None
    state: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_message(self) -> AdkPayload:
        given = [n for n in ("text", "message", "parts") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of text, message or parts (got {', '.join(given) or 'none'})")
        return self

    def content(self) -> types.Content:
        if self.parts is not None:
            return types.Content(role="user", parts=[types.Part.model_validate(p) for p in self.parts])
        return types.Content(role="user", parts=[types.Part(text=self.text if self.text is not None else self.message)])


class AdkFramework:
    name = "adk"

    def is_runtime(self, obj: Any) -> bool:
        return isinstance(obj, (BaseAgent, Runner))

    async def adapt(self, obj: Any, config: AgentConfig) -> Runner:
        if isinstance(obj, Runner):
            return obj
        if isinstance(obj, BaseAgent):
            return InMemoryRunner(agent=obj, app_name=obj.name)
        raise Failure.of(
            ErrorCode.INVALID_RUNTIME,
            f"framework adk needs an ADK agent or Runner, and {config.entrypoint} gave a {type(obj).__name__}",
        )

    async def invoke(self, runner: Runner, config: AgentConfig, call: StepCall) -> Outcome:
        payload = _payload(config.payload)
        user_id = payload.user_id or DEFAULT_USER
        session_id = payload.session_id or f"session-{uuid.uuid4().hex}"
        try:
            message = payload.content()
        except ValidationError as exc:
            raise Failure.of(ErrorCode.PAYLOAD_MISMATCH, f"payload.parts are not ADK parts: {exc}") from None
        tool_calls: Counter[str] = Counter()
        authors: list[str] = []
        count, final_text, output, error = 0, None, None, None
        output_key = getattr(runner.agent, "output_key", None)
        try:
            session = await runner.session_service.get_session(
                app_name=runner.app_name, user_id=user_id, session_id=session_id
            )
            if session is None:
                await runner.session_service.create_session(
                    app_name=runner.app_name, user_id=user_id, session_id=session_id
                )
            events = runner.run_async(
                user_id=user_id, session_id=session_id, new_message=message,
                state_delta=payload.state, **config.invoke_kwargs,
            )
            async with aclosing(events):
                async for event in events:
                    count += 1
                    if event.author and event.author not in authors:
                        authors.append(event.author)
                    for function_call in event.get_function_calls():
                        tool_calls[function_call.name or "?"] += 1
                        call.progress(
                            f"{event.author or 'agent'} calls tool {function_call.name}",
                            {"framework": "adk", "tool": function_call.name, "agent": event.author},
                        )
                    if output_key and output_key in (event.actions.state_delta or {}):
                        output = event.actions.state_delta[output_key]
                    if event.error_code:
                        error = f"{event.error_code}: {event.error_message or 'the model reported an error'}"
                    if event.is_final_response() and event.content and event.content.parts:
                        text = "".join(p.text for p in event.content.parts if p.text and not p.thought)
                        if text:
                            final_text, error = text, None
        except Failure:
            raise
        except Exception as exc:
            raise agent_error(exc) from None
        if error is not None and final_text is None:
            raise Failure.of(ErrorCode.AGENT_ERROR, f"the ADK agent ended with an error: {error}")
        data: dict[str, Any] = {
            "response": final_text,
            "session_id": session_id,
            "user_id": user_id,
            "events": {"count": count, "tool_calls": dict(tool_calls), "authors": authors},
        }
        if output is None and getattr(runner.agent, "output_schema", None) is not None and final_text:
            try:
                output = json.loads(final_text)
            except ValueError:
                output = None
        if output is not None:
            data["output"] = jsonable(output)
        return Outcome(data)


def _payload(value: Any) -> AdkPayload:
    if isinstance(value, str):
        value = {"text": value}
    try:
        return AdkPayload.model_validate(value if value is not None else {})
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors())
        raise Failure.of(
            ErrorCode.PAYLOAD_MISMATCH,
            f"an adk payload is a user turn {{text | message | parts, user_id?, session_id?, state?}}: {problems}",
        ) from None


def _problem(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "payload"
    if error["type"] == "extra_forbidden":
        return f"unknown key {where!r}"
    return f"{where}: {str(error['msg']).removeprefix('Value error, ')}"
