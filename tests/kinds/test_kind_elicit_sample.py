"""`kind: elicit` and `kind: sample` blocks are checked when the catalog loads (file:line and the
field), and a run with no MCP caller (here: the engine called directly, as REST and the CLI do)
fails the step with NO_MCP_CALLER, or answers the defaults when the step may go without."""

from __future__ import annotations

from kinds_support import run


async def test_bad_forms_and_prompts_are_refused_on_load(hub, write_playbook):
    write_playbook("nested", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: nested, description: A form field that is an object.}
        workflow:
          - step: ask
            tool: {kind: elicit, message: Address?, fields: {address: {type: object}}}
    """)
    write_playbook("two_prompts", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: two_prompts, description: Both prompt and messages.}
        workflow:
          - step: llm
            tool: {kind: sample, prompt: Hi, messages: [{role: user, text: Hi}]}
    """)
    write_playbook("unknown_required", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: unknown_required, description: Requires a field it does not ask.}
        workflow:
          - step: ask
            tool: {kind: elicit, message: Name?, fields: {name: {type: string}}, required: [age]}
    """)
    problems = sorted(str(p) for p in (await hub()).problems)
    assert len(problems) == 3, problems
    nested, two_prompts, unknown_required = problems
    assert "nested.yaml:6:" in nested and "type must be one of string, number, integer, boolean, array" in nested
    assert "two_prompts.yaml:6:" in two_prompts and "exactly one of prompt or messages" in two_prompts
    assert "unknown_required.yaml:6:" in unknown_required and "age" in unknown_required


async def test_without_an_mcp_caller_the_step_fails_or_takes_its_defaults(hub, write_playbook):
    write_playbook("ask", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: ask, description: Asks the user.}
        workflow:
          - step: ask
            tool: {kind: elicit, message: Name?, fields: {name: {type: string}}}
    """)
    write_playbook("ask_or_default", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: ask_or_default, description: Asks the user if it can.}
        workflow:
          - step: ask
            tool: {kind: elicit, message: Name?, fields: {name: {type: string, default: Ada}}, if_unavailable: skip}
    """)
    write_playbook("llm", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: llm, description: Asks the model.}
        workflow:
          - step: llm
            tool: {kind: sample, prompt: Hi}
    """)
    write_playbook("where", """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: where, description: Asks for the roots.}
        workflow:
          - step: where
            tool: {kind: roots}
    """)
    for name, step in (("ask", "ask"), ("llm", "llm"), ("where", "where")):
        envelope = await run(hub, name)
        assert envelope.error is not None and envelope.error.code == "NO_MCP_CALLER", envelope
        assert envelope.error.step is not None and envelope.error.step.name == step
        assert "no MCP client started this run" in envelope.error.message
    defaulted = await run(hub, "ask_or_default")
    assert defaulted.data == {"action": "skipped", "content": {"name": "Ada"}}
