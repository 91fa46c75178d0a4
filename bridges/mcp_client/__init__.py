"""`tool.kind: mcp`: a client of other MCP servers (catalog `kind: McpServer` definitions), built
on the official `mcp` SDK `Client`, with sessions kept per server."""

from bridges.mcp_client.kind import McpConfig, McpKind

__all__ = ["McpConfig", "McpKind"]
