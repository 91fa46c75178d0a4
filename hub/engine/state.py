"""What one running execution knows: its entry, inputs, secrets, variables and step outputs, the
resume data of a redelivered run, and the names its templates see (`render_context`). Built by the
engine's admission, walked by `hub.engine.workflow`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from catalog.entries import CatalogEntry
from hub.contract.secrets import Redactor
from hub.contract.steps import RunContext

_NO_RESULT = object()

Emit = Callable[..., None]
"""emit(event_type, step=None, **data): records an event of the running execution."""


@dataclass
class ExecutionState:
    """Everything one running execution knows: its inputs, secrets, variables and step outputs."""

    entry: CatalogEntry
    arguments: dict[str, Any]
    keychain: dict[str, str]
    redactor: Redactor
    context: RunContext
    emit: Emit
    vars: dict[str, Any] = field(default_factory=dict)
    ctx: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    result: Any = _NO_RESULT
    last_output: Any = None
    activations: int = 0
    replay: dict[tuple[str, int | None], list[Any]] = field(default_factory=dict)
    """Resuming a run (its worker died): outputs of the step attempts the event log records as
    finished, by (step, loop index), in order. Such a step is not run again; its logged output is
    used. Filled by the engine from `step.finished` events."""
    resume_attempts: dict[tuple[str, int | None], int] = field(default_factory=dict)
    """Resuming: the attempt number the interrupted step (and loop item) continues with."""
    checkpoint: Callable[[], Awaitable[None]] | None = None
    """Awaited after each step attempt finishes (a worker makes `step.finished` durable before
    the next step starts, so a step that finished is never run again after a crash)."""
    _not_run: dict[str, None] | None = None

    def render_context(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Names a template sees: steps that did not run (as None: falsy), inputs, vars and step
        outputs by name, then the namespaces (`ctx`, `steps`, `job`, ...)."""
        if self._not_run is None:
            self._not_run = dict.fromkeys(s.step for s in self.entry.playbook.workflow)
        ctx: dict[str, Any] = {**self._not_run, **self.arguments, **self.vars, **self.outputs}
        ctx.update(
            input=self.arguments,
            workload=self.arguments,
            vars=self.vars,
            ctx=self.ctx,
            steps=self.outputs,
            keychain=self.keychain,
            execution_id=self.context.execution_id,
            job={"uuid": self.context.execution_id, "id": self.context.execution_id},
            playbook={"path": self.entry.path, "version": self.entry.version, "name": self.entry.name},
        )
        if extra:
            ctx.update(extra)
        return ctx

    @property
    def final_result(self) -> Any:
        return self.last_output if self.result is _NO_RESULT else self.result
