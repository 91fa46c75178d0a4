"""`tool.kind: playbook`: run another catalog playbook as a sub-execution.

The child gets only the step's rendered arguments (validated against its own input schema; nothing
of the parent's context leaks): the step `input`, over the tool's `args` / `payload` / `input`
(NoETL's names for the same thing). It shares the parent's deadline and counts one level towards
the depth limit. `path` is a catalog path or tool name, or a file path relative to the calling
playbook's own file (`./child.yaml`). `return_step` answers with that step's output of the child
instead of the child's result. The step's envelope is the child's, so its `execution_id` is the
child's.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.contract.envelope import Envelope
from hub.contract.steps import StepCall


class PlaybookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Catalog path, tool name (`path@N` pins), or `./file.yaml` next to this playbook.")
    version: int | None = Field(default=None, ge=1, description="Version pin; default the current one.")
    args: dict[str, Any] = Field(default_factory=dict, description="Arguments of the child.")
    payload: dict[str, Any] = Field(default_factory=dict, description="Arguments of the child (NoETL's name).")
    input: dict[str, Any] = Field(default_factory=dict, description="Arguments of the child (NoETL's name).")
    return_step: str | None = Field(default=None, description="Answer with this step's output of the child.")
    timeout: float | None = Field(default=None, gt=0, description="Seconds; the step's own `timeout` is the same.")


class PlaybookKind:
    name = "playbook"
    config_model = PlaybookConfig
    raw_fields: frozenset[str] = frozenset()
    default_retry = None
    deadline_aware = True

    async def run(self, call: StepCall) -> Envelope:
        config = call.config
        assert isinstance(config, PlaybookConfig)
        arguments = {**config.args, **config.payload, **config.input, **call.input}
        if config.return_step is None:
            return await call.context.dispatcher.run_playbook(
                config.path, arguments, parent=call.context, version=config.version
            )
        return await call.context.dispatcher.run_playbook(
            config.path, arguments, parent=call.context, version=config.version, return_step=config.return_step
        )
