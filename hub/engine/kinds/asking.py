"""What the kinds that ask the run's MCP caller (`elicit`, `sample`, `roots`) share: reaching the
caller with the capability they need, the failure that says why it cannot be reached, and the key
that names a question within its run (the id of a 2026-era input round)."""

from __future__ import annotations

from hub.contract.caller import CallerChannel
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall


def reachable_caller(call: StepCall, capability: str) -> CallerChannel | None:
    """The run's MCP caller when it declared `capability`, else None."""
    caller = call.context.caller
    return caller if caller is not None and capability in caller.capabilities else None


def unreachable(call: StepCall, capability: str, asks: str) -> Failure:
    """NO_MCP_CALLER without a caller, CLIENT_CAPABILITY_MISSING when it lacks `capability`."""
    if call.context.caller is None:
        return Failure.of(ErrorCode.NO_MCP_CALLER, f"step {call.step!r} {asks}, but no MCP client started "
                          "this run (REST, CLI or a cluster worker)")
    return Failure.of(ErrorCode.CLIENT_CAPABILITY_MISSING, f"step {call.step!r} {asks}, but the calling MCP "
                      f"client did not declare the {capability} capability")


def question_key(call: StepCall) -> str:
    """The step's name, with the loop item's index when it loops (`ask[2]`)."""
    return call.step if call.iteration is None else f"{call.step}[{call.iteration}]"
