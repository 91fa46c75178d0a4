"""The MCP caller of a tools/call as the run's `CallerChannel` (`hub.contract.caller`), 2025 era.

Which client capabilities a call may use comes from what the client declared (its `initialize`
on the 2025 leg, the request's `_meta` on the 2026 leg). On a connection that can carry server
requests (stdio, stateful HTTP) a question is pushed as `elicitation/create` or
`sampling/createMessage` tied to the tools/call (`related_request_id`), so it travels on that
call's own stream. 2026-era calls ask through input rounds instead (`hub.mcp.input_rounds`);
both share the translations below between the contract's questions and the SDK's wire types.
"""

from __future__ import annotations

import warnings
from collections.abc import Awaitable
from typing import Any

from mcp import types
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError, NoBackChannelError
from mcp.shared.message import ServerMessageMetadata
from pydantic import ValidationError

from hub.contract.caller import ElicitAnswer, ElicitQuestion, Root, RootsQuestion, SampleAnswer, SampleQuestion
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode

CAPABILITY_KINDS = ("elicitation", "sampling", "roots")


def declared_capabilities(ctx: ServerRequestContext[Any, Any]) -> frozenset[str]:
    """The capabilities among `CAPABILITY_KINDS` the client declared for this request."""
    declared = ctx.session.client_capabilities
    if declared is None:
        return frozenset()
    return frozenset(name for name in CAPABILITY_KINDS if getattr(declared, name, None) is not None)


def missing_capability_error(missing: set[str] | frozenset[str], tool: str) -> MCPError:
    """-32021 for a 2026-era call whose playbook needs capabilities the request did not declare;
    `data.requiredCapabilities` is a ClientCapabilities object naming them."""
    names = sorted(missing)
    return MCPError(
        types.MISSING_REQUIRED_CLIENT_CAPABILITY,
        f"tool {tool!r} needs the client capabilit{'ies' if len(names) > 1 else 'y'} {', '.join(names)}",
        {"requiredCapabilities": {name: {} for name in names}},
    )


# -- translations between the contract and the wire ---------------------------------------------


def elicit_request(question: ElicitQuestion) -> types.ElicitRequest:
    return types.ElicitRequest(params=types.ElicitRequestFormParams(
        message=question.message, requested_schema=question.requested_schema))


def sample_request(question: SampleQuestion) -> types.CreateMessageRequest:
    return types.CreateMessageRequest(params=types.CreateMessageRequestParams(**sample_arguments(question)))


def sample_arguments(question: SampleQuestion) -> dict[str, Any]:
    """The keyword arguments of `ServerSession.create_message` (and of its request params)."""
    preferences = None
    if question.model_preferences is not None:
        p = question.model_preferences
        preferences = types.ModelPreferences(
            hints=[types.ModelHint(name=hint) for hint in p.hints] or None, cost_priority=p.cost_priority,
            speed_priority=p.speed_priority, intelligence_priority=p.intelligence_priority,
        )
    return {
        "messages": [types.SamplingMessage(role=m.role, content=types.TextContent(type="text", text=m.text))
                     for m in question.messages],
        "max_tokens": question.max_tokens,
        "system_prompt": question.system_prompt,
        "temperature": question.temperature,
        "stop_sequences": question.stop_sequences,
        "model_preferences": preferences,
    }


def elicit_answer(result: Any) -> ElicitAnswer:
    """An `ElicitResult` (or its wire dict) as the contract's answer; ValueError when it is not one."""
    try:
        parsed = types.ElicitResult.model_validate(_plain(result))
    except ValidationError as exc:
        raise ValueError(f"not an elicitation result: {exc.errors()[0]['msg']}") from None
    return ElicitAnswer(action=parsed.action, content=dict(parsed.content) if parsed.content is not None else None)


def sample_answer(result: Any) -> SampleAnswer:
    """A `CreateMessageResult` (or its wire dict) as the contract's answer; ValueError when it is
    not one. A non-text block (image, audio) is answered as a placeholder naming its type."""
    try:
        parsed = types.CreateMessageResult.model_validate(_plain(result))
    except ValidationError as exc:
        raise ValueError(f"not a sampling result: {exc.errors()[0]['msg']}") from None
    content = parsed.content
    text = content.text if isinstance(content, types.TextContent) else f"[{content.type} content]"
    return SampleAnswer(text=text, role=parsed.role, model=parsed.model, stop_reason=parsed.stop_reason)


def roots_answer(result: Any) -> list[Root]:
    """A `ListRootsResult` (or its wire dict) as the contract's roots; ValueError when it is not one."""
    try:
        parsed = types.ListRootsResult.model_validate(_plain(result))
    except ValidationError as exc:
        raise ValueError(f"not a roots result: {exc.errors()[0]['msg']}") from None
    return [Root(uri=str(root.uri), name=root.name) for root in parsed.roots]


def _plain(result: Any) -> Any:
    if isinstance(result, types.Result):
        return result.model_dump(by_alias=True, mode="json", exclude_none=True)
    return result


# -- the 2025-era channel -----------------------------------------------------------------------


class PushCaller:
    """Asks the client with server-to-client requests on the tools/call's own stream."""

    def __init__(self, ctx: ServerRequestContext[Any, Any]) -> None:
        self._session = ctx.session
        self._request_id = ctx.request_id
        self._capabilities = declared_capabilities(ctx)
        self._open = 0

    @property
    def capabilities(self) -> frozenset[str]:
        return self._capabilities

    @property
    def answering(self) -> bool:
        """A question is with the client (its user may take longer than the call timeout)."""
        return self._open > 0

    async def elicit(self, question: ElicitQuestion) -> ElicitAnswer:
        sending = self._session.elicit_form(question.message, question.requested_schema,
                                            related_request_id=self._request_id)
        return elicit_answer(await self._sent("elicitation/create", sending))

    async def sample(self, question: SampleQuestion) -> SampleAnswer:
        with warnings.catch_warnings():  # deprecated in 2026-07-28, still served to 2025 clients
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            sending = self._session.create_message(**sample_arguments(question), related_request_id=self._request_id)
        return sample_answer(await self._sent("sampling/createMessage", sending))

    async def roots(self, question: RootsQuestion) -> list[Root]:
        # sent as the call's own request (the SDK's `list_roots()` would use the connection's
        # standalone stream, which an HTTP client may not have open)
        sending = self._session.send_request(types.ListRootsRequest(), types.ListRootsResult,
                                             metadata=ServerMessageMetadata(related_request_id=self._request_id))
        return roots_answer(await self._sent("roots/list", sending))

    async def _sent(self, method: str, sending: Awaitable[Any]) -> Any:
        self._open += 1
        try:
            return await _sent(method, sending)
        finally:
            self._open -= 1


async def _sent(method: str, sending: Awaitable[Any]) -> Any:
    """The client's result of a pushed request, its failures as the step's codes."""
    try:
        return await sending
    except NoBackChannelError:
        raise Failure.of(ErrorCode.NO_MCP_CALLER, "this MCP connection cannot carry requests to the client "
                         "(stateless HTTP or a JSON-only response); connect with a session, or over 2026-07-28") from None
    except MCPError as exc:
        raise Failure.of(ErrorCode.CALLER_REQUEST_FAILED,
                         f"the client answered {method} with an error: {exc.error.message}") from None
