"""Agent bridges: `tool.kind: agent` with the frameworks adk, langchain, custom and noetl.

One module per framework (`custom`, `langchain`, `adk`, `noetl`) beside the shared pieces: the
tool block (`config`), building and keeping runtimes (`runtimes`), the optional packages
(`dependencies`), JSON-able outputs (`outputs`) and the envelope (`outcome`); `kind` ties them
together. Importing this package never imports google-adk or langchain-core: the adk and langchain
modules are imported when a step of theirs first runs.
"""

from bridges.agent.kind import AgentKind

__all__ = ["AgentKind"]
