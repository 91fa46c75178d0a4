"""The MCP prompts of the hub: every `kind: Prompt` catalog document (`catalog.prompts`).

prompts/list pages them by name; prompts/get checks the client's arguments (unknown ones, missing
required ones and values outside an `enum` are refused with INVALID_PARAMS naming the argument),
fills defaults, and renders every string of the messages in the hub's template sandbox, the
arguments being data. A template that fails to render is the operator's bug, not the client's:
INTERNAL_ERROR with the template's own message. Completion of prompt arguments lives in
`hub.mcp.completion`, from the same argument declarations.
"""

from __future__ import annotations

from typing import Any

from mcp import types
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from catalog.entries import PromptEntry
from catalog.prompts import Prompt
from hub.app import Hub
from hub.contract.envelope import Failure
from hub.contract.templates import Templates
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
    ) -> types.GetPromptResult:
        entry = self.hub.catalog.prompt(params.name)
        if entry is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name}", {"name": params.name})
        values = checked_arguments(entry.prompt, params.arguments)
        return types.GetPromptResult(description=entry.prompt.description, messages=self.render(entry, values))

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
