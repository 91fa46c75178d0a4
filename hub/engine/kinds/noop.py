"""`tool.kind: noop`: does nothing and answers with its rendered step input (handy for joins)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.contract.steps import StepCall


class NoopConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoopKind:
    name = "noop"
    config_model = NoopConfig
    raw_fields: frozenset[str] = frozenset()
    default_retry = None
    deadline_aware = False

    async def run(self, call: StepCall) -> Any:
        return call.input or None
