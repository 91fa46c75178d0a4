"""`kind: McpServer`: another MCP server the hub can call, declared in the catalog beside playbooks.

A playbook's `mcp` step names a server by `metadata.name`; where it lives and how to reach it is
written once here, so a URL or a token changes in one file and no playbook repeats it. Two
transports: `http` (streamable HTTP: `url`, `headers`) and `stdio` (`command`, `args`, `env`, `cwd`).
Header and env values may be templates over `keychain.<name>` only (the server's own `keychain:`
list, resolved when a connection opens), so a secret lives in the environment or a file, never in
the catalog. The catalog only checks the shape; connecting is the `mcp` step kind's business.

```yaml
apiVersion: agenthub/v1
kind: McpServer
metadata: {name: github, description: GitHub's MCP server}
keychain:
  - {name: token, env: GITHUB_TOKEN}
spec:
  transport: http
  url: https://api.githubcopilot.com/mcp/
  headers: {Authorization: "Bearer {{ keychain.token }}"}
```
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from catalog.model import KeychainEntry, Strict, check_api_version

SERVER_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}(/[A-Za-z0-9_.-]{1,64})*\Z")
TEMPLATE_NAMES = frozenset({"keychain"})
"""The only names a header or env template may use."""


class McpServerMetadata(Strict):
    name: str = Field(description="What `mcp` steps call the server by (`tool.server`).")
    title: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SERVER_NAME_RE.match(value):
            raise ValueError("must be letters, digits, '_', '-', '.' (slash-separated segments allowed)")
        return value


class McpServerSpec(Strict):
    transport: Literal["http", "stdio"]
    url: str | None = Field(default=None, description="http: the streamable-HTTP endpoint (…/mcp).")
    headers: dict[str, str] = Field(
        default_factory=dict, description="http: request headers; values may use `{{ keychain.x }}`."
    )
    command: str | None = Field(
        default=None,
        description="stdio: the program to start. `python` means the hub's own interpreter, so a "
        "server shipped as a module in the hub's environment runs without a PATH set-up.",
    )
    args: list[str] = Field(default_factory=list, description="stdio: its arguments.")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="stdio: extra environment (over a minimal safe one); values may use `{{ keychain.x }}`.",
    )
    cwd: str | None = Field(default=None, description="stdio: working directory.")
    timeout: float = Field(
        default=60.0, gt=0, description="Default seconds for one tool call (a step's `timeout` overrides)."
    )

    @model_validator(mode="after")
    def _fits_transport(self) -> McpServerSpec:
        given = self.model_fields_set
        if self.transport == "http":
            if not self.url:
                raise ValueError("transport http needs `url`")
            if not re.match(r"^https?://", self.url):
                raise ValueError("`url` must start with http:// or https://")
            wrong = sorted(given & {"command", "args", "env", "cwd"})
        else:
            if not self.command:
                raise ValueError("transport stdio needs `command`")
            wrong = sorted(given & {"url", "headers"})
        if wrong:
            raise ValueError(f"{', '.join(wrong)} not used by transport {self.transport}")
        return self


class McpServer(Strict):
    """A catalog document of `kind: McpServer`."""

    api_version: str = Field(alias="apiVersion")
    kind: Literal["McpServer"]
    metadata: McpServerMetadata
    keychain: list[KeychainEntry] = Field(default_factory=list)
    spec: McpServerSpec
    extensions: dict[str, Any] = Field(
        default_factory=dict, description="Sections of a dialect's server resource kept, not interpreted."
    )

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        return check_api_version(value)

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Cross-field problems: (location, message) pairs, as `Playbook.problems()`."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        names: set[str] = set()
        for i, entry in enumerate(self.keychain):
            if entry.name in names:
                found.append((("keychain", i, "name"), f"keychain name {entry.name!r} is used twice"))
            names.add(entry.name)
        return found

    @property
    def templated(self) -> dict[tuple[str | int, ...], str]:
        """Every value that may be a template, by its location in the document."""
        values: dict[tuple[str | int, ...], str] = {}
        for key, value in self.spec.headers.items():
            values[("spec", "headers", key)] = value
        for key, value in self.spec.env.items():
            values[("spec", "env", key)] = value
        return values
