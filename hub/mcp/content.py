"""MCP content blocks a playbook returns: images, audio, embedded resources, text, links.

A playbook whose result is an object with a `content` field holding a list of MCP content blocks
(`{type: image, data: <base64>, mimeType: image/png}`, `{type: audio, ...}`, `{type: resource,
resource: {uri, text | blob, mimeType}}`, `{type: text, text}`, `{type: resource_link, uri, name}`)
gets those blocks in the tool result's `content`, after the summary text, so a client shows the
image or reads the resource as such. The envelope (structured content) keeps them too.

Only a list whose every item is a valid block counts: anything else under `content` (a string, a
list of other things) is ordinary data, so no playbook's output changes meaning by accident.
"""

from __future__ import annotations

from typing import Any

from mcp import types
from pydantic import TypeAdapter, ValidationError

CONTENT_FIELD = "content"
_BLOCK_TYPES = frozenset({"text", "image", "audio", "resource", "resource_link"})
_BLOCK = TypeAdapter(types.ContentBlock)


def result_blocks(data: Any) -> list[types.ContentBlock]:
    """The content blocks a playbook result carries (empty when it carries none)."""
    raw = data.get(CONTENT_FIELD) if isinstance(data, dict) else None
    if not isinstance(raw, list) or not raw:
        return []
    blocks: list[types.ContentBlock] = []
    for item in raw:
        if not isinstance(item, dict) or item.get("type") not in _BLOCK_TYPES:
            return []
        try:
            blocks.append(_BLOCK.validate_python(item))
        except ValidationError:
            return []
    return blocks
