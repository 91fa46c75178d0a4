"""Who may see or touch an execution, and which scopes a run of a playbook requires.

A contract module, because every face (REST, MCP tools, MCP resources, the `hub_` tools) and the
bundled troubleshoot playbook must apply one rule, not four copies of it.

Why the rule reads the execution record and not the catalog: a playbook can leave the catalog, or
be pinned to an old version, after a run started; the scopes the run required are stored on the
record when it starts (`ExecutionRecord.required_scopes`) and checked from there. What a run
requires is the strictest of the version that runs and the current version of the same path (so
pinning `evolve@1` never skips a scope added in version 2), plus everything its parent chain
required (a sub-run holds the parent's data, so it is as private as the parent).

A record without stored scopes (a call to an unknown playbook, or one written before the stores
recorded them) fails closed: only the subject that started it and an admin token may read it.
With subject isolation on (`--isolate-subjects`), every execution is visible only to the subject
that started it and to tokens holding the admin scope. With auth off (`Caller.scopes is None`)
everything is visible: the hub then listens on loopback only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.contract.records import ExecutionRecord

ADMIN_SCOPE = "agenthub:admin"
"""A token with this scope may read and touch every execution, whatever isolation says."""


@dataclass(frozen=True)
class Caller:
    """The identity a request carries: its token's subject and scopes (None: auth is off)."""

    subject: str | None = None
    scopes: frozenset[str] | None = None

    @property
    def authenticated(self) -> bool:
        return self.scopes is not None


ANONYMOUS = Caller()
"""No auth configured (stdio, CLI, loopback HTTP without a verifier): no restriction."""


def strictest_scopes(*scope_lists: Iterable[str] | None) -> tuple[str, ...]:
    """The union of scope lists, sorted: a caller needs all of them.

    >>> strictest_scopes(["billing"], ["billing", "audit"], None)
    ('audit', 'billing')
    """
    found: set[str] = set()
    for scopes in scope_lists:
        found.update(scopes or ())
    return tuple(sorted(found))


@dataclass(frozen=True)
class ExecutionAccess:
    """The execution authorisation rule of one hub."""

    isolate_subjects: bool = False
    """Only the starting subject (and `admin_scope`) may see or touch an execution."""
    admin_scope: str = ADMIN_SCOPE

    def allows(self, record: ExecutionRecord, caller: Caller) -> bool:
        """Whether `caller` may read, cancel or diagnose the execution `record`."""
        scopes = caller.scopes
        if scopes is None:
            return True
        if self.admin_scope in scopes:
            return True
        own = record.started_by is not None and record.started_by == caller.subject
        if record.required_scopes is None or self.isolate_subjects:
            return own and set(record.required_scopes or ()) <= scopes
        return set(record.required_scopes) <= scopes
