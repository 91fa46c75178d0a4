"""`tool.kind: elicit`: ask the calling MCP client's user for input mid-run (MCP elicitation).

For human-in-the-loop approval and for values the caller did not give. The step's `fields` become
the form's `requestedSchema` (MCP allows a flat object of primitive fields: string, number,
integer, boolean, single- and multi-select enums); `required` lists the fields the user must fill
(default: every field without a `default`). The step answers `{action, content}`:

- `accept`: `content` is the form (a field the client left out has its `default`), checked
  against the fields (ELICITATION_INVALID otherwise);
- `decline` / `cancel`: the step fails (ELICITATION_DECLINED / ELICITATION_CANCELLED), or with
  `on_decline: continue` answers `{action: decline|cancel, content: null}` for an arc to route.

Without a caller to ask (REST, CLI, a cluster worker) the step fails NO_MCP_CALLER; with
`if_unavailable: skip` it answers `{action: skipped, content: <the fields' defaults>}` instead, so
one playbook serves interactive and unattended callers. The question travels through the run's
`CallerChannel` (`hub.contract.caller`); this kind knows nothing of the protocol.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hub.contract.caller import ElicitQuestion
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall
from hub.engine.kinds.asking import question_key, reachable_caller, unreachable

_PRIMITIVES = {"string", "number", "integer", "boolean"}
_FIELD_KEYS = {
    "type", "title", "description", "default", "enum", "enumNames", "oneOf", "format", "minLength",
    "maxLength", "minimum", "maximum", "items", "minItems", "maxItems",
}


class ElicitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, description="What the user is asked (a template).")
    fields: dict[str, dict[str, Any]] = Field(
        min_length=1,
        description="The form: field name -> a primitive JSON Schema (type string|number|integer|boolean, "
        "or an array of enum values), with title, description, default, enum, oneOf, format, bounds.",
    )
    required: list[str] | None = Field(default=None, description="Fields the user must fill; default: those without a default.")
    on_decline: Literal["fail", "continue"] = Field(
        default="fail", description="`continue`: a decline or cancel answers {action, content: null} instead of failing."
    )
    if_unavailable: Literal["fail", "skip"] = Field(
        default="fail", description="`skip`: without an MCP caller to ask, answer the fields' defaults."
    )

    @field_validator("fields")
    @classmethod
    def _flat_form(cls, fields: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, spec in fields.items():
            unknown = set(spec) - _FIELD_KEYS
            if unknown:
                raise ValueError(f"field {name!r}: {', '.join(sorted(unknown))} not allowed in an elicitation form")
            kind = spec.get("type")
            if kind == "array":
                items = spec.get("items")
                if not isinstance(items, dict) or not ({"enum", "anyOf"} & set(items)):
                    raise ValueError(f"field {name!r}: an array field is a multi-select: items need enum or anyOf")
            elif kind not in _PRIMITIVES:
                raise ValueError(f"field {name!r}: type must be one of string, number, integer, boolean, array (got {kind!r})")
        return fields

    @model_validator(mode="after")
    def _known_required(self) -> ElicitConfig:
        unknown = [name for name in self.required or [] if name not in self.fields]
        if unknown:
            raise ValueError(f"required names fields that do not exist: {', '.join(unknown)}")
        return self

    def schema(self) -> dict[str, Any]:
        """The `requestedSchema` of the form."""
        required = self.required if self.required is not None else [
            name for name, spec in self.fields.items() if "default" not in spec
        ]
        schema: dict[str, Any] = {"type": "object", "properties": self.fields}
        if required:
            schema["required"] = required
        return schema

    def defaults(self) -> dict[str, Any]:
        return {name: spec["default"] for name, spec in self.fields.items() if "default" in spec}


class ElicitKind:
    name = "elicit"
    config_model = ElicitConfig
    raw_fields: frozenset[str] = frozenset()
    default_retry = None
    deadline_aware = False

    def client_capability(self, config: dict[str, Any]) -> str | None:
        """`elicitation`, unless the step may go without (`if_unavailable: skip`)."""
        return None if config.get("if_unavailable") == "skip" else "elicitation"

    async def run(self, call: StepCall) -> dict[str, Any]:
        config = call.config
        assert isinstance(config, ElicitConfig)
        caller = reachable_caller(call, "elicitation")
        if caller is None:
            if config.if_unavailable == "skip":
                return {"action": "skipped", "content": config.defaults()}
            raise unreachable(call, "elicitation", "asks the user for input")
        schema = config.schema()
        answer = await caller.elicit(ElicitQuestion(key=question_key(call), message=config.message, requested_schema=schema))
        if answer.action == "accept":
            content = {**config.defaults(), **(answer.content or {})}  # a field left out keeps its default
            problem = _misfit(content, schema)
            if problem:
                raise Failure.of(ErrorCode.ELICITATION_INVALID, f"the answer to step {call.step!r} does not fit its fields: {problem}")
            return {"action": "accept", "content": content}
        if config.on_decline == "continue":
            return {"action": answer.action, "content": None}
        if answer.action == "decline":
            raise Failure.of(ErrorCode.ELICITATION_DECLINED, f"the user declined step {call.step!r}: {config.message}")
        raise Failure.of(ErrorCode.ELICITATION_CANCELLED, f"the user dismissed step {call.step!r} without answering")


def _misfit(content: dict[str, Any], schema: dict[str, Any]) -> str | None:
    import jsonschema  # here, not at start-up (only an answered question is checked)

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(content))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message
