"""Which model server each tier talks to: the provider specs and the factory that makes clients.

The local tier and the escalation tier each take a provider: `ollama` (Ollama's native API, the
default local tier) or `openai` (any OpenAI-compatible server: llama.cpp, vLLM, LM Studio,
Ollama's `/v1`, OpenAI itself, or Anthropic's OpenAI-compatible endpoint for `escalate_to:
claude`), with a base URL, a model and a key. A spec's `judge` is what makes two tiers one
judge: the same provider kind, base URL and model answer the same question the same way, so the
cascade asks such a model once (see `troubleshoot.cascade`).

Keys: the local tier's is the keychain entry `local_credential`, else
AGENTHUB_TROUBLESHOOT_LOCAL_API_KEY (a local server usually needs none); the escalation tier's is
the keychain entry `openai_credential`, else AGENTHUB_TROUBLESHOOT_ESCALATION_API_KEY, else the
vendor's own variable (OPENAI_API_KEY, ANTHROPIC_API_KEY). A key never appears in a spec's dump.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Literal

from pydantic import BaseModel, SecretStr

from bridges.llm.base import LlmProvider, ModeMemory
from troubleshoot.diagnosis import TierName
from troubleshoot.settings import TroubleshootSettings

ProviderKind = Literal["ollama", "openai"]
OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
CLAUDE_DEFAULT_URL = "https://api.anthropic.com/v1/"
LOCAL_KEY_ENV = "AGENTHUB_TROUBLESHOOT_LOCAL_API_KEY"
ESCALATION_KEY_ENV = "AGENTHUB_TROUBLESHOOT_ESCALATION_API_KEY"
_VENDOR_KEY_ENV = {"openai": "OPENAI_API_KEY", "claude": "ANTHROPIC_API_KEY"}
LOCAL_PLACEHOLDER_KEY = "no-key"
"""Sent to a keyless local OpenAI-compatible server (the client insists on some key)."""


class ProviderSpec(BaseModel):
    """One tier's server: provider kind, base URL (resolved), model, key and output cap."""

    tier: TierName
    provider: ProviderKind
    model: str
    base_url: str
    api_key: SecretStr | None = None
    max_tokens: int = 400

    @property
    def judge(self) -> tuple[str, str, str]:
        """Who answers: one model on one server is one judge, however many tiers reach it."""
        return (self.provider, self.base_url.rstrip("/"), self.model)

    @property
    def label(self) -> str:
        return f"{self.provider} {self.model} @ {self.base_url.rstrip('/')}"


def _resolved_url(provider: ProviderKind, given: str | None, environ: Mapping[str, str]) -> str:
    if given:
        return given
    if provider == "ollama":
        return environ.get("OLLAMA_HOST") or OLLAMA_DEFAULT_URL
    return environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_URL


def local_spec(
    settings: TroubleshootSettings, keychain: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> ProviderSpec:
    env = os.environ if environ is None else environ
    key = (keychain or {}).get(settings.local_credential) if settings.local_credential else env.get(LOCAL_KEY_ENV)
    if settings.local_provider == "openai" and not key and not settings.local_credential:
        key = LOCAL_PLACEHOLDER_KEY
    return ProviderSpec(
        tier="ollama", provider=settings.local_provider, model=settings.local_model,
        base_url=_resolved_url(settings.local_provider, settings.local_base_url, env),
        api_key=SecretStr(key) if key else None, max_tokens=settings.max_output_tokens,
    )


def escalation_spec(
    settings: TroubleshootSettings, keychain: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> ProviderSpec | None:
    """The escalation tier's server, or None when `escalate_to` is `none`. A configured keychain
    entry with no value means no key (never a silent fall-back to another key)."""
    if settings.escalate_to == "none":
        return None
    env = os.environ if environ is None else environ
    if settings.openai_credential:
        key = (keychain or {}).get(settings.openai_credential)
    else:
        key = env.get(ESCALATION_KEY_ENV) or env.get(_VENDOR_KEY_ENV[settings.escalate_to])
    url = settings.escalation_base_url or (
        CLAUDE_DEFAULT_URL if settings.escalate_to == "claude" else _resolved_url("openai", None, env)
    )
    return ProviderSpec(
        tier="openai", provider="openai", model=settings.openai_model, base_url=url,
        api_key=SecretStr(key) if key else None, max_tokens=settings.max_output_tokens,
    )


class Providers:
    """The default provider factory: real clients, one `ModeMemory` shared by every client it
    makes (so what a server accepted is remembered across diagnoses for as long as the hub runs)."""

    def __init__(self) -> None:
        self.modes = ModeMemory()

    def __call__(self, spec: ProviderSpec) -> LlmProvider:
        key = spec.api_key.get_secret_value() if spec.api_key else None
        if spec.provider == "ollama":
            from bridges.llm.ollama_provider import OllamaProvider

            return OllamaProvider(spec.model, host=spec.base_url, max_tokens=spec.max_tokens, modes=self.modes)
        from bridges.llm.openai_provider import OpenAIProvider

        return OpenAIProvider(
            spec.model, api_key=key, base_url=spec.base_url, schema_name="diagnosis",
            max_tokens=spec.max_tokens, modes=self.modes, key_from_env=False,
        )


ProviderFactory = Callable[[ProviderSpec], LlmProvider]
"""spec -> a provider; the cascade's seam for tests and the eval."""
