"""What the catalog serves: one entry per playbook version (with its tool schemas and lazily built
validators), and one per named document of the other kinds (`McpServer`, `Prompt`, `Resource`:
current definitions only, no versions). Frozen, so every part of the hub can hold an entry while
the catalog reloads underneath it.

A playbook entry keeps what listing, discovery and the catalog's own checks read (`PlaybookFacts`,
the tool schemas) beside its model, and its model may still be a pickle (`LazyPlaybook`): a
restart serves a cached catalog without loading 10,000 models."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple, Union

from catalog.lazy_playbook import LazyPlaybook
from catalog.mcp_servers import McpServer
from catalog.model import Playbook
from catalog.plain_schema import QuickValidator
from catalog.prompts import Prompt
from catalog.resources import Resource
from catalog.schema import compile_validator


class PlaybookFacts(NamedTuple):
    """What serving reads of a playbook besides its tool schemas, as plain data: the tool listing,
    discovery, scopes and the catalog's clash checks need no model (the parse cache keeps these).
    A named tuple: 10,000 of them are built on a restart, at a tenth of a frozen dataclass's cost."""

    name: str
    metadata_path: str | None
    title: str | None
    description: str | None
    agent: bool
    capabilities: tuple[str, ...]
    tags: tuple[str, ...]
    expose: bool
    scopes: tuple[str, ...]
    annotations: dict[str, Any] | None
    """`metadata.annotations` as the MCP tool hints publish them (`model_dump(exclude_none=True)`)."""
    api_version: str
    tool_kinds: frozenset[str]
    """The tool kinds the playbook's own steps use (pipeline tasks included)."""

    @classmethod
    def of(cls, playbook: Playbook) -> PlaybookFacts:
        meta = playbook.metadata
        kinds: set[str] = set()
        for step in playbook.workflow:
            tools = step.tool if isinstance(step.tool, list) else [{"": step.tool}] if step.tool else []
            kinds.update(tool.kind for task in tools for tool in task.values())
        return cls(
            name=meta.name, metadata_path=meta.path, title=meta.title, description=meta.description,
            agent=meta.agent, capabilities=tuple(meta.capabilities), tags=tuple(meta.tags), expose=meta.expose,
            scopes=tuple(meta.scopes),
            annotations=None if meta.annotations is None else meta.annotations.model_dump(exclude_none=True),
            api_version=playbook.api_version, tool_kinds=frozenset(kinds),
        )


@dataclass(frozen=True)
class CatalogEntry:
    """One served version of one playbook, with its derived tool schemas."""

    path: str
    version: int
    name: str
    model: LazyPlaybook = field(compare=False, repr=False)
    """The checked model, loaded on first use when it came from the parse cache (`playbook`)."""
    source: str
    file: str | None
    digest: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    facts: PlaybookFacts
    kind: str = "Playbook"

    @property
    def playbook(self) -> Playbook:
        return self.model.get()

    @property
    def ref(self) -> str:
        return f"{self.path}@{self.version}"

    @property
    def title(self) -> str | None:
        return self.facts.title

    @property
    def description(self) -> str | None:
        return self.facts.description

    @property
    def agent(self) -> bool:
        return self.facts.agent

    @property
    def capabilities(self) -> list[str]:
        return list(self.facts.capabilities)

    @property
    def tags(self) -> list[str]:
        return list(self.facts.tags)

    @property
    def expose(self) -> bool:
        return self.facts.expose

    @property
    def scopes(self) -> list[str]:
        """`metadata.scopes`: every one is required to see and call this version."""
        return list(self.facts.scopes)

    @functools.cached_property
    def input_validator(self) -> QuickValidator:
        """Built on first use and kept with the entry (validators are not cheap to build)."""
        return compile_validator(self.input_schema)

    @functools.cached_property
    def output_validator(self) -> QuickValidator | None:
        return None if self.output_schema is None else compile_validator(self.output_schema)


@dataclass(frozen=True)
class McpServerEntry:
    """One served `kind: McpServer` definition."""

    name: str
    server: McpServer
    source: str
    file: str | None
    digest: str

    kind: ClassVar[str] = "McpServer"
    label: ClassVar[str] = "MCP server name"


@dataclass(frozen=True)
class _DocumentEntry:
    """What every named document entry holds besides its model."""

    name: str
    source: str
    file: str | None
    digest: str


@dataclass(frozen=True)
class PromptEntry(_DocumentEntry):
    """One served `kind: Prompt` document, by its prompt name."""

    prompt: Prompt
    kind: ClassVar[str] = "Prompt"
    label: ClassVar[str] = "prompt name"


@dataclass(frozen=True)
class ResourceEntry(_DocumentEntry):
    """One served `kind: Resource` document, named by its URI (or URI template)."""

    resource: Resource
    kind: ClassVar[str] = "Resource"
    label: ClassVar[str] = "resource URI"


NamedEntry = Union[McpServerEntry, PromptEntry, ResourceEntry]
"""A served document that is not a playbook: one current definition per name and kind."""
