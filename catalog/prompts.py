"""`kind: Prompt`: a templated conversation opening an operator keeps in the catalog, served to MCP
clients as a prompt (prompts/list, prompts/get) beside the playbooks that are tools.

A prompt declares its arguments (strings, as MCP prompt arguments are) and its messages. Every
string in a message is a Jinja2 template over the arguments, rendered in the hub's sandbox when a
client asks for the prompt: the client's values are data, never code. A message's `content` is
text (a plain string is short for `{type: text, text: ...}`), or an MCP content block: `image`
or `audio` (`data` base64, `mimeType`), `resource` (an embedded `{uri, mimeType, text|blob}`),
`resource_link`. An argument's `enum` and `examples` are what `completion/complete` suggests for
it; `values_from: playbooks` suggests the catalog's paths. An argument with `ask: <question>` that
the client left out is asked of the client's user (elicitation) when the client can elicit.

```yaml
apiVersion: agenthub/v1
kind: Prompt
metadata: {name: review_playbook, description: Ask for a review of one playbook}
arguments:
  path: {description: Catalog path of the playbook, values_from: playbooks}
  tone: {description: How blunt, enum: [gentle, blunt], default: gentle}
messages:
  - role: user
    content: "Review the playbook {{ path }}; be {{ tone }}."
```
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from catalog.model import Strict, check_api_version

PROMPT_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
CONTENT_TYPES: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "image": ("data", "mimeType"),
    "audio": ("data", "mimeType"),
    "resource": ("resource",),
    "resource_link": ("uri", "name"),
}
"""Each MCP content block type a message may hold, with the fields it needs."""


class PromptMetadata(Strict):
    name: str = Field(description="The MCP prompt name: letters, digits, '_', '-', '.'; at most 64.")
    title: str | None = None
    description: str | None = Field(default=None, description="Shown to users; defaults to the title.")
    tags: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not PROMPT_NAME_RE.match(value):
            raise ValueError("must be 1-64 letters, digits, '_', '-' or '.'")
        return value


class PromptArgument(Strict):
    """One argument: a string the client supplies (MCP prompt arguments are strings)."""

    title: str | None = None
    description: str | None = None
    required: bool | None = Field(default=None, description="Defaults to true unless a default is given.")
    default: str | None = None
    enum: list[str] | None = Field(default=None, description="The only values accepted; offered as completions.")
    examples: list[str] | None = Field(default=None, description="Offered as completions; any value is accepted.")
    values_from: Literal["playbooks"] | None = Field(
        default=None, description="Complete from the catalog: `playbooks` (catalog paths)."
    )
    ask: str | None = Field(
        default=None,
        description="When the client leaves this argument out and can elicit, ask its user this "
        "question (a form with one text field) instead of refusing the request.",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """`name: A description` is short for `name: {description: ...}`."""
        return {"description": value} if isinstance(value, str) else value

    @property
    def is_required(self) -> bool:
        return self.required if self.required is not None else self.default is None

    @model_validator(mode="after")
    def _consistent(self) -> PromptArgument:
        if self.enum is not None and self.default is not None and self.default not in self.enum:
            raise ValueError(f"default {self.default!r} is not one of enum {self.enum!r}")
        return self


class PromptMessage(Strict):
    role: Literal["user", "assistant"]
    content: str | dict[str, Any] = Field(
        description="Text (a template), or an MCP content block whose strings are templates."
    )

    @field_validator("content")
    @classmethod
    def _block(cls, value: str | dict[str, Any]) -> str | dict[str, Any]:
        if isinstance(value, str):
            return value
        kind = value.get("type")
        if kind not in CONTENT_TYPES:
            raise ValueError(f"content type must be one of {', '.join(CONTENT_TYPES)} (got {kind!r})")
        missing = [key for key in CONTENT_TYPES[kind] if key not in value]
        if missing:
            raise ValueError(f"{kind} content needs {', '.join(missing)}")
        if kind == "resource":
            inner = value["resource"]
            if not isinstance(inner, dict) or "uri" not in inner or not ({"text", "blob"} & set(inner)):
                raise ValueError("resource content needs `resource: {uri, mimeType, text or blob}`")
        return value


class Prompt(Strict):
    """A catalog document of `kind: Prompt`."""

    api_version: str = Field(alias="apiVersion")
    kind: Literal["Prompt"]
    metadata: PromptMetadata
    arguments: dict[str, PromptArgument] = Field(default_factory=dict)
    messages: list[PromptMessage] = Field(min_length=1)

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        return check_api_version(value)

    @field_validator("arguments")
    @classmethod
    def _argument_names(cls, value: dict[str, PromptArgument]) -> dict[str, PromptArgument]:
        for name in value:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*\Z", name):
                raise ValueError(f"argument name {name!r} must be an identifier (templates use it by name)")
        return value

    @property
    def description(self) -> str:
        return self.metadata.description or self.metadata.title or f"Prompt {self.metadata.name}"
