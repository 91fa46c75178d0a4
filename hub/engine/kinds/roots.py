"""`tool.kind: roots`: ask the calling MCP client for its roots (the folders, or files, its user
works in; MCP roots), so a playbook started from an IDE can act on the open project.

The step answers `{roots: [{uri, name}]}` (`file://` URIs). Without a caller to ask (REST, CLI, a
cluster worker) or one without the roots capability, the step fails NO_MCP_CALLER /
CLIENT_CAPABILITY_MISSING; with `if_unavailable: skip` it answers `{roots: []}` instead.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.contract.caller import RootsQuestion
from hub.contract.steps import StepCall
from hub.engine.kinds.asking import question_key, reachable_caller, unreachable


class RootsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    if_unavailable: Literal["fail", "skip"] = Field(
        default="fail", description="`skip`: without an MCP caller that has roots, answer no roots."
    )


class RootsKind:
    name = "roots"
    config_model = RootsConfig
    raw_fields: frozenset[str] = frozenset()
    default_retry = None
    deadline_aware = False

    def client_capability(self, config: dict[str, Any]) -> str | None:
        return None if config.get("if_unavailable") == "skip" else "roots"

    async def run(self, call: StepCall) -> dict[str, Any]:
        config = call.config
        assert isinstance(config, RootsConfig)
        caller = reachable_caller(call, "roots")
        if caller is None:
            if config.if_unavailable == "skip":
                return {"roots": []}
            raise unreachable(call, "roots", "asks for the caller's roots")
        roots = await caller.roots(RootsQuestion(key=question_key(call)))
        return {"roots": [root.model_dump() for root in roots]}
