"""Entrypoints of the bundled example playbooks (playbooks/examples/agents, playbooks/examples/mcp).

Everything here runs offline: the LangChain chains use langchain-core's fake chat models, the ADK
agent a scripted local model, and the MCP server is a small stdio server on the `mcp` SDK. The adk
and langchain modules need their extras (`pip install 'agenthub[adk,langchain]'`).
"""
