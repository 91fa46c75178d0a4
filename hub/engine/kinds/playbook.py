"""`tool.kind: playbook`: run another catalog playbook as a sub-execution.

The child gets only the step's rendered `input` as its arguments (validated against its own input
schema; nothing of the parent's context leaks), shares the parent's deadline, and counts one level
towards the depth limit. The step's envelope is the child's, so its `execution_id` is the child's.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hub.contract.envelope import Envelope
from hub.contract.steps import StepCall


class PlaybookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Catalog path or tool name of the playbook to run (`path@N` pins).")
    version: int | None = Field(default=None, ge=1, description="Version pin; default the current one.")


class PlaybookKind:
    name = "playbook"
    config_model = PlaybookConfig
    raw_fields: frozenset[str] = frozenset()
    default_retry = None
    deadline_aware = True

    async def run(self, call: StepCall) -> Envelope:
        config = call.config
        assert isinstance(config, PlaybookConfig)
        return await call.context.dispatcher.run_playbook(
            config.path, dict(call.input), parent=call.context, version=config.version
        )
