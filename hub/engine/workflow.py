"""Running one execution's workflow: steps, retries, timeouts, loops, `set`, `result` and arcs.

The engine (hub.engine) prepares an `ExecutionState` and owns the execution's lifecycle; this
module walks the step graph. The first step of `workflow:` starts; after a step succeeds its
`next` arcs pick what runs next (first match, or every match, which run side by side). A failed
step ends the execution with that step's error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from catalog.model import RetryPolicy, Step, ToolSpec
from hub.contract.plain_data import MAX_OUTPUT_DEPTH, encoding_problem
from hub.contract.envelope import Envelope, ErrorInfo, Failure, StepRef
from hub.contract.errors import ErrorCode
from hub.contract.records import EventType
from hub.engine.loops import run_loop
from hub.engine.state import ExecutionState
from hub.engine.step_configs import StepConfigs
from hub.engine.step_errors import brief, child_error, unexpected
from hub.engine.policies import admitted, decide, failure_route, keeps_envelope
from hub.engine.retry import backoff_delay, retries
from hub.engine.scopes import assign, outcome, select
from hub.contract.steps import StepCall, StepKind

log = logging.getLogger("agenthub.engine")

_ONE_ATTEMPT = RetryPolicy(attempts=1)
DEADLINE_SAFETY_NET = 1.0
"""Seconds past the deadline before the engine stops work that should have ended itself there."""

class StepFailed(Exception):
    def __init__(self, error: ErrorInfo) -> None:
        super().__init__(error.message)
        self.error = error


class WorkflowRun:
    """Walks the step graph of one execution."""

    def __init__(
        self,
        state: ExecutionState,
        kinds: Callable[[str], StepKind | None],
        render: Callable[[Any, dict[str, Any], str], Any],
        truthy: Callable[[Any, dict[str, Any], str], bool],
        *,
        max_activations: int,
        rng: Any,
        configs: StepConfigs | None = None,
    ) -> None:
        self.state = state
        self._kind = kinds
        self._render = render
        self._truthy = truthy
        self._max_activations = max_activations
        self._rng = rng
        self._configs = configs if configs is not None else StepConfigs()
        self._jumps: dict[str, str] = {}

    async def run(self) -> Any:
        """Run to the end and give the playbook's result; raises StepFailed on the first failure."""
        active: set[asyncio.Task[list[str]]] = set()

        def launch(name: str) -> None:
            self._count_activation()
            active.add(asyncio.create_task(self._activate(name), name=f"step:{name}"))

        ready = [self.state.entry.playbook.entry_step]
        try:
            while ready or active:
                if len(ready) == 1 and not active:
                    # a straight path: run the step inline, no task to schedule
                    name = ready.pop()
                    self._count_activation()
                    ready.extend(await self._activate(name))
                    continue
                for name in ready:
                    launch(name)
                ready.clear()
                done, _ = await asyncio.wait(active, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    active.discard(task)
                    ready.extend(task.result())  # re-raises StepFailed
        finally:
            for task in active:
                task.cancel()
            if active:
                await asyncio.gather(*active, return_exceptions=True)
        playbook = self.state.entry.playbook
        if playbook.declares_result:
            try:
                return self._render(playbook.result, self.state.render_context(), "result")
            except Failure as failure:
                raise StepFailed(failure.error) from None
        return self.state.final_result

    def _count_activation(self) -> None:
        self.state.activations += 1
        if self.state.activations > self._max_activations:
            raise StepFailed(
                ErrorInfo.of(
                    ErrorCode.STEP_LIMIT_EXCEEDED,
                    f"more than {self._max_activations} step activations; an arc cycle does not end",
                )
            )

    async def _activate(self, name: str) -> list[str]:
        state = self.state
        step = state.entry.playbook.step_named(name)
        if step.spec is not None and not self._admitted(step):
            state.emit(EventType.STEP_FINISHED, step=name, kind=step.kind, skipped=True, output=None)
            return []
        event = "loop.done" if step.loop is not None else "call.done"
        routed: tuple[int, str] | None = None
        try:
            if step.loop is not None:
                data = await self._run_loop(step)
            else:
                data = await self._run_body(step, {}, None)
        except StepFailed as failed:
            routed = self._failure_routes(step, failed.error)
            if routed is None:
                raise
            data, event = outcome(None, failed.error), routed[1]
        try:
            data = select(data, step.output)
            state.outputs[name] = data
            # the names `set`, `result` and the arcs see; a step with none of them needs none
            uses_ctx = step.set or step.declares_result or (step.next is not None and name not in self._jumps)
            ctx = state.render_context({"output": data, "result": data, "event": {"name": event}}) if uses_ctx else {}
            for key, value in (step.set or {}).items():
                self._assign(key, self._render(value, ctx, f"{name}.set.{key}"), None)
            if step.set:
                ctx = state.render_context({"output": data, "result": data, "event": {"name": event}})
            if step.declares_result:
                state.result = self._render(step.result, ctx, f"{name}.result")
            state.last_output = data
            jump = self._jumps.pop(name, None)
            if jump is not None:
                return [jump]
            if step.next is None:
                return []
            if routed is not None:  # the arc that matched the failure, and only that one
                arc = step.next.arcs[routed[0]]
                for key, value in (arc.set or {}).items():
                    self._assign(key, self._render(value, ctx, f"{name}.next[{routed[0]}].set.{key}"), None)
                return [arc.step]
            return self._follow(step, ctx)
        except Failure as failure:
            state.emit(EventType.STEP_FAILED, step=name, kind=step.kind, error=brief(failure.error))
            raise self._fail(step, failure.error) from None

    def _follow(self, step: Step, ctx: dict[str, Any]) -> list[str]:
        """The arcs taken: the first match, or every match."""
        assert step.next is not None
        targets: list[str] = []
        for i, arc in enumerate(step.next.arcs):
            if self._truthy(arc.when, ctx, f"{step.step}.next[{i}].when"):
                for key, value in (arc.set or {}).items():
                    self._assign(key, self._render(value, ctx, f"{step.step}.next[{i}].set.{key}"), None)
                targets.append(arc.step)
                if step.next.mode == "first":
                    break
        return targets

    def _admitted(self, step: Step) -> bool:
        try:
            return admitted(step, self.state.render_context(), self._truthy)
        except Failure as failure:
            raise self._fail(step, failure.error) from None

    def _failure_routes(self, step: Step, error: ErrorInfo) -> tuple[int, str] | None:
        return failure_route(step, outcome(None, error), self.state.render_context, self._truthy)

    def _assign(self, key: str, value: Any, iteration: dict[str, Any] | None) -> None:
        assign(key, value, variables=self.state.vars, ctx=self.state.ctx, iteration=iteration)

    async def _run_body(self, step: Step, extra: dict[str, Any], iteration: int | None) -> Any:
        """One run of the step's body: its tool, each task of its pipeline, or (no tool) the
        previous step's output passed on."""
        tool = step.tool
        if isinstance(tool, ToolSpec):
            return await self._run_tool(step, tool, extra, iteration, None)
        if not tool:
            self.state.emit(EventType.STEP_STARTED, step=step.step, kind="noop", attempt=1, iteration=iteration)
            data = self.state.last_output
            self.state.emit(EventType.STEP_FINISHED, step=step.step, kind="noop", attempt=1, duration=0.0, output=data)
            return data
        done: dict[str, Any] = {}
        previous: Any = None
        for task in tool:
            label, spec = next(iter(task.items()))
            previous = await self._run_tool(step, spec, {**extra, **done, "_prev": previous}, iteration, label)
            done[label] = previous
        return previous

    async def _run_loop(self, step: Step) -> list[Any]:
        assert step.loop is not None
        loop = step.loop
        try:
            items = self._render(loop.in_, self.state.render_context(), f"{step.step}.loop.in")
        except Failure as failure:
            raise self._fail(step, failure.error) from None
        if not isinstance(items, (list, tuple)):
            raise self._fail(
                step,
                ErrorInfo.of(
                    ErrorCode.LOOP_INPUT_INVALID,
                    f"{step.step}.loop.in rendered to {type(items).__name__}, not a list",
                ),
            )
        return await run_loop(loop, items, lambda extra, i: self._run_body(step, extra, i), StepFailed)

    async def _run_tool(
        self, step: Step, tool: ToolSpec, extra: dict[str, Any], iteration: int | None, task: str | None
    ) -> Any:
        state = self.state
        logged = state.replay.get((step.step, iteration))
        if logged:  # finished before this run was resumed: its output comes from the log
            return logged.pop(0)
        kind = self._kind(tool.kind)
        if kind is None:
            raise self._fail(step, ErrorInfo.of(ErrorCode.UNKNOWN_TOOL_KIND, f"no step kind {tool.kind!r}"))
        ctx = state.render_context(extra)
        where = step.step if iteration is None else f"{step.step}[{iteration}]"
        if task is not None:
            where = f"{where}.{task}"
        labels = {"task": task} if task is not None else {}
        try:
            config = self._config(step, tool, kind, ctx, where)
            step_input = self._render(step.input or {}, ctx, f"{where}.input") if task is None else {}
            if not isinstance(step_input, dict):
                raise Failure.of(ErrorCode.STEP_CONFIG_INVALID, f"{where}.input must render to a mapping")
        except Failure as failure:
            state.emit(EventType.STEP_FAILED, step=step.step, kind=kind.name, iteration=iteration,
                       error=brief(failure.error), **labels)
            raise self._fail(step, failure.error) from None
        policy = step.retry or (tool.retry.policy() if tool.retry else None) or (
            None if tool.rules else kind.default_retry) or _ONE_ATTEMPT
        iteration_scope = extra.get("iter") if isinstance(extra.get("iter"), dict) else None
        continues = keeps_envelope(tool)
        attempt = state.resume_attempts.pop((step.step, iteration), 1)
        while True:
            state.emit(EventType.STEP_STARTED, step=step.step, kind=kind.name, attempt=attempt, iteration=iteration, **labels)
            started = time.monotonic()
            data, error, child_id = await self._attempt(step, kind, config, step_input, attempt, ctx, iteration, continues)
            took = round(time.monotonic() - started, 6)
            if error is None:  # checked here, so a bad value never reaches an event or the store
                problem = encoding_problem(data, MAX_OUTPUT_DEPTH)
                if problem is not None:
                    data, error = None, ErrorInfo.of(
                        ErrorCode.OUTPUT_NOT_SERIALIZABLE, f"{where}: the output cannot be stored: {problem}")
            try:
                # without rules, and not keeping the envelope, no decision is made (`decide`)
                decision = decide(tool, data, outcome(data, error, child_id), ctx, attempt, where, self._render,
                                  self._truthy, lambda k, v: self._assign(k, v, iteration_scope)
                                  ) if continues or tool.rules else None
            except Failure as failure:
                raise self._fail(step, failure.error) from None
            if decision is not None:
                data, error, retry_delay = decision.output, decision.error, decision.retry_delay
                if decision.jump is not None:
                    self._jumps[step.step] = decision.jump
            else:
                retry_delay = None if error is None else self._retry_delay(policy, error, attempt)
            if error is None and retry_delay is None:
                facts: dict[str, Any] = {"kind": kind.name, "attempt": attempt, "duration": took, "output": data, **labels}
                if iteration is not None:
                    facts["iteration"] = iteration
                if child_id is not None:
                    facts["child_execution_id"] = child_id
                state.emit(EventType.STEP_FINISHED, step=step.step, **facts)
                if state.checkpoint is not None:
                    await state.checkpoint()
                return self._after_tool(step, tool, data, ctx, iteration_scope, where)
            if retry_delay is not None:
                said = brief(error) if error is not None else {"code": "POLICY_RETRY"}
                state.emit(
                    EventType.STEP_RETRIED, step=step.step, kind=kind.name, attempt=attempt,
                    iteration=iteration, delay=round(retry_delay, 3), error=said, **labels,
                )
                await asyncio.sleep(retry_delay)
                attempt += 1
                continue
            assert error is not None
            state.emit(
                EventType.STEP_FAILED, step=step.step, kind=kind.name, attempt=attempt,
                iteration=iteration, duration=took, error=brief(error), **labels,
            )
            raise self._fail(step, error)

    def _after_tool(self, step: Step, tool: ToolSpec, data: Any, ctx: dict[str, Any],
                    iteration_scope: dict[str, Any] | None, where: str) -> Any:
        data = select(data, tool.output)
        if tool.set:
            after = {**ctx, "output": data, "result": data}
            try:
                for key, value in tool.set.items():
                    self._assign(key, self._render(value, after, f"{where}.tool.set.{key}"), iteration_scope)
            except Failure as failure:
                raise self._fail(step, failure.error) from None
        return data

    def _config(self, step: Step, tool: ToolSpec, kind: StepKind, ctx: dict[str, Any], where: str) -> BaseModel:
        fixed = self._configs.fixed(tool, kind, lambda raw: self._checked_config(kind, raw, where))
        if fixed is not None:
            return fixed
        rendered = {
            k: v if k in kind.raw_fields else self._render(v, ctx, f"{where}.tool.{k}")
            for k, v in tool.config.items()
        }
        return self._checked_config(kind, rendered, where)

    @staticmethod
    def _checked_config(kind: StepKind, rendered: dict[str, Any], where: str) -> BaseModel:
        try:
            return kind.config_model.model_validate(rendered)
        except ValidationError as exc:
            problems = "; ".join(
                f"tool.{'.'.join(str(p) for p in e['loc']) or kind.name}: {e['msg']}" for e in exc.errors()
            )
            raise Failure.of(ErrorCode.STEP_CONFIG_INVALID, f"{where}: {problems}") from None

    async def _attempt(
        self, step: Step, kind: StepKind, config: BaseModel, step_input: dict[str, Any], attempt: int,
        template_context: dict[str, Any], iteration: int | None = None,
        continues: bool = False,
    ) -> tuple[Any, ErrorInfo | None, str | None]:
        ctx = self.state.context
        limit, by_deadline = step.timeout, False
        remaining = ctx.remaining()
        if remaining is not None and (limit is None or remaining <= limit):
            limit, by_deadline = max(remaining, 0.0), True
            if kind.deadline_aware:  # it ends itself at the deadline; this timer is a safety net
                limit += DEADLINE_SAFETY_NET
        if continues and step.on_failure is not None:
            # the step goes on with the sub-run's envelope, so no failure of this run will be
            # diagnosed: the sub-run's own failure is, with this step's knobs
            ctx = dataclasses.replace(ctx, caller_on_failure=step.on_failure)
        call = StepCall(
            step=step.step, kind=kind.name, config=config, input=step_input, context=ctx,
            attempt=attempt, iteration=iteration, progress=lambda message, facts: self.state.emit(
                EventType.STEP_PROGRESS, step=step.step, message=message, **facts
            ),
            template_context=template_context,
        )
        scope: asyncio.Timeout | None = None
        try:
            if limit is None:  # no step timeout and no deadline: no timer to arm
                result = await kind.run(call)
            else:
                async with asyncio.timeout(limit) as scope:
                    result = await kind.run(call)
        except TimeoutError:
            if scope is None or not scope.expired():
                return None, unexpected(kind, TimeoutError("timed out inside the step")), None
            if by_deadline:
                return None, ErrorInfo.of(ErrorCode.DEADLINE_EXCEEDED, f"{step.step}: the execution's deadline passed"), None
            return None, ErrorInfo.of(ErrorCode.STEP_TIMEOUT, f"{step.step}: no answer within {step.timeout:g}s"), None
        except Failure as failure:
            return failure.data, failure.error, None
        except Exception as exc:  # a step kind let an exception out: still an envelope
            log.exception("step kind %s raised", kind.name)
            return None, unexpected(kind, exc), None
        if isinstance(result, Envelope):
            if result.ok:
                return result.data, None, result.execution_id
            return None, child_error(result), result.execution_id
        return result, None, None

    def _retry_delay(self, policy: RetryPolicy, error: ErrorInfo, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None when the step should fail now."""
        if attempt >= policy.attempts or not retries(policy, error):
            return None
        delay = backoff_delay(policy, attempt, self._rng)
        retry_after = (error.details or {}).get("retry_after")
        if isinstance(retry_after, (int, float)):
            delay = max(delay, min(float(retry_after), policy.max_delay))
        remaining = self.state.context.remaining()
        if remaining is not None and delay >= remaining:
            return None
        return delay

    @staticmethod
    def _fail(step: Step, error: ErrorInfo) -> StepFailed:
        if error.step is None:
            error = error.model_copy(update={"step": StepRef(name=step.step, kind=step.kind)})
        return StepFailed(error)
