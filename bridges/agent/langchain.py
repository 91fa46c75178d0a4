"""`framework: langchain`: any Runnable (a chain, an agent graph, a chat model), invoked with
`ainvoke(payload, config)`.

The payload is the Runnable's input, passed as it is and never spread as keyword arguments (the
NoETL bug: a dict payload splatted into `ainvoke(**payload)`). The config carries a run name, tags
and metadata naming the execution, the playbook, the step and the attempt, so a LangChain tracer
(LangSmith, a callback handler) ties its trace to the hub's execution; a `config` in
`invoke_kwargs` is merged with it (its tags added, its metadata under the hub's keys). Messages
(AIMessage and friends) become their content; other outputs are made JSON-able (pydantic models
dumped). `invoke_method` may name another method (`invoke`, `abatch`, `astream`: streams are
drained into a list of chunks, each chunk made JSON-able the same way).

Imported only when a langchain step runs (langchain-core is the `langchain` extra).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable

from bridges.agent.config import AgentConfig
from bridges.agent.custom import run_agent
from bridges.agent.outcome import Outcome
from bridges.agent.outputs import jsonable
from bridges.agent.runtimes import resolve_method
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall

TAG = "agenthub"


class LangChainFramework:
    name = "langchain"

    def is_runtime(self, obj: Any) -> bool:
        return isinstance(obj, Runnable)

    async def adapt(self, obj: Any, config: AgentConfig) -> Any:
        if isinstance(obj, Runnable):
            return obj
        if config.invoke_method is not None and callable(getattr(obj, config.invoke_method, None)):
            return obj  # a Runnable-like object whose method the step names
        raise Failure.of(
            ErrorCode.INVALID_RUNTIME,
            f"framework langchain needs a Runnable, and {config.entrypoint} gave a {type(obj).__name__} "
            "(use framework custom for plain callables)",
        )

    async def invoke(self, runtime: Any, config: AgentConfig, call: StepCall) -> Outcome:
        method = resolve_method(runtime, config.invoke_method or "ainvoke", ())
        kwargs = dict(config.invoke_kwargs)
        run_config = run_config_for(call, kwargs.pop("config", None))
        result = await run_agent(method, (config.payload,), {"config": run_config, **kwargs})
        return Outcome(jsonable(message_content(result)))


def run_config_for(call: StepCall, given: Any) -> dict[str, Any]:
    """The RunnableConfig: run name, tags and metadata naming the execution (over a given config)."""
    context = call.context
    metadata = {
        "execution_id": context.execution_id,
        "playbook": context.playbook_path,
        "step": call.step,
        "attempt": call.attempt,
    }
    tags = [TAG, f"step:{call.step}"]
    config: dict[str, Any] = {"run_name": f"{context.playbook_path}.{call.step}"}
    if isinstance(given, Mapping):
        config.update(given)
        tags = [*(given.get("tags") or []), *tags]
        metadata = {**(given.get("metadata") or {}), **metadata}
    config["tags"] = list(dict.fromkeys(tags))
    config["metadata"] = metadata
    return config


def message_content(value: Any) -> Any:
    """Messages (also inside lists and dicts, as `abatch`/`astream` and graphs return) -> content."""
    if isinstance(value, BaseMessage):
        return value.content
    if isinstance(value, Mapping):
        return {k: message_content(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [message_content(v) for v in value]
    return value
