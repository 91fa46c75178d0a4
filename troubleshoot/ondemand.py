"""Diagnose a stored execution on request: the CLI's `diagnose`, the hub MCP tool, the REST
endpoint and the troubleshoot playbook all call `diagnose_execution`.

On demand means regardless of the opt-in switch; the other knobs resolve as for the hook (the
failed step's and the playbook's `on_failure`, the server config, the defaults), under any
`knobs` the caller passes, which win. The diagnosis is recorded as a `diagnosis.finished` event
(`trigger: on_demand`) on the diagnosed execution; the stored envelope is left as it was (it is
what the run answered at the time).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from catalog.catalog import Catalog

from catalog.entries import CatalogEntry
from catalog.model import TroubleshootKnobs
from hub.contract.envelope import Failure
from hub.contract.records import EventRecord, EventType, ExecutionRecord
from hub.contract.secrets import resolve_keychain
from hub.contract.store import EventStore
from troubleshoot.cascade import diagnose_signal
from troubleshoot.diagnosis import Diagnosis
from troubleshoot.redaction import Scrubber
from troubleshoot.settings import TroubleshootSettings, resolve
from troubleshoot.providers import ProviderFactory
from troubleshoot.signal import FailureSignal, collect_signal

log = logging.getLogger("agenthub.troubleshoot")


class ExecutionNotFound(LookupError):
    """No execution with that id (or unique id prefix) in the store."""


class NotDiagnosable(ValueError):
    """The execution has not failed: it succeeded or still runs."""


class TroubleshootConfig(Protocol):
    @property
    def troubleshoot(self) -> TroubleshootKnobs: ...


class HubParts(Protocol):
    """What on-demand diagnosis needs of a hub (`hub.app.Hub` has it)."""

    @property
    def store(self) -> EventStore: ...

    @property
    def catalog(self) -> Catalog: ...

    @property
    def config(self) -> TroubleshootConfig: ...


def _keychain(entry: CatalogEntry | None) -> dict[str, str]:
    """The playbook's keychain as it resolves now: values to redact and the OpenAI credential.
    A missing entry is skipped (it cannot leak, and the diagnosis must not fail for it)."""
    if entry is None:
        return {}
    values: dict[str, str] = {}
    for item in entry.playbook.keychain:
        try:
            values.update(resolve_keychain([item.model_copy(update={"required": False})]))
        except (Failure, OSError):
            continue
    return values


def settings_for(
    record: ExecutionRecord,
    entry: CatalogEntry | None,
    *,
    server: TroubleshootKnobs | None,
    knobs: TroubleshootKnobs | None = None,
    environ: Mapping[str, str] | None = None,
) -> TroubleshootSettings:
    step_knobs = None
    step_name = (((record.envelope or {}).get("error") or {}).get("step") or {}).get("name")
    if entry is not None and step_name:
        try:
            step_knobs = entry.playbook.step_named(step_name).on_failure
        except KeyError:
            pass
    if knobs is not None:  # the caller's knobs over the step's: merge them into one top layer
        merged = {**(step_knobs.model_dump(exclude_none=True) if step_knobs else {}), **knobs.model_dump(exclude_none=True)}
        step_knobs = TroubleshootKnobs.model_validate(merged)
    return resolve(
        step=step_knobs, playbook=entry.playbook.on_failure if entry else None, server=server,
        environ=os.environ if environ is None else environ, on_demand=True,
    )


async def diagnose_execution(
    hub: HubParts,
    execution_id: str,
    *,
    knobs: TroubleshootKnobs | None = None,
    environ: Mapping[str, str] | None = None,
    providers: ProviderFactory | None = None,
    record_event: bool = True,
    allowed: Callable[[ExecutionRecord], bool] | None = None,
) -> Diagnosis:
    """Diagnose one failed execution of `hub`'s store. Raises ExecutionNotFound or NotDiagnosable;
    model tiers that fail are recorded in the diagnosis, never raised. `allowed` is the caller's
    access check (`hub.contract.access`): an execution it refuses is reported as not found, before
    anything of it is read or recorded."""
    record, entry = await _failed(hub, execution_id, allowed)
    settings = settings_for(record, entry, server=hub.config.troubleshoot, knobs=knobs, environ=environ)
    keychain = await asyncio.to_thread(_keychain, entry)  # may read secret files
    scrubber = Scrubber(keychain.values())
    signal = await collect_signal(hub.store, record, scrubber=scrubber)
    diagnosis = await diagnose_signal(signal, settings, keychain=keychain, providers=providers)
    diagnosis = Diagnosis.model_validate(scrubber(diagnosis.to_dict()))
    if record_event:
        hub.store.append(EventRecord(
            execution_id=record.id, type=EventType.DIAGNOSIS_FINISHED.value, at=time.time(),
            data={"trigger": "on_demand", "diagnosis": diagnosis.to_dict()},
        ))
        await hub.store.flush()
    return diagnosis


async def _failed(
    hub: HubParts, execution_id: str, allowed: Callable[[ExecutionRecord], bool] | None = None
) -> tuple[Any, Any]:
    """(record, catalog entry) of a finished, failed execution, or ExecutionNotFound / NotDiagnosable
    (also ExecutionNotFound when `allowed` refuses it, so its existence does not leak)."""
    record = await hub.store.get(execution_id)
    if record is None or (allowed is not None and not allowed(record)):
        raise ExecutionNotFound(f"no execution {execution_id!r}")
    error = (record.envelope or {}).get("error")
    if not record.status.finished:
        raise NotDiagnosable(f"execution {record.id} is still {record.status.value}")
    if not error:
        raise NotDiagnosable(f"execution {record.id} {record.status.value}; there is no failure to diagnose")
    return record, hub.catalog.get(record.playbook_path, record.playbook_version)


async def failure_signal(hub: HubParts, execution_id: str) -> FailureSignal:
    """The redacted failure signal of a stored failed execution (what `troubleshoot capture`
    stores): the run's keychain values masked, then every token shape."""
    record, entry = await _failed(hub, execution_id)
    keychain = await asyncio.to_thread(_keychain, entry)
    return await collect_signal(hub.store, record, scrubber=Scrubber(keychain.values()))
