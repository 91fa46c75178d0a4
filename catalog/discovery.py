"""Discovery: which catalog entries match a search by kind, agent flag, capability, tag and text.

Shared by the REST API (`GET /api/catalog`), the `hub_find_agents` MCP tool and the CLI through
`Catalog.find`; a pure function over entries, so every face filters the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from catalog.entries import CatalogEntry


def matching(
    entries: Iterable[CatalogEntry],
    *,
    kind: str | None = None,
    agent: bool | None = None,
    capabilities_any: Sequence[str] = (),
    capabilities_all: Sequence[str] = (),
    tags: Sequence[str] = (),
    text: str | None = None,
) -> list[CatalogEntry]:
    """The entries matching every given filter (case-insensitive), in the order given.

    `capabilities_any`: at least one of them; `capabilities_all` and `tags`: all of them;
    `text`: every word appears in the name, path, title, description, capabilities or tags.
    """
    def lowered(values: Iterable[str]) -> set[str]:
        return {v.casefold() for v in values}

    words = text.casefold().split() if text else []
    found = []
    for entry in entries:
        caps = lowered(entry.capabilities)
        if kind is not None and entry.kind.casefold() != kind.casefold():
            continue
        if agent is not None and entry.agent != agent:
            continue
        if capabilities_any and not caps & lowered(capabilities_any):
            continue
        if not lowered(capabilities_all) <= caps or not lowered(tags) <= lowered(entry.tags):
            continue
        if words:
            haystack = "\n".join([entry.name, entry.path, entry.title or "", entry.description or "",
                                  *entry.capabilities, *entry.tags]).casefold()
            if not all(word in haystack for word in words):
                continue
        found.append(entry)
    return found
