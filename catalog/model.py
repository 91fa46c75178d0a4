"""The playbook model: what a playbook YAML file may say, checked strictly with pydantic.

Close to NoETL's DSL (apiVersion/kind/metadata/workload/keychain/workflow with `step`, `tool`,
`next` arcs and `loop`) so its playbooks carry over, but typed: unknown fields are errors, the
inputs are typed parameters, and tool blocks are checked against their kind's own model by the
loader (see `catalog.loader`). Templates are plain strings here; the engine renders them.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from catalog.tool_block import (  # the step's parts, re-exported for older imports
    OutputSelect,
    PipelineTask,
    PolicyRule,
    PolicyThen,
    RetryPolicy,
    StepSpec,
    Strict,
    ToolRetry,
    ToolSpec,
)

TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
RESERVED_PREFIX = "hub_"

ParamType = Literal["string", "integer", "number", "boolean", "object", "array", "null"]


def check_api_version(value: str) -> str:
    """Every catalog document kind accepts our own and NoETL's API versions."""
    if not (value.startswith("agenthub/") or value.startswith("noetl.io/")):
        raise ValueError("must be 'agenthub/v1' (or a NoETL 'noetl.io/...' version)")
    return value


class InputParam(Strict):
    """One typed parameter of a playbook's `input:` (and, nested, of objects and arrays)."""

    type: ParamType | list[ParamType] = "string"
    description: str | None = None
    title: str | None = None
    default: Any = None
    enum: list[Any] | None = None
    required: bool | None = Field(
        default=None, description="Defaults to true when no default is given, false otherwise."
    )
    secret: bool = Field(default=False, description="Never published as a default; redacted in events.")
    properties: dict[str, InputParam] | None = None
    items: InputParam | None = None
    additional_properties: bool | None = Field(default=None, alias="additionalProperties")
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = Field(default=None, alias="minLength")
    max_length: int | None = Field(default=None, alias="maxLength")
    min_items: int | None = Field(default=None, alias="minItems")
    max_items: int | None = Field(default=None, alias="maxItems")
    pattern: str | None = None
    format: str | None = None
    mcp_header: str | None = Field(
        default=None,
        alias="x-mcp-header",
        description="Streamable HTTP (2026-07-28): the client also sends this argument as the "
        "`Mcp-Param-<name>` header, and the server checks the two agree (routing without parsing "
        "the body). Top-level string, number or boolean parameters only.",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """`name: string` is short for `name: {type: string}`."""
        if isinstance(value, str):
            return {"type": value}
        return value

    @property
    def has_default(self) -> bool:
        return "default" in self.model_fields_set

    @property
    def is_required(self) -> bool:
        return self.required if self.required is not None else not self.has_default

    @model_validator(mode="after")
    def _consistent(self) -> InputParam:
        types = self.type if isinstance(self.type, list) else [self.type]
        if self.properties is not None and "object" not in types:
            raise ValueError("`properties` is only allowed on type object")
        if self.items is not None and "array" not in types:
            raise ValueError("`items` is only allowed on type array")
        if self.enum is not None and self.has_default and self.default not in self.enum:
            raise ValueError(f"default {self.default!r} is not one of enum {self.enum!r}")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"`pattern` is not a valid regular expression: {exc}") from exc
        return self


class ToolAnnotations(Strict):
    """MCP tool hints (all optional), published with the tool."""

    title: str | None = None
    read_only_hint: bool | None = Field(default=None, alias="readOnlyHint")
    destructive_hint: bool | None = Field(default=None, alias="destructiveHint")
    idempotent_hint: bool | None = Field(default=None, alias="idempotentHint")
    open_world_hint: bool | None = Field(default=None, alias="openWorldHint")


class TaskOptions(Strict):
    """Whether a tools/call of the playbook runs as an MCP task (the tasks extension, SEP-2663)
    when the client negotiated it: `forbidden` (always answered in the call), `optional` (a task
    for clients that declared the extension, a plain call for others), `required` (clients that
    did not declare it are refused with -32021). `input`: where questions the run asks before it
    is a task go: `task` (the call answers a task at once; questions surface on tasks/get), or
    `rounds` (the call answers input rounds first; the call that answers them gets the task)."""

    support: Literal["forbidden", "optional", "required"] = "forbidden"
    input: Literal["task", "rounds"] = "task"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"support": value} if isinstance(value, str) else value


class Metadata(Strict):
    name: str = Field(description="The MCP tool name: [A-Za-z0-9_-], at most 64 characters.")
    path: str | None = Field(default=None, description="Catalog id; defaults to the file's path.")
    title: str | None = None
    description: str | None = None
    agent: bool = False
    capabilities: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    expose: bool = Field(default=True, description="Listed as an MCP tool.")
    scopes: list[str] = Field(default_factory=list, description="Scopes a caller needs to call it.")
    annotations: ToolAnnotations | None = None
    task: TaskOptions = Field(default_factory=TaskOptions, description="MCP tasks extension: "
                              "`forbidden` (default), `optional` or `required`, or {support, input}.")
    version: str | None = Field(default=None, description="The author's own version label (informative).")
    labels: dict[str, Any] = Field(default_factory=dict, description="Free-form labels (informative).")
    extra: dict[str, Any] = Field(
        default_factory=dict, description="Other metadata a dialect carries (kept, not interpreted)."
    )

    @field_validator("name")
    @classmethod
    def _tool_name(cls, value: str) -> str:
        if not TOOL_NAME_RE.match(value):
            raise ValueError(
                "must be 1-64 characters of letters, digits, '_' or '-' (a valid MCP tool name)"
            )
        if value.startswith(RESERVED_PREFIX):
            raise ValueError(f"names starting with {RESERVED_PREFIX!r} are reserved for hub tools")
        return value

    @field_validator("path")
    @classmethod
    def _catalog_path(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*\Z", value):
            raise ValueError("must be slash-separated segments of letters, digits, '_', '-', '.'")
        return value


class KeychainEntry(Strict):
    """A named secret, read from the environment or a file when a run starts.

    An entry may instead name a `provider` the hub cannot reach by itself (NoETL's `secret_manager`,
    `oauth2`, ... entries): it loads, keeps its `settings`, and a run that needs it fails with a
    clear KEYCHAIN_MISSING naming the provider and what to write instead."""

    name: str
    env: str | None = None
    file: str | None = None
    provider: str | None = Field(default=None, description="A secret source the hub cannot resolve itself.")
    settings: dict[str, Any] = Field(default_factory=dict, description="The provider's own fields, kept.")
    required: bool = True
    description: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> KeychainEntry:
        given = [s for s in (self.env, self.file, self.provider) if s is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `env` or `file`")
        return self


class LoopSpec(Strict):
    in_: str | list[Any] = Field(alias="in", description="A list, or a template rendering to one.")
    iterator: str = "item"
    mode: Literal["sequential", "parallel"] = "sequential"
    max_in_flight: int = Field(default=4, ge=1, le=1000)

    @field_validator("iterator")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError("must be a valid identifier")
        return value


class Arc(Strict):
    step: str
    when: str | bool | None = None
    set: dict[str, Any] | None = Field(default=None, description="Written when this arc is taken.")


class NextSpec(Strict):
    mode: Literal["first", "all"] = "first"
    arcs: list[Arc]


class TroubleshootKnobs(BaseModel):
    """`on_failure:` knobs of the troubleshoot agent; unknown keys are kept and warned about later."""

    model_config = ConfigDict(extra="allow")

    troubleshoot: bool | None = None
    local_provider: Literal["ollama", "openai"] | None = None
    local_base_url: str | None = None
    local_model: str | None = None
    local_credential: str | None = None
    ollama_model: str | None = None  # the older name of local_model
    confidence_threshold: float | None = Field(default=None, ge=0, le=1)
    escalate_to: Literal["openai", "claude", "none"] | None = None
    escalation_base_url: str | None = None
    escalation_model: str | None = None
    openai_model: str | None = None  # the older name of escalation_model
    openai_credential: str | None = None
    budget: float | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, ge=16, le=8192)
    calibration_dir: str | None = None


class Step(Strict):
    step: str
    desc: str | None = None
    tool: ToolSpec | list[PipelineTask] | None = Field(
        default=None,
        description="The tool; a list of `{label: tool}` is a pipeline (each task sees `_prev`); "
        "none passes the previous step's output on.",
    )
    spec: StepSpec | None = None
    output: OutputSelect | None = None
    input: dict[str, Any] | None = None
    timeout: float | None = Field(default=None, gt=0)
    retry: RetryPolicy | None = None
    loop: LoopSpec | None = None
    set: dict[str, Any] | None = None
    result: Any = None
    next: NextSpec | None = None
    on_failure: TroubleshootKnobs | None = None

    @field_validator("step")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_./-]*\Z", value):
            raise ValueError(
                "must start with a letter or '_' and hold letters, digits, '_', '-', '.' or '/' "
                "(a name like 'a-b' is read as steps['a-b'] in templates)"
            )
        return value

    @field_validator("tool")
    @classmethod
    def _one_label(cls, value: Any) -> Any:
        if isinstance(value, list):
            labels: set[str] = set()
            for task in value:
                if len(task) != 1:
                    raise ValueError("each pipeline task is one `label: {kind: ...}` mapping")
                label = next(iter(task))
                if label in labels:
                    raise ValueError(f"pipeline task label {label!r} is used twice")
                labels.add(label)
        return value

    @property
    def kind(self) -> str:
        """The tool kind, `pipeline` for a list of tasks, `noop` for a step with no tool."""
        if isinstance(self.tool, ToolSpec):
            return self.tool.kind
        return "pipeline" if self.tool else "noop"

    @field_validator("next", mode="before")
    @classmethod
    def _next_forms(cls, value: Any) -> Any:
        """`next: name`, `next: [name, {step, when}]` or `next: {mode, arcs}`."""
        if isinstance(value, str):
            return {"arcs": [{"step": value}]}
        if isinstance(value, list):
            return {"arcs": [{"step": a} if isinstance(a, str) else a for a in value]}
        return value

    @property
    def declares_result(self) -> bool:
        return "result" in self.model_fields_set


class Playbook(Strict):
    api_version: str = Field(alias="apiVersion")
    kind: Literal["Playbook"]
    metadata: Metadata
    input: dict[str, InputParam] | None = None
    input_document: dict[str, Any] | None = Field(
        default=None,
        description="Set from `input:` when it is a whole JSON Schema 2020-12 document (it has "
        "`$schema`): published as the tool's inputSchema as written (`$defs`, `$ref`, `allOf`, "
        "`if`/`then`/`else`, `x-mcp-header` ...).",
    )
    workload: dict[str, Any] | None = Field(
        default=None, description="NoETL-style defaults; the input schema is inferred from them."
    )
    output: dict[str, Any] | None = Field(default=None, description="JSON Schema of the result.")
    keychain: list[KeychainEntry] = Field(default_factory=list)
    timeout: float | None = Field(default=None, gt=0, description="The execution's deadline, seconds.")
    result: Any = None
    on_failure: TroubleshootKnobs | None = None
    entry: str | None = Field(default=None, description="The step that starts; default the first.")
    extensions: dict[str, Any] = Field(
        default_factory=dict, description="Top-level sections of a dialect the hub keeps but does not run."
    )
    workflow: list[Step] = Field(min_length=1)

    @field_validator("api_version")
    @classmethod
    def _api_version(cls, value: str) -> str:
        return check_api_version(value)

    @model_validator(mode="before")
    @classmethod
    def _input_as_document(cls, data: Any) -> Any:
        """`input:` with a `$schema` key is a JSON Schema document, not a parameter map (no
        parameter is named `$schema`); the loader checks it against the 2020-12 metaschema."""
        if isinstance(data, dict) and isinstance(data.get("input"), dict) and "$schema" in data["input"]:
            data = {**data, "input_document": data["input"]}
            del data["input"]
        return data

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Cross-field problems a field validator cannot see: (location, message) pairs.

        The loader reports each with the file and line of its location.
        """
        found: list[tuple[tuple[str | int, ...], str]] = []
        seen: set[str] = set()
        for i, step in enumerate(self.workflow):
            if step.step in seen:
                found.append((("workflow", i, "step"), f"step name {step.step!r} is used twice"))
            seen.add(step.step)
        for i, step in enumerate(self.workflow):
            for j, arc in enumerate(step.next.arcs if step.next else []):
                if arc.step not in seen:
                    found.append(
                        (("workflow", i, "next", "arcs", j, "step"), f"arc to unknown step {arc.step!r}")
                    )
        if self.entry is not None and self.entry not in seen:
            found.append((("entry",), f"entry step {self.entry!r} is not a step of this workflow"))
        for i, step in enumerate(self.workflow):
            for j, rule in enumerate(step.tool.rules if isinstance(step.tool, ToolSpec) else []):
                if rule.then.do == "jump" and rule.then.to not in seen:
                    found.append(((("workflow", i, "tool", "spec", "policy", "rules", j, "then", "to")),
                                  f"a jump needs `to:` naming a step of this workflow (got {rule.then.to!r})"))
        names: set[str] = set()
        for i, entry in enumerate(self.keychain):
            if entry.name in names:
                found.append((("keychain", i, "name"), f"keychain name {entry.name!r} is used twice"))
            names.add(entry.name)
        return found

    @property
    def declares_result(self) -> bool:
        return "result" in self.model_fields_set

    @property
    def entry_step(self) -> str:
        return self.entry or self.workflow[0].step

    def step_named(self, name: str) -> Step:
        for step in self.workflow:
            if step.step == name:
                return step
        raise KeyError(name)
