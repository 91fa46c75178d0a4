"""The tools/list of one catalog generation: every exposed playbook's tool and the hub tools,
sorted by name, with what paging and the scope filter need precomputed, so a page costs what the
page holds and not what the catalog holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mcp import types

from catalog.entries import CatalogEntry
from hub.mcp.tools import entry_visible, paginate, tool_for_entry

Pair = tuple[types.Tool, CatalogEntry | None]


@dataclass(frozen=True)
class ToolListing:
    """The tools of one catalog generation: sorted descriptors, each with its playbook (None for
    a hub tool)."""

    generation: int
    tools: list[Pair]
    by_name: dict[str, Pair]
    names: list[str]
    scoped: bool
    """True when any playbook requires scopes (only then does a caller's token filter the list)."""
    wire: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each tool's wire form (by name), dumped the first time a page holds it: a page is then
    handed to the SDK as plain data, which it checks and sends without dumping 100 models again."""

    @classmethod
    def build(cls, generation: int, hub_tools: Iterable[types.Tool], entries: Iterable[CatalogEntry],
              needs: Callable[[CatalogEntry], frozenset[str]]) -> ToolListing:
        """`needs` gives the client capabilities an entry's steps need (shown in its tool's `_meta`)."""
        pairs: list[Pair] = [(tool, None) for tool in hub_tools]
        pairs += [(tool_for_entry(e, needs(e)), e) for e in entries if e.expose]
        pairs.sort(key=lambda pair: pair[0].name)
        return cls(
            generation, pairs, {tool.name: (tool, e) for tool, e in pairs}, [tool.name for tool, _ in pairs],
            any(e is not None and e.scopes for _, e in pairs),
        )

    def page(self, scopes: frozenset[str] | None, cursor: str | None, size: int) -> tuple[list[types.Tool], str | None]:
        def visible(pair: Pair) -> bool:
            return pair[1] is None or entry_visible(pair[1], scopes)

        pairs, next_cursor = paginate(
            self.tools, lambda pair: pair[0].name, cursor, size,
            keys=self.names, visible=visible if self.scoped and scopes is not None else None,
        )
        return [tool for tool, _ in pairs], next_cursor

    def wire_page(self, scopes: frozenset[str] | None, cursor: str | None, size: int) -> dict[str, Any]:
        """`page` as the `ListToolsResult` wire dict (`tools`, and `nextCursor` unless last)."""
        tools, next_cursor = self.page(scopes, cursor, size)
        # the fields the model's dump has besides the tools (cache hints, result type), as is
        result: dict[str, Any] = types.ListToolsResult(tools=[]).model_dump(by_alias=True, mode="json", exclude_none=True)
        result["tools"] = [self._wire(tool) for tool in tools]
        if next_cursor is not None:
            result["nextCursor"] = next_cursor
        return result

    def _wire(self, tool: types.Tool) -> dict[str, Any]:
        found = self.wire.get(tool.name)
        if found is None:
            found = self.wire[tool.name] = tool.model_dump(by_alias=True, mode="json", exclude_none=True)
        return found
