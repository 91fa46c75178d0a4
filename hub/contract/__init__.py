"""The contract: the shapes every part of agenthub shares, and nothing that runs them.

The agent envelope and its error table, execution and event records, the event-store protocol, the
step-kind protocol with `RunContext`, the failure-hook seam, and the two helpers step kinds share
with the engine (the sandboxed template renderer and the keychain reader/redactor). `bridges/` and
`troubleshoot/` see the hub only through this package. It may import `catalog/` and nothing else of
the project, so importing a contract module never pulls in the engine, a store or a server.
"""
