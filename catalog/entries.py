"""What the catalog serves: one entry per playbook version (with its tool schemas and lazily built
validators) and one per `kind: McpServer` definition. Frozen, so every part of the hub can hold an
entry while the catalog reloads underneath it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from catalog.mcp_servers import McpServer
from catalog.model import Playbook
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
    def input_validator(self) -> Draft202012Validator:
        """Built on first use and kept with the entry (validators are not cheap to build)."""
        return compile_validator(self.input_schema)

    @functools.cached_property
    def output_validator(self) -> Draft202012Validator | None:
        return None if self.output_schema is None else compile_validator(self.output_schema)


@dataclass(frozen=True)
class McpServerEntry:
    """One served `kind: McpServer` definition."""

    name: str
    server: McpServer
    source: str
    file: str | None
    digest: str
