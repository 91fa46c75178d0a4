"""Admitting a call into an execution: the limits (concurrency, sub-run depth), argument checks
(nesting, defaults, the input schema), the run's keychain and redactor, its deadline and its
`RunContext`. Everything that can refuse a call happens here, before the first step, so a refusal
is an envelope answered at once. A part of `Engine` (a mixin), kept apart because it is one idea.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from catalog.entries import CatalogEntry
from catalog.schema import apply_defaults, validate_arguments
from hub.contract.caller import CallerChannel
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.hooks import is_troubleshoot_agent
from hub.contract.plain_data import MAX_ARGUMENT_DEPTH, encoding_problem
from hub.contract.records import ExecutionRecord
from hub.contract.secrets import Redactor, resolve_keychain
from hub.contract.steps import RunContext
from hub.engine.kinds.registry import StepKinds
from hub.engine.outcomes import secret_values
from hub.engine.state import ExecutionState

if TYPE_CHECKING:
    from hub.engine.executions import EngineSettings, Listener


class Admission:
    """`Engine._prepare`: see the module docstring."""

    settings: EngineSettings
    kinds: StepKinds
    _top_level: set[str]

    def _prepare(
        self,
        record: ExecutionRecord,
        entry: CatalogEntry | None,
        ref: str | CatalogEntry,
        version: int | None,
        arguments: dict[str, Any],
        parent: RunContext | None,
        timeout: float | None,
        listener: Listener | None,
        caller_scopes: frozenset[str] | None = None,
        inherited: Redactor | None = None,
        *,
        check_limits: bool = True,
        caller: CallerChannel | None = None,
    ) -> ExecutionState:
        if entry is None:
            pinned = f" version {version}" if version else ""
            raise Failure.of(ErrorCode.PLAYBOOK_NOT_FOUND, f"no playbook {ref!r}{pinned} in the catalog")
        limit = self.settings.max_concurrent
        if check_limits and parent is None and limit is not None and len(self._top_level) >= limit:
            raise Failure.of(
                ErrorCode.TOO_MANY_EXECUTIONS,
                f"{limit} executions are already running (the hub's limit); try again shortly",
            )
        if check_limits and parent is not None and parent.depth + 1 > self.settings.max_depth:
            chain = " -> ".join([*parent.ancestry, parent.playbook_path, entry.path])
            raise Failure.of(
                ErrorCode.DEPTH_LIMIT_EXCEEDED,
                f"sub-run depth {parent.depth + 1} is over the limit of {self.settings.max_depth}: {chain}",
            )
        if caller is not None and parent is None:
            _check_capabilities(caller, self.kinds.client_capabilities(entry.playbook), entry.path)
        too_deep = encoding_problem(arguments, MAX_ARGUMENT_DEPTH)
        if too_deep is not None:  # before anything recursive (validation, redaction) walks them
            where = too_deep.replace("value", "input", 1)
            raise Failure.of(ErrorCode.INPUT_INVALID, where,
                             details={"errors": [{"path": where.split(":")[0], "message": where.split(": ", 1)[1]}]})
        args = apply_defaults(entry.playbook, arguments)
        problems = validate_arguments(entry.input_schema, args, validator=entry.input_validator)
        if problems:
            raise Failure.of(
                ErrorCode.INPUT_INVALID,
                "; ".join(f"{where}: {message}" for where, message in problems),
                details={"errors": [{"path": w, "message": m} for w, m in problems]},
            )
        keychain = resolve_keychain(entry.playbook.keychain)
        redactor = (inherited or Redactor()).with_secrets([*keychain.values(), *secret_values(entry, args)])
        record.arguments = redactor(args)
        own = timeout or entry.playbook.timeout or self.settings.default_timeout
        deadline = time.monotonic() + own if own else None
        if parent is not None and parent.deadline is not None:
            deadline = parent.deadline if deadline is None else min(deadline, parent.deadline)
        context = RunContext(
            execution_id=record.id,
            playbook_path=entry.path,
            dispatcher=self,
            depth=record.depth,
            ancestry=(*parent.ancestry, parent.playbook_path) if parent else (),
            deadline=deadline,
            troubleshoot_depth=(parent.troubleshoot_depth if parent else 0) + int(is_troubleshoot_agent(entry)),
            started_by=record.started_by,
            keychain=keychain,
            redactor=redactor,
            caller_scopes=caller_scopes,
            required_scopes=tuple(record.required_scopes or ()),
            caller_on_failure=parent.caller_on_failure if parent else None,
            caller=parent.caller if parent else caller,
        )

        def emit(event_type: str, step: str | None = None, **data: Any) -> None:
            self._emit_raw(record.id, listener, redactor, event_type, step, data)

        return ExecutionState(
            entry=entry, arguments=args, keychain=keychain, redactor=redactor, context=context, emit=emit
        )


def _check_capabilities(caller: CallerChannel, needed: frozenset[str], path: str) -> None:
    """Refuse a run whose steps need a client capability its MCP caller did not declare, before
    anything runs (a 2025-era client gets this envelope; the 2026 face refuses with -32021 first)."""
    missing = sorted(needed - caller.capabilities)
    if missing:
        raise Failure.of(
            ErrorCode.CLIENT_CAPABILITY_MISSING,
            f"playbook {path!r} needs the client capabilit{'ies' if len(missing) > 1 else 'y'} "
            f"{', '.join(missing)}, which this MCP client did not declare",
            details={"required_capabilities": missing},
        )
