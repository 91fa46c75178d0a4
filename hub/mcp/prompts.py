"""The MCP prompts of the hub: every `kind: Prompt` catalog document (`catalog.prompts`).

prompts/list pages them by name; prompts/get checks the client's arguments (unknown ones, missing
required ones and values outside an `enum` are refused with INVALID_PARAMS naming the argument),
fills defaults, and renders every string of the messages in the hub's template sandbox, the
arguments being data.

An argument declared with `ask:` that the client left out is asked of its user when the client
declared elicitation: a 2025 connection gets an `elicitation/create` request tied to the
prompts/get; a 2026 request is answered with an `InputRequiredResult` (one form per missing
argument, keyed by its name) and completed when the client sends the same request again with
`inputResponses`. The arguments given in the first round ride along as `requestState` (sealed
and bound to the caller by the SDK's `RequestStateBoundary`, as every round's state is; checked
again like any argument anyway). A declined form is INVALID_PARAMS naming the argument. A client
that cannot elicit gets the plain "missing required argument" error. A template that fails to render is the operator's bug, not the client's:
INTERNAL_ERROR with the template's own message. Completion of prompt arguments lives in
`hub.mcp.completion`, from the same argument declarations.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from mcp import types
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from catalog.entries import PromptEntry
from catalog.prompts import Prompt
from hub.app import Hub
from hub.contract.envelope import Failure
from hub.contract.templates import Templates
from hub.mcp.caller import declared_capabilities
from hub.mcp.tools import paginate


def prompt_descriptor(prompt: Prompt) -> types.Prompt:
    """How prompts/list shows one prompt."""
    return types.Prompt(
        name=prompt.metadata.name,
        title=prompt.metadata.title,
        description=prompt.description,
        arguments=[
            types.PromptArgument(name=name, title=arg.title, description=arg.description, required=arg.is_required)
            for name, arg in prompt.arguments.items()
        ],
    )


def checked_arguments(prompt: Prompt, given: dict[str, str] | None) -> dict[str, str]:
    """The arguments to render with: the client's, checked, with defaults filled in."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(prompt.arguments))
    if unknown:
        known = ", ".join(prompt.arguments) or "none"
        raise MCPError(types.INVALID_PARAMS, f"unknown argument(s) {', '.join(unknown)}; this prompt takes: {known}")
    values: dict[str, str] = {}
    for name, arg in prompt.arguments.items():
        if name in given:
            value = given[name]
            if arg.enum is not None and value not in arg.enum:
                raise MCPError(types.INVALID_PARAMS, f"argument {name!r} must be one of {', '.join(arg.enum)}")
            values[name] = value
        elif arg.default is not None:
            values[name] = arg.default
        elif arg.is_required:
            raise MCPError(types.INVALID_PARAMS, f"missing required argument {name!r}")
        else:
            values[name] = ""
    return values


class HubPrompts:
    """The `prompts/*` handlers over one hub's catalog."""

    def __init__(self, hub: Hub, page_size: int) -> None:
        self.hub = hub
        self.page_size = page_size
        self.templates = Templates()

    async def list_prompts(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        entries = self.hub.catalog.prompts()
        page, cursor = paginate(entries, lambda e: e.name, params.cursor if params else None, self.page_size)
        return types.ListPromptsResult(prompts=[prompt_descriptor(e.prompt) for e in page], next_cursor=cursor)

    async def get_prompt(
        self, ctx: ServerRequestContext[Any, Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult | types.InputRequiredResult:
        entry = self.hub.catalog.prompt(params.name)
        if entry is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name}", {"name": params.name})
        given = {**_carried(params.request_state), **(params.arguments or {})}
        prompt = entry.prompt
        asked = [name for name, arg in prompt.arguments.items()
                 if arg.ask and name not in given and arg.default is None and arg.is_required]
        if asked and "elicitation" in declared_capabilities(ctx):
            if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
                for name in asked:
                    form = _form_params(prompt, name)
                    given[name] = _answered(name, await ctx.session.elicit_form(
                        form.message, form.requested_schema, related_request_id=ctx.request_id))
            elif not params.input_responses:
                return types.InputRequiredResult(
                    input_requests={name: types.ElicitRequest(params=_form_params(prompt, name)) for name in asked},
                    request_state=_carry(given) if given else None,
                )
            else:
                for name in asked:
                    given[name] = _answered(name, params.input_responses.get(name))
        values = checked_arguments(prompt, given)
        return types.GetPromptResult(description=prompt.description, messages=self.render(entry, values))

    def render(self, entry: PromptEntry, values: dict[str, str]) -> list[types.PromptMessage]:
        messages = []
        for i, message in enumerate(entry.prompt.messages):
            where = f"{entry.name}.messages[{i}].content"
            try:
                content = self.templates.render(message.content, values, where)
            except Failure as exc:
                raise MCPError(types.INTERNAL_ERROR, f"prompt {entry.name!r} did not render: {exc.error.message}") from None
            block = {"type": "text", "text": str(content)} if isinstance(content, str) else content
            try:
                messages.append(types.PromptMessage.model_validate({"role": message.role, "content": block}))
            except ValidationError as exc:
                raise MCPError(types.INTERNAL_ERROR, f"prompt {entry.name!r} rendered an invalid {where}: "
                                                     f"{exc.errors()[0]['msg']}") from None
        return messages


def _form_params(prompt: Prompt, name: str) -> types.ElicitRequestFormParams:
    """The question for one `ask:` argument: its message, and a form of one text field."""
    arg = prompt.arguments[name]
    field: dict[str, Any] = {"type": "string"}
    if arg.description:
        field["description"] = arg.description
    if arg.enum is not None:
        field["enum"] = list(arg.enum)
    return types.ElicitRequestFormParams(
        message=arg.ask or name, requested_schema={"type": "object", "properties": {name: field}, "required": [name]})


def _answered(name: str, response: Any) -> str:
    """The value the user gave for `name`, or INVALID_PARAMS when there is none."""
    try:
        result = types.ElicitResult.model_validate(
            response.model_dump(by_alias=True) if hasattr(response, "model_dump") else response)
    except ValidationError:
        raise MCPError(types.INVALID_PARAMS, f"no answer for argument {name!r} in inputResponses") from None
    value = (result.content or {}).get(name)
    if result.action != "accept" or not isinstance(value, str):
        raise MCPError(types.INVALID_PARAMS, f"argument {name!r} was not given (the user answered {result.action})")
    return value


def _carry(arguments: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(arguments).encode()).decode()


def _carried(state: str | None) -> dict[str, str]:
    """The arguments of the first round (`_carry`); anything else in `requestState` is ignored."""
    if not state:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(state.encode()))
    except (ValueError, TypeError):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(value, dict) else {}
