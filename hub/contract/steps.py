"""The step-kind and dispatcher protocols: how the engine hands one step to the code that runs it.

A contract module: `bridges/` implements step kinds against it without importing the engine.
A step kind validates its own `tool:` block (`config_model`), is given the rendered config and
step input in a `StepCall`, and returns the step's data (or a child `Envelope`), or raises
`hub.contract.envelope.Failure`. Anything else it raises becomes an error envelope at the engine's boundary.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from catalog.model import RetryPolicy, TroubleshootKnobs
from hub.contract.caller import CallerChannel
from hub.contract.envelope import Envelope
from hub.contract.secrets import Redactor

Progress = Callable[[str, dict[str, Any]], None]
"""Reports step progress: (message, facts). Cheap and non-blocking."""


class Dispatcher(Protocol):
    """Runs a catalog playbook as a sub-execution of the caller (the `playbook` kind, `noetl` agents)."""

    async def run_playbook(
        self,
        ref: str,
        arguments: dict[str, Any],
        *,
        parent: RunContext,
        version: int | None = None,
        return_step: str | None = None,
    ) -> Envelope: ...


@dataclass(frozen=True)
class RunContext:
    """What a step may know about the execution it runs in."""

    execution_id: str
    playbook_path: str
    dispatcher: Dispatcher
    depth: int = 0
    ancestry: tuple[str, ...] = ()
    deadline: float | None = None
    """`time.monotonic()` value after which the execution has run out of time, or None."""
    troubleshoot_depth: int = 0
    """Set above 0 inside a troubleshoot run so the hook never diagnoses itself."""
    started_by: str | None = None
    """Subject of the token that started the top-level run (None without auth)."""
    keychain: Mapping[str, Any] = field(default_factory=dict)
    """The run's resolved keychain by entry name, for kinds whose `auth:` names an entry."""
    redactor: Redactor = field(default_factory=Redactor)
    """The run's redactor; a kind that reads a secret teaches it the value (`Redactor.learn`)."""
    caller_scopes: frozenset[str] | None = None
    """Scopes of the token that started the top-level run (None without auth): a step acting on
    the hub for the caller (the troubleshoot playbook) checks access with them."""
    required_scopes: tuple[str, ...] = ()
    """Scopes this run requires of a reader (its own, its current version's and its parents')."""
    caller_on_failure: TroubleshootKnobs | None = None
    """The `on_failure` knobs of the step that started this sub-run: they decide whether (and how)
    the sub-run's failure is diagnosed, before its own playbook's (NoETL's agent `on_failure`)."""
    caller: CallerChannel | None = None
    """The MCP client that started the top-level run, for steps that ask it something (`elicit`,
    `sample`); None for REST, CLI and cluster-worker runs. Sub-runs share their parent's."""

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


@dataclass
class StepCall:
    """One attempt of one step (one loop item, when the step loops)."""

    step: str
    kind: str
    config: BaseModel
    input: dict[str, Any]
    context: RunContext
    attempt: int = 1
    progress: Progress = field(default=lambda message, facts: None)
    template_context: Mapping[str, Any] = field(default_factory=dict)
    """The names the step's templates see. A kind that renders its own raw fields (SQL with bound
    parameters, shell-quoted commands) renders them against this, with its own finalize."""
    iteration: int | None = None
    """The loop item's index when the step loops."""

    @property
    def idempotency_key(self) -> str:
        """Stable for this attempt of this step (and loop item) of this execution, across processes:
        an attempt run again after its worker died (at-least-once) sends the same key, so a server
        honouring `Idempotency-Key` can do the work once."""
        where = f"{self.context.execution_id}/{self.step}/{'' if self.iteration is None else self.iteration}/{self.attempt}"
        return hashlib.sha256(where.encode("utf-8")).hexdigest()[:32]


class StepKind(Protocol):
    """A registered tool kind (`tool.kind`)."""

    name: str
    config_model: type[BaseModel]
    """Validates the `tool:` block without `kind`; also gives the DSL schema for editors."""
    raw_fields: frozenset[str]
    """Config fields that are not templates (e.g. inline code), passed as written."""
    default_retry: RetryPolicy | None
    """Used when a step has no `retry:`; None means one attempt."""
    deadline_aware: bool
    """True when the kind ends its work at `RunContext.deadline` itself and reports it (sub-runs
    do, so the parent learns the child's id); the engine then only arms a later safety net."""

    def run(self, call: StepCall) -> Awaitable[Any]: ...


class Closable(Protocol):
    async def aclose(self) -> None: ...
