"""Troubleshoot settings: which knobs apply to one failure, most specific first.

Precedence (the first layer that sets a knob wins, knob by knob):
1. the failed step's `on_failure:`
2. the playbook's `on_failure:`
3. the environment: `AGENTHUB_AUTO_TROUBLESHOOT` (1/true/yes/on or 0/false/no/off) — the
   `troubleshoot` switch only, like NoETL's `NOETL_AGENT_AUTO_TROUBLESHOOT`
4. the server config (`HubConfig.troubleshoot`, e.g. from `AGENTHUB_TROUBLESHOOT_CONFIG`)
5. the defaults below; automatic diagnosis is off by default.
The per-step layer sits on top so an operator can turn diagnosis off for an inner-loop step whose
failures are expected (the few seconds of a model call would dominate), or on for one flaky call.
On-demand diagnosis (`agenthub diagnose`, the hub tool, the REST endpoint) ignores the switch but
uses the other knobs the same way. Unknown knobs are ignored with a warning, never forwarded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from catalog.model import TroubleshootKnobs

log = logging.getLogger("agenthub.troubleshoot")

ENV_SWITCH = "AGENTHUB_AUTO_TROUBLESHOOT"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
KNOBS = ("troubleshoot", "ollama_model", "confidence_threshold", "escalate_to", "openai_model", "openai_credential", "budget")


class TroubleshootSettings(BaseModel):
    """The resolved knobs for one diagnosis, and where the on/off switch came from."""

    enabled: bool = False
    enabled_by: Literal["step", "playbook", "env", "server", "default", "on_demand"] = "default"
    ollama_model: str = "gemma2:2b"
    confidence_threshold: float = Field(default=0.7, ge=0, le=1)
    escalate_to: Literal["openai", "none"] = "openai"
    openai_model: str = "gpt-4o-mini"
    openai_credential: str | None = Field(
        default=None, description="Keychain entry holding the OpenAI key; else OPENAI_API_KEY."
    )
    budget: float = Field(default=20.0, gt=0, description="Seconds for the whole diagnosis, every tier included.")


def env_switch(environ: Mapping[str, str]) -> bool | None:
    raw = environ.get(ENV_SWITCH)
    if raw is None or not raw.strip():
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    log.warning("%s=%r is neither true (1/true/yes/on) nor false (0/false/no/off); ignored", ENV_SWITCH, raw)
    return None


def _known(knobs: TroubleshootKnobs | None, where: str) -> dict[str, Any]:
    if knobs is None:
        return {}
    extra = sorted((knobs.model_extra or {}).keys())
    if extra:
        log.warning("unknown troubleshoot knob(s) in %s ignored: %s (known: %s)", where, ", ".join(extra), ", ".join(KNOBS))
    return {k: getattr(knobs, k) for k in KNOBS if getattr(knobs, k) is not None}


def resolve(
    *,
    step: TroubleshootKnobs | None = None,
    playbook: TroubleshootKnobs | None = None,
    server: TroubleshootKnobs | None = None,
    environ: Mapping[str, str] | None = None,
    on_demand: bool = False,
) -> TroubleshootSettings:
    """Merge the layers knob by knob; `on_demand` forces the switch on (and says so)."""
    env = os.environ if environ is None else environ
    layers: list[tuple[str, dict[str, Any]]] = [
        ("step", _known(step, "the step's on_failure")),
        ("playbook", _known(playbook, "the playbook's on_failure")),
    ]
    switch = env_switch(env)
    layers.append(("env", {} if switch is None else {"troubleshoot": switch}))
    layers.append(("server", _known(server, "the server config")))
    values: dict[str, Any] = {}
    enabled_by = "default"
    for name, layer in layers:
        for knob, value in layer.items():
            if knob not in values:
                values[knob] = value
                if knob == "troubleshoot":
                    enabled_by = name
    enabled = bool(values.pop("troubleshoot", False))
    if on_demand:
        enabled, enabled_by = True, "on_demand"
    return TroubleshootSettings(enabled=enabled, enabled_by=enabled_by, **values)
