"""The troubleshoot agent as a catalog playbook's Python step (playbooks/troubleshoot/).

How the step reaches the store: not through its input (that is the caller's data, and a store is
not data), and not by opening the database by path (a hub started with `--db` would be read from
the wrong file, and a second writer would race the hub's). The engine sets the running
execution's `RunContext` for the task (`hub.contract.hooks.current_run()`); its dispatcher is the hub's
engine, whose store and catalog are the ones the hub serves. So the playbook diagnoses executions
of the very hub that runs it, however that hub was started. Outside a hub run the function says so.

Authorisation: the step diagnoses only what the caller who started it may read, under the same
rule as the REST endpoint and the `hub_` tools (`hub.contract.access`, with the caller's token
subject and scopes carried in the `RunContext`); anything else is "no execution", unread.

Recursion: the playbook declares the `troubleshooting` capability, so its own runs carry
`troubleshoot_depth = 1` and the failure hook never diagnoses them (a failing diagnosis cannot
start another); this function runs the cascade in-process and starts no playbook.
"""

from __future__ import annotations

from typing import Any, Protocol

from catalog.catalog import Catalog
from catalog.model import TroubleshootKnobs
from hub.contract.access import Caller, ExecutionAccess
from hub.contract.hooks import current_run
from hub.contract.store import EventStore
from troubleshoot.hook import TroubleshootHook
from troubleshoot.ondemand import diagnose_execution


class _Engine(Protocol):
    store: EventStore
    catalog: Catalog
    failure_hooks: list[Any]


class _RunningHub:
    """The parts of the hub behind the current run, in the shape `diagnose_execution` takes."""

    def __init__(self, engine: _Engine) -> None:
        self.store = engine.store
        self.catalog = engine.catalog
        hook = next((h for h in engine.failure_hooks if isinstance(h, TroubleshootHook)), None)
        self.config = _Config(hook.server if hook else TroubleshootKnobs())
        self.providers = hook.providers if hook else None


class _Config:
    def __init__(self, troubleshoot: TroubleshootKnobs) -> None:
        self.troubleshoot = troubleshoot


async def diagnose(
    execution_id: str,
    ollama_model: str | None = None,
    confidence_threshold: float | None = None,
    escalate_to: str | None = None,
    openai_model: str | None = None,
    budget: float | None = None,
) -> dict[str, Any]:
    """Diagnose a failed execution of this hub; the knobs given override the configured ones."""
    run = current_run()
    engine = getattr(run, "dispatcher", None)
    if run is None or not all(hasattr(engine, a) for a in ("store", "catalog", "failure_hooks")):
        raise RuntimeError("troubleshoot.agent:diagnose runs only as a step of a hub execution")
    hub = _RunningHub(engine)  # type: ignore[arg-type]
    knobs = TroubleshootKnobs.model_validate({
        k: v for k, v in {
            "ollama_model": ollama_model or None, "confidence_threshold": confidence_threshold,
            "escalate_to": escalate_to or None, "openai_model": openai_model or None, "budget": budget,
        }.items() if v is not None
    })
    extra = {"providers": hub.providers} if hub.providers is not None else {}
    access = getattr(getattr(engine, "settings", None), "access", None) or ExecutionAccess()
    caller = Caller(subject=run.started_by, scopes=run.caller_scopes)  # who started this diagnosis
    diagnosis = await diagnose_execution(
        hub, execution_id.strip(), knobs=knobs, allowed=lambda record: access.allows(record, caller), **extra
    )
    return {"execution_id": execution_id.strip(), **diagnosis.to_dict()}
