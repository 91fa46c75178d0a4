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
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall


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
        caller = call.context.caller
        if caller is None or "roots" not in caller.capabilities:
            if config.if_unavailable == "skip":
                return {"roots": []}
            if caller is None:
                raise Failure.of(ErrorCode.NO_MCP_CALLER, f"step {call.step!r} asks for the caller's roots, but no "
                                 "MCP client started this run (REST, CLI or a cluster worker)")
            raise Failure.of(ErrorCode.CLIENT_CAPABILITY_MISSING, f"step {call.step!r} asks for the caller's "
                             "roots, but the calling MCP client did not declare the roots capability")
        key = call.step if call.iteration is None else f"{call.step}[{call.iteration}]"
        roots = await caller.roots(RootsQuestion(key=key))
        return {"roots": [root.model_dump() for root in roots]}
