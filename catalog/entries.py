"""What the catalog serves: one entry per playbook version (with its tool schemas and lazily built
validators), and one per named document of the other kinds (`McpServer`, `Prompt`, `Resource`:
current definitions only, no versions). Frozen, so every part of the hub can hold an entry while
the catalog reloads underneath it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, ClassVar, Union

from catalog.mcp_servers import McpServer
from catalog.model import Playbook
from catalog.plain_schema import QuickValidator
from catalog.prompts import Prompt
from catalog.resources import Resource
from catalog.schema import compile_validator


@dataclass(frozen=True)
class CatalogEntry:
    """One served version of one playbook, with its derived tool schemas."""

    path: str
    version: int
    name: str
    playbook: Playbook
    source: str
    file: str | None
    digest: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    kind: str = "Playbook"

    @property
    def ref(self) -> str:
        return f"{self.path}@{self.version}"

    @property
    def title(self) -> str | None:
        return self.playbook.metadata.title

    @property
    def description(self) -> str | None:
        return self.playbook.metadata.description

    @property
    def agent(self) -> bool:
        return self.playbook.metadata.agent

    @property
    def capabilities(self) -> list[str]:
        return list(self.playbook.metadata.capabilities)

    @property
    def tags(self) -> list[str]:
        return list(self.playbook.metadata.tags)

    @property
    def expose(self) -> bool:
        return self.playbook.metadata.expose

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
