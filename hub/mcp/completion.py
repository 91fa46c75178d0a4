"""`completion/complete`: what a client may type into the hub's resource templates.

- `agenthub://playbooks/{+path}`, argument `path`: the catalog paths starting with what was typed
  (only those the caller's token may see).
- `agenthub://executions/{id}` (and `/json`), argument `id`: the newest execution ids starting with
  what was typed (only those the caller may touch), so a user can pick one from a prefix as on
  the command line.

- a catalog prompt's argument (`kind: Prompt`): its `enum`, else its `examples`, else (with
  `values_from: playbooks`) the catalog paths, starting with what was typed; the prompt's other
  arguments already given (`context.arguments`) do not narrow it.

Anything else (another template, an unknown prompt) completes to nothing: an empty completion is
the protocol's "no suggestions", not an error.
"""

from __future__ import annotations

from typing import Any

from mcp import types
from mcp.server import ServerRequestContext

from hub.app import Hub
from hub.mcp.tools import EXECUTION_JSON_URI, EXECUTION_URI, PLAYBOOK_URI, caller_scopes, current_caller, entry_visible

MAX_VALUES = 100
"""The protocol's cap on values in one completion."""


class HubCompletion:
    """Answers `completion/complete` from the catalog and the store of one hub."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def complete(
        self, ctx: ServerRequestContext[Any, Any], params: types.CompleteRequestParams
    ) -> types.CompleteResult:
        ref, argument = params.ref, params.argument
        values: list[str] = []
        if isinstance(ref, types.ResourceTemplateReference):
            if ref.uri == PLAYBOOK_URI and argument.name == "path":
                values = self._playbook_paths(argument.value)
            elif ref.uri in (EXECUTION_URI, EXECUTION_JSON_URI) and argument.name == "id":
                values = await self._execution_ids(argument.value)
        elif isinstance(ref, types.PromptReference):
            values = self._prompt_values(ref.name, argument.name, argument.value)
        return types.CompleteResult(completion=types.Completion(
            values=values[:MAX_VALUES], total=len(values), has_more=len(values) > MAX_VALUES,
        ))

    def _prompt_values(self, prompt: str, name: str, typed: str) -> list[str]:
        entry = self.hub.catalog.prompt(prompt)
        arg = entry.prompt.arguments.get(name) if entry is not None else None
        if arg is None:
            return []
        if arg.enum is not None or arg.examples is not None:
            return [v for v in (arg.enum if arg.enum is not None else arg.examples or []) if v.startswith(typed)]
        return self._playbook_paths(typed) if arg.values_from == "playbooks" else []

    def _playbook_paths(self, typed: str) -> list[str]:
        scopes = caller_scopes()
        return sorted(
            entry.path for entry in self.hub.catalog.entries()
            if entry.path.startswith(typed) and entry_visible(entry, scopes)
        )

    async def _execution_ids(self, typed: str) -> list[str]:
        prefix = typed.strip().lower()
        bound = prefix + "\x7f" if prefix else None  # ids sort by time: the newest below the bound come first
        records = await self.hub.store.list(before=bound, limit=MAX_VALUES + 1)
        caller = current_caller()  # only executions this caller may touch (hub.contract.access)
        return [r.id for r in records if r.id.startswith(prefix) and self.hub.access.allows(r, caller)]
