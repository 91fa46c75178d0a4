"""The failure-hook contract: what the engine hands a hook when a run fails, and the marker that
keeps the troubleshoot agent from diagnosing itself.

A contract module (imports only other contract modules and `catalog`), so `troubleshoot/` can
implement a hook without importing the engine. A hook is awaited with a `FailedRun` after the
run's `execution.finished` event and before its envelope is stored; it returns the envelope to
store and answer with (the same one, or a copy with `error.diagnosis` set). The engine logs a
hook's exception and keeps the envelope it had; a hook that is cancelled leaves it unchanged too.

`current_run()` gives code that a step calls (a Python step's function) the `RunContext` of the
execution it runs in. The engine sets it per execution task, so it is never shared between runs;
it is how the troubleshoot playbook's Python step reaches the hub's own store (its dispatcher)
without a "current hub" passing through the step input, which is data from the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from catalog.entries import CatalogEntry
from hub.contract.envelope import Envelope
from hub.contract.secrets import Redactor
from hub.contract.steps import RunContext

TROUBLESHOOT_CAPABILITY = "troubleshooting"
"""A playbook declaring this capability is a troubleshoot agent: its runs (and their sub-runs)
carry `RunContext.troubleshoot_depth >= 1`, and failure hooks never diagnose them."""


@dataclass(frozen=True)
class FailedRun:
    """Everything a failure hook may use about the run that just failed."""

    envelope: Envelope
    """The error envelope about to be stored (already redacted)."""
    context: RunContext
    entry: CatalogEntry
    keychain: Mapping[str, str]
    """The run's resolved keychain: the values to redact, and credentials a hook may use."""
    redactor: Redactor
    emit: Callable[..., None]
    """emit(event_type, step=None, **data): records an event of the failed execution (redacted)."""


FailureHook = Callable[[FailedRun], Awaitable[Envelope]]

_current_run: ContextVar[RunContext | None] = ContextVar("agenthub_current_run", default=None)


def current_run() -> RunContext | None:
    """The execution the calling code runs in, or None outside any execution."""
    return _current_run.get()


def enter_run(context: RunContext) -> Any:
    """Set the current run for this task (the engine calls it at the start of each execution)."""
    return _current_run.set(context)


def is_troubleshoot_agent(entry: CatalogEntry) -> bool:
    return TROUBLESHOOT_CAPABILITY in entry.capabilities
