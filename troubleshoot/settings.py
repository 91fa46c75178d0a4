"""Troubleshoot settings: which knobs apply to one failure, most specific first.

Precedence (the first layer that sets a knob wins, knob by knob):
1. the failed step's `on_failure:`
2. the playbook's `on_failure:`
3. the environment: `AGENTHUB_AUTO_TROUBLESHOOT` (1/true/yes/on or 0/false/no/off) for the
   `troubleshoot` switch, like NoETL's `NOETL_AGENT_AUTO_TROUBLESHOOT`, and
   `AGENTHUB_TROUBLESHOOT_<KNOB>` for the provider knobs (`ENV_KNOBS`, e.g.
   AGENTHUB_TROUBLESHOOT_LOCAL_PROVIDER=openai)
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
KNOBS = (
    "troubleshoot", "local_provider", "local_base_url", "local_model", "local_credential", "confidence_threshold",
    "escalate_to", "escalation_base_url", "escalation_model", "openai_credential", "budget", "max_output_tokens",
    "calibration_dir",
)
LEGACY = {"ollama_model": "local_model", "openai_model": "escalation_model"}
"""Older knob names, still read (the newer name wins within one layer)."""
ENV_KNOBS = ("local_provider", "local_base_url", "local_model", "escalate_to", "escalation_base_url",
             "escalation_model", "max_output_tokens", "calibration_dir")
ENV_PREFIX = "AGENTHUB_TROUBLESHOOT_"
DEFAULT_ESCALATION_MODEL = {"openai": "gpt-4o-mini", "claude": "claude-haiku-4-5", "none": "gpt-4o-mini"}


class TroubleshootSettings(BaseModel):
    """The resolved knobs for one diagnosis, and where the on/off switch came from."""

    enabled: bool = False
    enabled_by: Literal["step", "playbook", "env", "server", "default", "on_demand"] = "default"
    local_provider: Literal["ollama", "openai"] = Field(
        default="ollama", description="ollama (native API) or openai (any OpenAI-compatible server)."
    )
    local_base_url: str | None = Field(default=None, description="Else OLLAMA_HOST / OPENAI_BASE_URL.")
    local_model: str = "gemma2:2b"
    local_credential: str | None = Field(default=None, description="Keychain entry holding the local server's key.")
    confidence_threshold: float = Field(default=0.7, ge=0, le=1)
    escalate_to: Literal["openai", "claude", "none"] = "openai"
    escalation_base_url: str | None = Field(
        default=None, description="An OpenAI-compatible endpoint; else OPENAI_BASE_URL (openai) or Anthropic's (claude)."
    )
    escalation_model: str | None = Field(default=None, description="Else gpt-4o-mini (openai) / claude-haiku-4-5 (claude).")
    openai_credential: str | None = Field(
        default=None, description="Keychain entry holding the escalation tier's key; else the environment's."
    )
    budget: float = Field(default=20.0, gt=0, description="Seconds for the whole diagnosis, every tier included.")
    max_output_tokens: int = Field(default=400, ge=16, le=8192, description="Output cap on every model call.")
    calibration_dir: str | None = Field(default=None, description="Where calibration profiles are read from.")

    @property
    def ollama_model(self) -> str:
        """The local tier's model (the knob's older name)."""
        return self.local_model

    @property
    def openai_model(self) -> str:
        """The escalation tier's model, defaulted by `escalate_to`."""
        return self.escalation_model or DEFAULT_ESCALATION_MODEL[self.escalate_to]


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
    values = {k: getattr(knobs, k) for k in KNOBS if getattr(knobs, k, None) is not None}
    for old, new in LEGACY.items():
        if getattr(knobs, old, None) is not None and new not in values:
            values[new] = getattr(knobs, old)
    return values


def env_knobs(environ: Mapping[str, str]) -> dict[str, Any]:
    """The provider knobs the environment sets (AGENTHUB_TROUBLESHOOT_<KNOB>, empty = unset)."""
    return {k: environ[ENV_PREFIX + k.upper()].strip() for k in ENV_KNOBS if (environ.get(ENV_PREFIX + k.upper()) or "").strip()}


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
    layers.append(("env", {**env_knobs(env), **({} if switch is None else {"troubleshoot": switch})}))
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
