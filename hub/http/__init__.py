"""The HTTP face: the Starlette app that serves MCP over streamable HTTP and the REST API.

REST routes, their pydantic models and plumbing, the OpenAPI document built from them, bearer and
JWT auth, and `serve` (flags, security defaults, shutdown). It may import everything the MCP face
may, and `hub.mcp`; never `hub.cli`.
"""
