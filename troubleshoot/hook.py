"""The engine's failure hook: diagnose a failed run when enabled and attach the diagnosis.

Guarantees, each with a test:
- Off unless enabled (settings precedence in `troubleshoot.settings`).
- Never diagnoses the troubleshoot agent itself: a run whose `RunContext.troubleshoot_depth` is
  above 0 (a playbook with the `troubleshooting` capability, and everything it starts) is passed
  through untouched, so a failing diagnosis cannot trigger another one. The hook itself calls the
  model tiers in-process, never a playbook, so it cannot loop through the engine either.
- Augments, never replaces: the diagnosis goes into `error.diagnosis`; status, code and message are
  the ones the run produced (the engine checks that too).
- Any failure inside the hook (the store, the signal, a tier raising, the budget running out)
  returns the original envelope object exactly as it came in, and records nothing.

When the failure came from a sub-run that was already diagnosed, the child's diagnosis is reused
(recorded as a `child` tier) instead of paying for the same diagnosis twice.

Every hub builds this hook, few runs fail with troubleshooting on: the settings resolver, the
signal extractor, the redaction and the LLM providers are imported by the methods that use them,
and the provider factory is built on first use, so a hub's start-up does not load them.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from catalog.model import TroubleshootKnobs
from hub.contract.envelope import Envelope
from hub.contract.hooks import FailedRun
from hub.contract.records import EventType
from hub.contract.store import EventStore
from troubleshoot.diagnosis import Diagnosis, TierRun

if TYPE_CHECKING:
    from troubleshoot.providers import ProviderFactory
    from troubleshoot.settings import TroubleshootSettings

log = logging.getLogger("agenthub.troubleshoot")

BUDGET_SLACK = 1.0
"""Seconds past the budget before the hook gives up on the cascade (tiers end at the budget)."""


def attach(envelope: Envelope, diagnosis: Diagnosis) -> Envelope:
    """A copy of the envelope with `error.diagnosis` set; nothing else of the error changes."""
    assert envelope.error is not None
    error = envelope.error.model_copy(update={"diagnosis": diagnosis.to_dict()})
    return envelope.model_copy(update={"error": error})


def status_of(envelope: Envelope) -> str:
    kind = envelope.error.kind if envelope.error else None
    return {"agent.cancelled": "cancelled", "agent.timeout": "timed_out"}.get(kind or "", "failed")


class TroubleshootHook:
    """A `hub.contract.hooks.FailureHook`. One per hub; holds no per-run state."""

    def __init__(
        self,
        store: EventStore,
        *,
        server: TroubleshootKnobs | None = None,
        environ: Mapping[str, str] | None = None,
        providers: ProviderFactory | None = None,
    ) -> None:
        self.store = store
        self.server = server or TroubleshootKnobs()
        self._environ = environ
        self._providers = providers

    @property
    def providers(self) -> ProviderFactory:
        """The LLM provider factory (`troubleshoot.providers.Providers` unless one was given)."""
        if self._providers is None:
            from troubleshoot.providers import Providers

            self._providers = Providers()
        return self._providers

    @providers.setter
    def providers(self, factory: ProviderFactory) -> None:
        self._providers = factory

    def settings_for(self, failed: FailedRun) -> TroubleshootSettings:
        from troubleshoot.settings import resolve

        playbook = failed.entry.playbook
        step_knobs = failed.context.caller_on_failure
        step = failed.envelope.error.step if failed.envelope.error else None
        if step is not None and step_knobs is None:
            try:
                step_knobs = playbook.step_named(step.name).on_failure
            except KeyError:
                step_knobs = None
        environ = os.environ if self._environ is None else self._environ
        return resolve(step=step_knobs, playbook=playbook.on_failure, server=self.server, environ=environ)

    async def __call__(self, failed: FailedRun) -> Envelope:
        envelope = failed.envelope
        if envelope.error is None or failed.context.troubleshoot_depth > 0:
            return envelope
        try:
            settings = self.settings_for(failed)
            if not settings.enabled:
                return envelope
            async with asyncio.timeout(settings.budget + BUDGET_SLACK):
                diagnosis = await self.diagnose(failed, settings)
            augmented = attach(envelope, diagnosis)
            failed.emit(EventType.DIAGNOSIS_FINISHED, trigger="auto", diagnosis=diagnosis.to_dict())
            return augmented
        except Exception:  # diagnostics augment failures; they never make one
            log.exception("troubleshoot hook failed for %s; the error is returned undiagnosed", envelope.execution_id)
            return envelope

    async def diagnose(self, failed: FailedRun, settings: TroubleshootSettings) -> Diagnosis:
        reused = await self._child_diagnosis(failed.envelope)
        if reused is not None:
            return reused
        await self.store.flush()  # the run's queued events become readable
        record = await self.store.get(failed.envelope.execution_id)
        if record is None:
            raise LookupError(f"execution {failed.envelope.execution_id} is not in the store")
        from troubleshoot.redaction import Scrubber
        from troubleshoot.signal import FailureSignal, collect_signal

        scrubber = Scrubber(failed.keychain.values())
        signal = await collect_signal(
            self.store, record, failed.envelope.to_dict(), status=status_of(failed.envelope), scrubber=scrubber
        )
        signal = FailureSignal.model_validate(failed.redactor(signal.model_dump(mode="json")))
        from troubleshoot.cascade import diagnose_signal  # here: the tiers and LLM clients load with the first diagnosis

        diagnosis = await diagnose_signal(signal, settings, keychain=failed.keychain, providers=self.providers)
        return Diagnosis.model_validate(scrubber(failed.redactor(diagnosis.to_dict())))

    async def _child_diagnosis(self, envelope: Envelope) -> Diagnosis | None:
        details: dict[str, Any] = (envelope.error.details if envelope.error else None) or {}
        child_id = details.get("child_execution_id")
        if not child_id:
            return None
        child = await self.store.get(str(child_id))
        found = ((child.envelope or {}).get("error") or {}).get("diagnosis") if child else None
        if not found:
            return None
        diagnosis = Diagnosis.model_validate(found)
        note = TierRun(tier="child", outcome="reused", detail=f"the diagnosis of sub-run {child_id}")
        return diagnosis.model_copy(update={"tiers": [note, *diagnosis.tiers]})
