"""`framework: custom`: any Python callable, or an object with an invoke-like method.

The method is `invoke_method`, else the first of `ainvoke, invoke, run_async, run, __call__` the
runtime has. The payload reaches it by signature inspection (`bridges.callables.plan_call`): a
mapping whose keys fit is spread as keyword arguments (with `invoke_kwargs` over them), otherwise
the whole payload goes to an input-like parameter (`input`, `payload`, `state`, `request`,
`message`, `query`, ...); a mismatch is PAYLOAD_MISMATCH naming what does not fit, before anything
runs. Sync callables run in a worker thread, async ones on the loop; generators and async
generators are drained into a list. An exception inside is AGENT_ERROR (type and text).
"""

from __future__ import annotations

from typing import Any

from bridges.agent.config import AgentConfig
from bridges.agent.outcome import Outcome
from bridges.agent.outputs import jsonable
from bridges.agent.runtimes import resolve_method
from bridges.callables import PlanError, call, plan_call
from bridges.entrypoints import exception_details
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall

METHODS = ("ainvoke", "invoke", "run_async", "run", "__call__")


class CustomFramework:
    name = "custom"

    def is_runtime(self, obj: Any) -> bool:
        return False  # any callable entrypoint is a factory in factory mode

    async def adapt(self, obj: Any, config: AgentConfig) -> Any:
        return obj

    async def invoke(self, runtime: Any, config: AgentConfig, call_: StepCall) -> Outcome:
        method = resolve_method(runtime, config.invoke_method, METHODS)
        try:
            plan = plan_call(method, config.payload, config.invoke_kwargs)
        except PlanError as exc:
            raise Failure.of(ErrorCode.PAYLOAD_MISMATCH, str(exc)) from None
        result = await run_agent(method, plan.args, plan.kwargs)
        return Outcome(jsonable(result))


async def run_agent(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call the agent; its exception becomes AGENT_ERROR (a `Failure` it raises passes through)."""
    try:
        return await call(method, args, kwargs)
    except Failure:
        raise
    except Exception as exc:
        raise agent_error(exc) from None


def agent_error(exc: BaseException) -> Failure:
    return Failure.of(ErrorCode.AGENT_ERROR, f"{type(exc).__name__}: {exc}", details=exception_details(exc))
