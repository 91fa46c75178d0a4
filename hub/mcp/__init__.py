"""The MCP face: the server built on the official SDK's low-level `Server`.

Tool listing and paging, `tools/call` into the engine, the reserved `hub_` tools and the
resources. It may import what lies below the faces (`hub.contract`, `hub.engine`, `hub.store`,
`catalog/`, `troubleshoot/`, `hub.app`, `hub.report`, `hub.config`), never `hub.http` or
`hub.cli`; the transports (stdio, streamable HTTP) mount it from above.
"""
