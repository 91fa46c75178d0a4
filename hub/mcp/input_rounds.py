"""Elicitation and sampling for 2026-era calls: input rounds (SEP-2322, `InputRequiredResult`).

The 2026-07-28 protocol has no server-to-client requests. A tools/call whose run needs the
client's user or model answers `InputRequiredResult` (the questions, keyed, and a `requestState`);
the client asks its user or model and calls again with `inputResponses` and the echoed state.

The hub keeps the run going meanwhile rather than replaying it: the step that asked waits on a
future (`RoundCaller`), the call parks the run under a fresh single-use token (`InputRounds`), and
the retry carrying that token hands the answers over and waits for the next question or the end.
So earlier steps never run twice, and a run answers the same way whichever round it ends in. The
token is sealed by the SDK's `RequestStateBoundary` (AES-GCM, bound to the caller's identity and
a TTL), so a tampered or foreign state is refused before the hub sees it. Answers sent up front,
on a first call without state, answer the questions with those keys directly.

A parked run lives in this process: a retry that reaches another replica finds no such state
(INVALID_PARAMS). A client that never comes back fails the waiting step with
CALLER_INPUT_TIMEOUT after `input_timeout` seconds (AGENTHUB_INPUT_TIMEOUT). Each round's `_meta`
names the execution (`EXECUTION_META`), so a client can follow or cancel it meanwhile.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

from mcp import types
from mcp.shared.exceptions import MCPError

from hub.contract.caller import ElicitAnswer, ElicitQuestion, Root, RootsQuestion, SampleAnswer, SampleQuestion
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.engine.outcomes import RunHandle
from hub.mcp.caller import elicit_answer, elicit_request, roots_answer, sample_answer, sample_request
from hub.mcp.progress import EventRelay

DEFAULT_INPUT_TIMEOUT = 600.0
EXECUTION_META = "agenthub/execution_id"
"""The `_meta` key of an input round naming the waiting execution (to follow or cancel it)."""
_BATCH_YIELDS = 6
"""Loop turns a call waits after the first question, so questions asked together (parallel
branches) go out in one round."""


@dataclass
class _Question:
    request: types.InputRequest
    parse: Callable[[Any], Any]
    answer: asyncio.Future[Any]


class RoundCaller:
    """The `CallerChannel` of a 2026-era call: a question waits until a round answers it."""

    def __init__(self, capabilities: frozenset[str], supplied: Mapping[str, Any] | None, timeout: float) -> None:
        self._capabilities = capabilities
        self._supplied = dict(supplied or {})
        self._timeout = timeout
        self._open: dict[str, _Question] = {}
        self._waiting: list[asyncio.Future[None]] = []
        """The calls' `asked()` futures, until a question opens."""

    @property
    def capabilities(self) -> frozenset[str]:
        return self._capabilities

    @property
    def answering(self) -> bool:
        """Never while a call waits: a question ends the call (an input round) at once."""
        return False

    async def elicit(self, question: ElicitQuestion) -> ElicitAnswer:
        answer: ElicitAnswer = await self._ask(question.key, elicit_request(question), elicit_answer)
        return answer

    async def sample(self, question: SampleQuestion) -> SampleAnswer:
        answer: SampleAnswer = await self._ask(question.key, sample_request(question), sample_answer)
        return answer

    async def roots(self, question: RootsQuestion) -> list[Root]:
        roots: list[Root] = await self._ask(question.key, types.ListRootsRequest(), roots_answer)
        return roots

    async def _ask(self, key: str, request: Any, parse: Callable[[Any], Any]) -> Any:
        if key in self._supplied:
            try:
                return parse(self._supplied.pop(key))
            except ValueError:
                pass  # not an answer to this question: ask it
        question = _Question(request, parse, asyncio.get_running_loop().create_future())
        self._open[key] = question
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            self._settle_soon(waiter, _BATCH_YIELDS)
        try:
            async with asyncio.timeout(self._timeout):
                return await question.answer
        except TimeoutError:
            raise Failure.of(ErrorCode.CALLER_INPUT_TIMEOUT, f"the MCP client did not answer {key!r} within "
                             f"{self._timeout:g}s (an input round of a 2026-07-28 call)") from None
        finally:
            self._open.pop(key, None)

    def questions(self) -> dict[str, types.InputRequest]:
        """The questions waiting for an answer, by key (the `inputRequests` of the next round)."""
        return {key: q.request for key, q in self._open.items() if not q.answer.done()}

    def answer(self, responses: Mapping[str, Any] | None) -> None:
        """Hand over a round's `inputResponses`. Keys that name no open question are ignored; an
        answer of the wrong shape leaves its question open (asked again next round)."""
        for key, response in (responses or {}).items():
            question = self._open.get(key)
            if question is None or question.answer.done():
                continue
            try:
                question.answer.set_result(question.parse(response))
            except ValueError:
                continue

    def asked(self) -> asyncio.Future[None]:
        """Done once a question waits for an answer (a few loop turns after it was asked, so
        questions asked together go out in one round). A future the question settles, not a task
        per call: most runs never ask."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.questions():
            self._settle_soon(waiter, _BATCH_YIELDS)
        else:
            self._waiting = [w for w in self._waiting if not w.done()]  # earlier rounds' waiters
            self._waiting.append(waiter)
        return waiter

    def _settle_soon(self, waiter: asyncio.Future[None], turns: int) -> None:
        """Settle `waiter` after `turns` more loop turns, if a question still waits then (else it
        waits for the next question)."""
        if waiter.done():
            return
        if turns > 0:
            asyncio.get_running_loop().call_soon(self._settle_soon, waiter, turns - 1)
        elif self.questions():
            waiter.set_result(None)
        else:
            self._waiting.append(waiter)


@dataclass
class ParkedRun:
    """A run waiting for its client's next round."""

    handle: RunHandle
    caller: RoundCaller
    relay: EventRelay
    """Its step events' way to the call waiting on it: each round attaches itself."""
    tool: str
    subject: str | None


class InputRounds:
    """Parked runs by their single-use `requestState` token."""

    def __init__(self, linger: float = DEFAULT_INPUT_TIMEOUT) -> None:
        self._parked: dict[str, ParkedRun] = {}
        self._linger = linger

    def park(self, run: ParkedRun) -> str:
        """Keep `run` for the client's next round; the token to send as `requestState`. A run that
        ends unclaimed is forgotten `linger` seconds later."""
        token = secrets.token_urlsafe(18)
        self._parked[token] = run
        loop = asyncio.get_running_loop()
        run.handle.task.add_done_callback(lambda _t: loop.call_later(self._linger, self._parked.pop, token, None))
        return token

    def claim(self, token: str, tool: str, subject: str | None) -> ParkedRun:
        """The run a round's `requestState` names (and no longer parked under it); INVALID_PARAMS
        when there is none, or it belongs to another tool or caller."""
        run = self._parked.get(token)
        if run is None or run.tool != tool or run.subject != subject:
            raise MCPError(types.INVALID_PARAMS, "requestState names no run waiting for input here "
                           "(expired, already answered, or started on another hub replica)")
        del self._parked[token]
        return run

    def __len__(self) -> int:
        return len(self._parked)
