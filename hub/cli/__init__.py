"""The `agenthub` command: `main` builds the parser, one module per command group does the work.

The outermost face: it may import anything in `hub/`. Command modules import their heavy parts
lazily so `agenthub --help` stays fast.
"""
