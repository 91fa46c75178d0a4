"""`kind: elicit` and `kind: sample` through the official `mcp` Client with elicitation and
sampling callbacks, against a real `agenthub stdio` subprocess and a real `agenthub serve`, in
both protocol eras (2025-11-25: requests pushed on the call's stream; 2026-07-28: input rounds)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters, types
from mcp.shared.exceptions import MCPError
from mcp_support import REPO

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from http_support import Served, start_server, wait_for  # noqa: E402

ERAS = {"legacy": "2025-11-25", "auto": "2026-07-28"}

PLAYBOOKS = {
    "approve": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: approve, description: Asks a human before deploying.}
        input:
          service: {type: string}
        workflow:
          - step: ask
            tool:
              kind: elicit
              message: "Deploy {{ input.service }} to production?"
              fields:
                approved: {type: boolean, title: Approve}
                reason: {type: string, description: Why, default: none given}
            result: {approved: "{{ output.content.approved }}", reason: "{{ output.content.reason }}"}
    """,
    "approve_child": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: approve_child, description: Asks through a sub-run.}
        workflow:
          - step: child
            tool: {kind: playbook, path: approve}
            input: {service: payments}
            result: "{{ output }}"
    """,
    "approve_or_not": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: approve_or_not, description: Routes on the user's answer.}
        workflow:
          - step: ask
            tool:
              kind: elicit
              message: Go ahead?
              fields: {ok: {type: boolean}}
              on_decline: continue
            result: {action: "{{ output.action }}"}
    """,
    "region": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: region, description: "Asks for a region when it can, else uses the default."}
        workflow:
          - step: pick
            tool:
              kind: elicit
              message: Which region?
              fields: {region: {type: string, enum: [eu, us], default: eu}}
              if_unavailable: skip
            result: {action: "{{ output.action }}", region: "{{ output.content.region }}"}
    """,
    "summarize": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: summarize, description: Summarizes a text with the caller's model.}
        input:
          text: {type: string}
        workflow:
          - step: llm
            tool:
              kind: sample
              system: You write one-line summaries.
              messages:
                - {role: user, text: "Summarize: {{ input.text }}"}
              max_tokens: 64
              temperature: 0.2
              model_preferences: {hints: [claude-3-5-sonnet], intelligence_priority: 0.8}
            result: {summary: "{{ output.text }}", model: "{{ output.model }}"}
    """,
    "workspace": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: workspace, description: Reads the caller's roots.}
        workflow:
          - step: where
            tool: {kind: roots}
            result: "{{ output.roots }}"
    """,
    "at_once": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: at_once, description: Asks the user and the model in parallel branches.}
        workflow:
          - step: start
            tool: {kind: noop}
            next: {mode: all, arcs: [{step: who}, {step: where}]}
          - step: who
            tool: {kind: elicit, message: Name?, fields: {name: {type: string}}}
          - step: where
            tool: {kind: roots}
        result: {name: "{{ who.content.name }}", roots: "{{ where.roots | length }}"}
    """,
    "interview": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: interview, description: "Logs a start, asks the user, then asks the model."}
        input:
          log: {type: string}
        workflow:
          - step: start
            tool:
              kind: python
              code: |
                def main(log):
                    with open(log, "a") as f:
                        f.write("started\\n")
                    return "started"
            input: {log: "{{ input.log }}"}
            next: name
          - step: name
            tool: {kind: elicit, message: Your name?, fields: {name: {type: string}}}
            next: poem
          - step: poem
            tool: {kind: sample, prompt: "A poem for {{ name.content.name }}", max_tokens: 30}
            result: {name: "{{ name.content.name }}", poem: "{{ output.text }}"}
    """,
}


class Answers:
    """The client's side: records what it was asked and answers as told."""

    def __init__(self, elicit: dict[str, Any] | None = None, sample: str | types.ErrorData = "A fine summary.") -> None:
        self.elicit = elicit if elicit is not None else {"action": "accept", "content": {"approved": True}}
        self.sample = sample
        self.elicited: list[types.ElicitRequestParams] = []
        self.sampled: list[types.CreateMessageRequestParams] = []
        self.roots = [types.Root(uri="file:///work/project", name="project")]

    async def on_elicit(self, ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.elicited.append(params)
        return types.ElicitResult(**self.elicit)

    async def on_roots(self, ctx: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=self.roots)

    async def on_sample(self, ctx: Any, params: types.CreateMessageRequestParams) -> Any:
        self.sampled.append(params)
        if isinstance(self.sample, types.ErrorData):
            return self.sample
        return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text=self.sample),
                                         model="test-model-1", stop_reason="endTurn")


def _catalog(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PLAYBOOKS.items():
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def http_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("elicit-http")
    served = start_server(tmp, _catalog(tmp / "catalog"), "--call-timeout", "20")
    yield served
    served.stop()


@pytest.fixture(params=["stdio", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=list(ERAS))
def era(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def connect(transport: str, era: str, tmp_path: Path, http_hub: Served) -> Any:
    """connect(answers | None, *flags) -> a Client in this transport and era; with `answers` it
    declares elicitation, sampling and roots (it has the callbacks), without it none. With
    server `flags`, the server is a fresh one of the test's own."""

    @asynccontextmanager
    async def make(answers: Answers | None, *flags: str) -> AsyncIterator[Client]:
        callbacks: dict[str, Any] = {}
        if answers is not None:
            callbacks = {"elicitation_callback": answers.on_elicit, "sampling_callback": answers.on_sample,
                         "list_roots_callback": answers.on_roots}
        served = None
        if transport == "http":
            if flags:
                served = start_server(tmp_path / "own", _catalog(tmp_path / "own" / "catalog"), *flags)
            target: Any = served.mcp_url if served else http_hub.mcp_url
        else:
            target = StdioServerParameters(
                command=sys.executable, cwd=str(REPO),
                args=["-m", "hub.cli.main", "stdio", "--catalog", str(_catalog(tmp_path / "catalog")),
                      "--db", str(tmp_path / "hub.db"), *flags],
            )
        try:
            async with Client(target, mode=era, **callbacks) as client:
                assert client.protocol_version == ERAS[era]
                yield client
        finally:
            if served is not None:
                served.stop()

    return make


def _envelope(result: types.CallToolResult) -> dict[str, Any]:
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def test_elicit_asks_the_callers_user_and_maps_every_answer(connect):
    answers = Answers()
    async with connect(answers) as client:
        result = await client.call_tool("approve", {"service": "billing"})
        assert not result.is_error, result.content
        assert _envelope(result)["data"] == {"approved": True, "reason": "none given"}
        asked = answers.elicited[-1]
        assert asked.message == "Deploy billing to production?"
        assert asked.requested_schema == {
            "type": "object",
            "properties": {"approved": {"type": "boolean", "title": "Approve"},
                           "reason": {"type": "string", "description": "Why", "default": "none given"}},
            "required": ["approved"],
        }

        via_child = await client.call_tool("approve_child", {})  # a sub-run asks the same caller
        assert _envelope(via_child)["data"] == {"approved": True, "reason": "none given"}
        assert answers.elicited[-1].message == "Deploy payments to production?"

        answers.elicit = {"action": "decline"}
        declined = _envelope(await client.call_tool("approve", {"service": "billing"}))
        assert declined["status"] == "error" and declined["error"]["code"] == "ELICITATION_DECLINED"
        assert declined["error"]["step"] == {"name": "ask", "kind": "elicit"}

        answers.elicit = {"action": "cancel"}
        cancelled = _envelope(await client.call_tool("approve", {"service": "billing"}))
        assert cancelled["error"]["code"] == "ELICITATION_CANCELLED"
        assert cancelled["error"]["kind"] == "agent.cancelled"

        answers.elicit = {"action": "accept", "content": {"approved": "yes please"}}
        invalid = _envelope(await client.call_tool("approve", {"service": "billing"}))
        assert invalid["error"]["code"] == "ELICITATION_INVALID"
        assert "approved" in invalid["error"]["message"]

        answers.elicit = {"action": "decline"}
        routed = await client.call_tool("approve_or_not", {})
        assert not routed.is_error and _envelope(routed)["data"] == {"action": "decline"}


async def test_sample_asks_the_callers_model(connect, era):
    answers = Answers(sample="Cats sleep a lot.")
    async with connect(answers) as client:
        result = await client.call_tool("summarize", {"text": "Cats sleep sixteen hours a day."})
        assert not result.is_error, result.content
        assert _envelope(result)["data"] == {"summary": "Cats sleep a lot.", "model": "test-model-1"}
        asked = answers.sampled[-1]
        assert [(m.role, m.content.text) for m in asked.messages] == [("user", "Summarize: Cats sleep sixteen hours a day.")]
        assert asked.system_prompt == "You write one-line summaries."
        assert asked.max_tokens == 64 and asked.temperature == 0.2
        assert asked.model_preferences is not None and asked.model_preferences.intelligence_priority == 0.8
        assert [h.name for h in asked.model_preferences.hints or []] == ["claude-3-5-sonnet"]

        if era == "auto":
            return  # 2026 input responses cannot carry an error: the SDK client gives the call up itself
        answers.sample = types.ErrorData(code=-1, message="User rejected sampling request")
        refused = _envelope(await client.call_tool("summarize", {"text": "x"}))
        assert refused["error"]["code"] == "CALLER_REQUEST_FAILED"
        assert "User rejected sampling request" in refused["error"]["message"]


async def test_roots_asks_for_the_callers_workspace(connect):
    answers = Answers()
    async with connect(answers) as client:
        result = await client.call_tool("workspace", {})
        assert _envelope(result)["data"] == [{"uri": "file:///work/project", "name": "project"}]
        answers.elicit = {"action": "accept", "content": {"name": "Ada"}}
        both = await client.call_tool("at_once", {})  # parallel branches ask together
        assert _envelope(both)["data"] == {"name": "Ada", "roots": 1}


async def test_a_client_that_only_has_roots_is_asked_on_the_calls_stream(http_hub: Served):
    answers = Answers()
    async with Client(http_hub.mcp_url, mode="legacy", list_roots_callback=answers.on_roots) as client:
        result = await client.call_tool("workspace", {})
    assert _envelope(result)["data"] == [{"uri": "file:///work/project", "name": "project"}]


async def test_a_run_asking_twice_runs_its_earlier_steps_once(connect, tmp_path):
    answers = Answers(elicit={"action": "accept", "content": {"name": "Ada"}}, sample="Roses are red.")
    log = tmp_path / "runs.log"
    progress: list[str] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")

    async with connect(answers) as client:
        result = await client.call_tool("interview", {"log": str(log)}, progress_callback=on_progress)
        assert _envelope(result)["data"] == {"name": "Ada", "poem": "Roses are red."}
    assert answers.sampled[-1].messages[0].content.text == "A poem for Ada"
    assert log.read_text() == "started\n"  # 2026: the run waited between rounds, it was not replayed
    assert "step start finished" in progress and "step poem finished" in progress  # every round reports


class SlowAnswers(Answers):
    """A user who takes longer to answer than the server's call timeout."""

    async def on_elicit(self, ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        await anyio.sleep(2.5)
        return await super().on_elicit(ctx, params)


async def test_a_slow_user_does_not_turn_the_call_into_running(connect):
    async with connect(SlowAnswers(), "--call-timeout", "1") as client:
        result = await client.call_tool("approve", {"service": "billing"})
        envelope = _envelope(result)
        assert envelope["status"] == "ok", envelope
        assert envelope["data"] == {"approved": True, "reason": "none given"}


async def test_a_client_without_the_capability_is_refused_before_anything_runs(connect, era):
    async with connect(None) as client:
        listed = {t.name: t for t in (await client.list_tools(cache_mode="refresh")).tools}
        assert listed["summarize"].meta == {"agenthub/client_capabilities": ["sampling"]}  # known before calling
        assert listed["at_once"].meta == {"agenthub/client_capabilities": ["elicitation", "roots"]}
        assert listed["region"].meta is None  # its question may go unasked
        if era == "auto":
            with pytest.raises(MCPError) as refused:
                await client.call_tool("summarize", {"text": "x"})
            assert refused.value.error.code == types.MISSING_REQUIRED_CLIENT_CAPABILITY
            assert refused.value.error.data == {"requiredCapabilities": {"sampling": {}}}
        else:
            result = await client.call_tool("summarize", {"text": "x"})
            envelope = _envelope(result)
            assert result.is_error and envelope["error"]["code"] == "CLIENT_CAPABILITY_MISSING"
            assert envelope["error"]["details"]["required_capabilities"] == ["sampling"]
            assert "step" not in envelope["error"] or envelope["error"]["step"] is None  # nothing ran
        skipped = await client.call_tool("region", {})  # may go without: answers its defaults
        assert _envelope(skipped)["data"] == {"action": "skipped", "region": "eu"}


def test_runs_without_an_mcp_caller_fail_the_step_naming_why(http_hub: Served):
    with http_hub.client() as rest:
        envelope = rest.post("/api/executions", json={"playbook": "approve", "arguments": {"service": "x"}}).json()
        assert envelope["status"] == "error"
        assert envelope["error"]["code"] == "NO_MCP_CALLER"
        assert "no MCP client started this run" in envelope["error"]["message"]
        assert envelope["error"]["step"] == {"name": "ask", "kind": "elicit"}
        defaulted = rest.post("/api/executions", json={"playbook": "region", "arguments": {}}).json()
        assert defaulted["data"] == {"action": "skipped", "region": "eu"}


def _call(url: str, name: str, **params: Any) -> dict[str, Any]:
    """One raw 2026-07-28 tools/call (what a client without the SDK's round driver sees)."""
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "sampling": {}, "roots": {}}}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": name, "arguments": params.pop("arguments", {}), "_meta": meta, **params}}
    headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": name,
               "Accept": "application/json, text/event-stream"}
    response = httpx.post(url, json=body, headers=headers, timeout=30)
    text = response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        text = [line[5:] for line in text.splitlines() if line.startswith("data:")][-1]
    return httpx.Response(200, content=text).json()


def test_input_rounds_on_the_wire_are_keyed_sealed_and_single_use(http_hub: Served, tmp_path: Path):
    url, log = http_hub.mcp_url, str(tmp_path / "wire.log")
    first = _call(url, "interview", arguments={"log": log})["result"]
    assert first["resultType"] == "input_required"
    assert list(first["inputRequests"]) == ["name"]  # the step's name is the question's key
    assert first["inputRequests"]["name"]["method"] == "elicitation/create"
    state = first["requestState"]

    tampered = _call(url, "interview", arguments={"log": log}, requestState=state[:-4] + "AAAA",
                     inputResponses={"name": {"action": "accept", "content": {"name": "Eve"}}})
    assert tampered["error"]["code"] == types.INVALID_PARAMS

    wrong_key = _call(url, "interview", arguments={"log": log}, requestState=state,
                      inputResponses={"other": {"action": "accept", "content": {"name": "Bob"}}})["result"]
    assert wrong_key["resultType"] == "input_required" and list(wrong_key["inputRequests"]) == ["name"]
    replayed = _call(url, "interview", arguments={"log": log}, requestState=state,
                     inputResponses={"name": {"action": "accept", "content": {"name": "Bob"}}})
    assert replayed["error"]["code"] == types.INVALID_PARAMS  # each state answers one round only

    second = _call(url, "interview", arguments={"log": log}, requestState=wrong_key["requestState"],
                   inputResponses={"name": {"action": "accept", "content": {"name": "Bob"}}})["result"]
    assert list(second["inputRequests"]) == ["poem"]
    assert second["inputRequests"]["poem"]["method"] == "sampling/createMessage"
    answer = {"role": "assistant", "content": {"type": "text", "text": "Hi Bob"}, "model": "m", "stopReason": "endTurn"}
    done = _call(url, "interview", arguments={"log": log}, requestState=second["requestState"],
                 inputResponses={"poem": answer})["result"]
    assert done["resultType"] == "complete" and done["structuredContent"]["data"] == {"name": "Bob", "poem": "Hi Bob"}
    assert Path(log).read_text() == "started\n"


def test_questions_of_parallel_branches_go_out_in_one_round(http_hub: Served):
    first = _call(http_hub.mcp_url, "at_once")["result"]
    assert first["resultType"] == "input_required"
    assert sorted(first["inputRequests"]) == ["where", "who"]
    assert first["inputRequests"]["where"]["method"] == "roots/list"
    done = _call(http_hub.mcp_url, "at_once", requestState=first["requestState"], inputResponses={
        "who": {"action": "accept", "content": {"name": "Ada"}},
        "where": {"roots": [{"uri": "file:///a", "name": "a"}, {"uri": "file:///b"}]},
    })["result"]
    assert done["structuredContent"]["data"] == {"name": "Ada", "roots": 2}


def test_a_client_that_never_comes_back_fails_the_step_after_the_input_timeout(tmp_path: Path):
    served = start_server(tmp_path, _catalog(tmp_path / "catalog"), env={"AGENTHUB_INPUT_TIMEOUT": "1"})
    try:
        first = _call(served.mcp_url, "approve", arguments={"service": "x"})["result"]
        assert first["resultType"] == "input_required"
        execution_id = first["_meta"]["agenthub/execution_id"]  # the round names its run
        with served.client() as rest:
            def ended() -> dict[str, Any] | None:
                found = rest.get(f"/api/executions/{execution_id}").json()
                return found if found["status"] != "running" else None

            record = wait_for(ended, timeout=60)
        assert record["status"] == "timed_out"
        assert record["envelope"]["error"]["code"] == "CALLER_INPUT_TIMEOUT"
    finally:
        served.stop()
