"""`tool.kind: secrets`: read one secret as a step, its value masked everywhere it is shown.

NoETL's fields: `provider` and `secret_name` (`version`, `project_id` are accepted and unused
here). The hub's providers: `keychain` (default; an entry of the playbook's `keychain:`),
`env` (an environment variable of the hub) and `file` (a file's content, stripped). For `env` and
`file` the name must be written in the playbook, not templated, so a caller cannot pick which of the
hub's variables or files to read. NoETL's cloud providers (google, aws, azure) cannot run here and
answer TOOL_KIND_UNAVAILABLE.

The answer is `{status, provider, secret_name, secret_value}`: later steps use
`{{ step.secret_value }}`, while the run's redactor learns the value first, so every event,
envelope, report and diagnosis shows `***` instead.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall
from hub.contract.templates import Templates, is_template

PROVIDERS = ("keychain", "env", "file")
CLOUD_PROVIDERS = ("google", "gcp", "aws", "azure", "vault")


class SecretsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(default="keychain", description="keychain, env or file.")
    secret_name: str = Field(description="Keychain entry, environment variable or file path.")
    version: str | int | None = None
    project_id: str | None = None


def _read(provider: str, name: str) -> str | None:
    if provider == "env":
        return os.environ.get(name)
    path = Path(os.path.expanduser(name))
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


class SecretsKind:
    name = "secrets"
    config_model = SecretsConfig
    raw_fields: frozenset[str] = frozenset({"secret_name"})
    default_retry = None
    deadline_aware = False

    async def run(self, call: StepCall) -> Any:
        config = call.config
        assert isinstance(config, SecretsConfig)
        provider = config.provider.strip().lower()
        where = f"{call.step}.tool"
        if provider not in PROVIDERS:
            code = ErrorCode.TOOL_KIND_UNAVAILABLE if provider in CLOUD_PROVIDERS else ErrorCode.STEP_CONFIG_INVALID
            raise Failure.of(code, f"{where}.provider: {config.provider!r} is not a provider of this hub; "
                                   f"use one of {', '.join(PROVIDERS)}")
        name = config.secret_name
        if provider == "keychain":
            name = str(Templates().render(name, call.template_context, f"{where}.secret_name"))
            value = call.context.keychain.get(name)
        elif is_template(name):
            raise Failure.of(ErrorCode.STEP_CONFIG_INVALID,
                             f"{where}.secret_name: write the {provider} name in the playbook; a template "
                             "would let a caller choose which of the hub's secrets to read")
        else:
            value = await asyncio.to_thread(_read, provider, name)
        if value is None:
            raise Failure.of(ErrorCode.SECRET_NOT_FOUND, f"{where}: no {provider} secret {name!r}")
        text = value if isinstance(value, str) else str(value)
        call.context.redactor.learn(text)
        return {"status": "success", "provider": provider, "secret_name": name, "secret_value": text}
