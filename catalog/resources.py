"""`kind: Resource`: a document an operator publishes to MCP clients as a resource, beside the
hub's own (execution reports, playbook sources).

Either a fixed `uri` (listed by resources/list) or a `uriTemplate` (listed by
resources/templates/list; RFC 6570 level 1-2: `{name}` matches one path segment, `{+name}`
anything). The content is `text` or `blob` (base64). For a template, every string of `text` is a
Jinja2 template over the URI's variables, rendered in the hub's sandbox when a client reads it
(the values a client puts in the URI are data).

```yaml
apiVersion: agenthub/v1
kind: Resource
metadata: {name: runbook, description: What to do when a run fails}
uri: docs://runbook
mimeType: text/markdown
text: |
  # Runbook ...
```
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from catalog.model import Strict, check_api_version

_VARIABLE = re.compile(r"\{(\+?)([A-Za-z_][A-Za-z0-9_]*)\}")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+\Z")


class ResourceMetadata(Strict):
    name: str = Field(description="A short name for people and lists.")
    title: str | None = None
    description: str | None = None
    tags: list[str] = Field(default_factory=list)


class Resource(Strict):
    """A catalog document of `kind: Resource`."""

    api_version: str = Field(alias="apiVersion")
    kind: Literal["Resource"]
    metadata: ResourceMetadata
    uri: str | None = Field(default=None, description="The fixed URI (`scheme:...`).")
    uri_template: str | None = Field(
        default=None, alias="uriTemplate", description="A URI template: `{name}` one segment, `{+name}` any text."
    )
    mime_type: str = Field(default="text/plain", alias="mimeType")
    text: str | None = Field(default=None, description="Text content; for a template, a Jinja2 template.")
    blob: str | None = Field(default=None, description="Binary content, base64.")

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        return check_api_version(value)

    @field_validator("uri", "uri_template")
    @classmethod
    def _looks_like_uri(cls, value: str | None) -> str | None:
        if value is not None and not _URI.match(value):
            raise ValueError("must be an absolute URI (`scheme:...`, no spaces)")
        return value

    @field_validator("blob")
    @classmethod
    def _base64(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                base64.b64decode(value, validate=True)
            except binascii.Error as exc:
                raise ValueError(f"not valid base64: {exc}") from None
        return value

    @model_validator(mode="after")
    def _one_of_each(self) -> Resource:
        if (self.uri is None) == (self.uri_template is None):
            raise ValueError("give exactly one of `uri` and `uriTemplate`")
        if (self.text is None) == (self.blob is None):
            raise ValueError("give exactly one of `text` and `blob`")
        if self.uri_template is not None and not _VARIABLE.search(self.uri_template):
            raise ValueError("`uriTemplate` has no `{variable}`; use `uri` for a fixed URI")
        return self

    @property
    def key(self) -> str:
        """What names it in the catalog: its URI, or its URI template."""
        return self.uri if self.uri is not None else self.uri_template  # type: ignore[return-value]

    @property
    def variables(self) -> list[str]:
        return [m.group(2) for m in _VARIABLE.finditer(self.uri_template or "")]

    def match(self, uri: str) -> dict[str, str] | None:
        """The variables of `uri` when it is this resource (a fixed URI: equal, no variables)."""
        if self.uri is not None:
            return {} if uri == self.uri else None
        pattern, last = [], 0
        for found in _VARIABLE.finditer(self.uri_template or ""):
            pattern.append(re.escape(self.key[last:found.start()]))
            pattern.append(f"(?P<{found.group(2)}>{'.+' if found.group(1) else '[^/?#]+'})")
            last = found.end()
        pattern.append(re.escape(self.key[last:]))
        matched = re.fullmatch("".join(pattern), uri)
        return matched.groupdict() if matched else None
