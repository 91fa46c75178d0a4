"""NoETL's `kind: Mcp` catalog resource, read as the hub's `kind: McpServer`.

NoETL steps call such a server by its catalog path (`tool: {kind: mcp, server: mcp/ollama}`), so
the server's name here is its `metadata.path` (NoETL's `metadata.name` is kept as its title).
`spec.url` with `spec.runtime.transport` (default http) is where it lives; NoETL's other sections
(`tools`, `discovery`, `lifecycle`, `deployment`, `protocol`) are kept under `extensions`: the hub
asks the server itself for its tools (tools/list) and deploys nothing.
"""

from __future__ import annotations

from typing import Any

from catalog.noetl.relocate import Moves
from catalog.problems import Location

SERVER_FIELDS = frozenset({"url", "headers", "command", "args", "env", "cwd", "timeout"})


def read_mcp(data: dict[str, Any], moves: Moves, notes: list[tuple[Location, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in data.items() if k not in ("kind", "metadata", "spec")}
    out["kind"] = "McpServer"
    metadata = data.get("metadata")
    if isinstance(metadata, dict):
        named = metadata.get("path") or metadata.get("name")
        out["metadata"] = {"name": named, **{k: metadata[k] for k in ("description", "tags") if k in metadata}}
        if metadata.get("name") and metadata.get("path"):
            out["metadata"]["title"] = metadata["name"]
        moves.record(("metadata", "name"), ("metadata", "path" if metadata.get("path") else "name"))
    spec = data.get("spec")
    if isinstance(spec, dict):
        runtime = spec.get("runtime") if isinstance(spec.get("runtime"), dict) else {}
        server: dict[str, Any] = {"transport": runtime.get("transport", "http")}
        if "transport" in runtime:
            moves.record(("spec", "transport"), ("spec", "runtime", "transport"))
        extensions: dict[str, Any] = {}
        for key, value in spec.items():
            if key in SERVER_FIELDS:
                server[key] = value
            elif key != "runtime":
                extensions[key] = value
                moves.record(("extensions", key), ("spec", key))
        out["spec"] = server
        if extensions:
            out["extensions"] = extensions
    else:
        notes.append((("spec",), "an Mcp resource needs `spec: {url: ...}`"))
    return out
