"""The engine: executions from start to envelope.

Starting and finishing executions, walking a workflow (arcs, loops, retries), deadlines and cancel
watching, execution ids, the step-kind registry and the built-in `noop` and `playbook` kinds. It
may import `hub.contract` and `catalog/`; it reaches the step kinds of `bridges/` through the
registry by name, never by import, and talks to storage only through the store protocol.
"""
