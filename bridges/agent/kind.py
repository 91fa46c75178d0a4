"""`tool.kind: agent`: hand a step to an agent runtime and get the agent envelope back.

One kind serves every framework (`custom`, `langchain`, `adk`: Python runtimes built from an
entrypoint; `noetl`: a catalog playbook run as a sub-execution). Whatever runs underneath, the
step's result is the full agent envelope `{status, framework, entrypoint, data, execution_id,
duration}`, so a playbook reads `{{ ask.data }}`, `{{ ask.execution_id }}` the same way for all.

- `execution_id`: for noetl the child's execution; for the Python frameworks the id of the
  execution the step runs in (the agent has no run of its own in the hub: its events, progress and
  failure are that execution's, so the id is one `agenthub executions show` finds). Always set.
- `duration`: for noetl the child's whole run; for Python frameworks measured around the whole
  step attempt (checking the block, importing and building the runtime on first use, the call).
- A failed agent fails the step (no NoETL carve-out where an error envelope let the step succeed),
  with the agent's error kind and code; `retry:` applies as for any step. The error's `details`
  carry `framework`, `entrypoint` and `duration`, because a failed step's error is what the
  execution keeps.
- Never an exception: a wrong key, an unknown framework, an entrypoint that does not import, a
  payload that does not fit, a missing optional package are `agent.configuration` or
  `agent.dependency` envelopes with a code (docs/agents.md lists them all).

Time: the step's `timeout` (the agent's own) and the execution's deadline are both enforced here,
for every framework, so a slow agent ends as an envelope too (AGENT_TIMEOUT, or
DEADLINE_EXCEEDED when the shared deadline binds); hence `deadline_aware = True` for the whole
kind. A noetl child ends itself at the deadline (the engine runs it under the parent's deadline,
or the step's tighter timeout) and reports its own id; the Python runtimes are stopped by a
timer here. Sync agents run in a worker thread, which Python cannot kill: on a timeout the step
ends at once, but the thread finishes its call in the background.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from typing import Any, Protocol

from bridges.agent.config import ALIASES, FRAMEWORKS, AgentConfig, AgentToolBlock, ConfigProblem, parse_config
from bridges.agent.dependencies import require
from bridges.agent.noetl import run_noetl
from bridges.agent.outcome import AGENT_KIND, AgentFailed, EnvelopeFacts, Outcome
from bridges.agent.runtimes import Runtimes
from hub.contract.envelope import ErrorInfo, Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall

log = logging.getLogger("agenthub.agent")

NOETL_SAFETY_NET = 1.0
"""Seconds past a noetl step's own timeout before the wait is cut (the child should end itself)."""

_FRAMEWORK_CLASSES = {
    "custom": ("bridges.agent.custom", "CustomFramework"),
    "langchain": ("bridges.agent.langchain", "LangChainFramework"),
    "adk": ("bridges.agent.adk", "AdkFramework"),
}
"""Imported on first use: the langchain and adk modules import their (optional) libraries."""


class PythonFramework(Protocol):
    name: str

    def is_runtime(self, obj: Any) -> bool: ...

    async def adapt(self, obj: Any, config: AgentConfig) -> Any: ...

    async def invoke(self, runtime: Any, config: AgentConfig, call: StepCall) -> Outcome: ...


class AgentKind:
    name = "agent"
    config_model = AgentToolBlock
    dsl_model = AgentConfig
    """The strict model: the catalog checks literal blocks with it; `run` re-checks rendered ones."""
    raw_fields: frozenset[str] = frozenset()
    default_retry = None
    deadline_aware = True

    def __init__(self) -> None:
        self._runtimes = Runtimes()
        self._frameworks: dict[str, PythonFramework] = {}

    async def run(self, call: StepCall) -> dict[str, Any]:
        started = time.monotonic()
        given = call.config  # the engine's AgentToolBlock; an embedding caller may pass AgentConfig
        if isinstance(given, AgentConfig):
            block = given.model_dump(exclude_unset=True)
        else:
            block = dict(given.model_extra or {})
        facts = _facts(block, call)
        execution_id: str | None = None
        run_duration: float | None = None
        try:
            config = given if isinstance(given, AgentConfig) else parse_config(block)
            outcome = await self._run(config, call)
        except ConfigProblem as problem:
            error = problem.error
        except AgentFailed as failed:
            error, execution_id, run_duration = failed.error, failed.execution_id, failed.duration
        except Failure as failure:
            error = failure.error
        except Exception as exc:  # a bug of ours (or a library's) outside the agent call
            log.exception("agent step %s failed unexpectedly", call.step)
            error = ErrorInfo.of(ErrorCode.INTERNAL_ERROR, f"agent kind raised {type(exc).__name__}: {exc}")
        else:
            return facts.ok(outcome, time.monotonic() - started).to_dict()
        envelope = facts.failed(
            error, time.monotonic() - started, execution_id=execution_id, run_duration=run_duration
        )
        assert envelope.error is not None
        raise Failure(envelope.error, data=envelope.to_dict())

    async def _run(self, config: AgentConfig, call: StepCall) -> Outcome:
        if config.runtime == "noetl":
            net = None if config.timeout is None else config.timeout + NOETL_SAFETY_NET
            try:
                async with asyncio.timeout(net):
                    return await run_noetl(config, call)
            except TimeoutError:
                raise Failure.of(
                    ErrorCode.AGENT_TIMEOUT, f"playbook {config.entrypoint} did not end within {config.timeout:g}s"
                ) from None
        limit, by_deadline = config.timeout, False
        remaining = call.context.remaining()
        if remaining is not None and (limit is None or remaining <= limit):
            limit, by_deadline = max(remaining, 0.0), True
        try:
            async with asyncio.timeout(limit) as scope:
                return await self._run_python(config, call)
        except TimeoutError:
            if not scope.expired():
                raise
            if by_deadline:
                raise Failure.of(
                    ErrorCode.DEADLINE_EXCEEDED, "the execution's deadline passed while the agent ran"
                ) from None
            raise Failure.of(
                ErrorCode.AGENT_TIMEOUT, f"the agent did not answer within {config.timeout:g}s"
            ) from None

    async def _run_python(self, config: AgentConfig, call: StepCall) -> Outcome:
        await require(config.runtime)
        framework = await self._framework(config.runtime)
        runtime = await self._runtimes.get(config, framework)
        return await framework.invoke(runtime, config, call)

    async def _framework(self, name: str) -> PythonFramework:
        framework = self._frameworks.get(name)
        if framework is None:
            module_name, class_name = _FRAMEWORK_CLASSES[name]
            module = await asyncio.to_thread(importlib.import_module, module_name)
            framework = self._frameworks[name] = getattr(module, class_name)()
        return framework

    async def aclose(self) -> None:
        await self._runtimes.aclose()


def _facts(block: dict[str, Any], call: StepCall) -> EnvelopeFacts:
    """The envelope's framework and entrypoint as far as the (maybe invalid) block tells."""
    framework = block.get("framework")
    framework = ALIASES.get(framework, framework) if isinstance(framework, str) else None
    entrypoint = block.get("entrypoint")
    return EnvelopeFacts(
        framework=framework if framework in FRAMEWORKS else AGENT_KIND,
        entrypoint=entrypoint if isinstance(entrypoint, str) else None,
        execution_id=call.context.execution_id,
    )
