"""The `tool:` block of an `agent` step, checked twice: when the catalog loads the playbook, and
again at run time after its templates are rendered.

The keys are the seed contract's (shared/seeds/004): `framework`, `entrypoint`, `entrypoint_mode`,
`entrypoint_args`, `invoke_method`, `payload`, `invoke_kwargs`, `version`, `timeout`.

`AgentConfig` is the strict model. The catalog checks every literal value with it (a typo in a
playbook is refused with file:line:field, like any other kind). A value that is a template is only
known at run time, so the engine hands the kind the rendered block through the permissive
`AgentToolBlock`, and `parse_config` checks it with `AgentConfig` again, turning each problem into
an `agent.configuration` error with a code a client can branch on (UNKNOWN_FRAMEWORK,
INVALID_ENTRYPOINT, ...) and an envelope, rather than a bare STEP_CONFIG_INVALID.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from bridges.entrypoints import is_entrypoint
from hub.contract.envelope import ErrorInfo
from hub.contract.errors import ErrorCode

FRAMEWORKS = ("adk", "langchain", "custom", "noetl")
ALIASES = {"playbook": "noetl"}
PYTHON_FRAMEWORKS = frozenset({"adk", "langchain", "custom"})
CATALOG_REF_RE = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*(@(\d+|latest))?\Z")

_FIELD_CODES: dict[str, ErrorCode] = {
    "framework": ErrorCode.UNKNOWN_FRAMEWORK,
    "entrypoint": ErrorCode.INVALID_ENTRYPOINT,
    "entrypoint_mode": ErrorCode.INVALID_ENTRYPOINT_MODE,
    "entrypoint_args": ErrorCode.INVALID_ENTRYPOINT_ARGS,
    "invoke_kwargs": ErrorCode.INVALID_INVOKE_KWARGS,
    "invoke_method": ErrorCode.INVALID_INVOKE_METHOD,
}


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _problem(code: ErrorCode, message: str) -> PydanticCustomError:
    """A validation error whose type is the error code (so run time can map it back)."""
    return PydanticCustomError(code.name, message)


class AgentConfig(BaseModel):
    """`tool: {kind: agent, ...}` as written in a playbook."""

    model_config = ConfigDict(extra="forbid")

    framework: Literal["adk", "langchain", "custom", "noetl", "playbook"] = Field(
        description="The agent runtime: adk, langchain, custom (any callable) or noetl "
        "(a catalog playbook run as a sub-execution; `playbook` is an alias)."
    )
    entrypoint: str = Field(
        min_length=1,
        description="`pkg.module:attr` for Python frameworks; the catalog path (or tool name) for noetl.",
    )
    entrypoint_mode: Literal["factory", "callable"] = Field(
        default="factory",
        description="factory: call the entrypoint (with entrypoint_args) to build the runtime, once; "
        "callable: the entrypoint is the runtime. Python frameworks only.",
    )
    entrypoint_args: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the factory (factory mode only)."
    )
    invoke_method: str | None = Field(
        default=None,
        description="Method of the runtime to call; default: adk run_async, langchain ainvoke, "
        "custom the first of ainvoke, invoke, run_async, run, __call__.",
    )
    payload: Any = Field(default=None, description="The agent's input (the child's arguments for noetl).")
    invoke_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra keyword arguments of the invocation (custom: merged over payload keys; "
        "langchain: ainvoke kwargs, `config` merged with the hub's; adk: run_async kwargs; "
        "noetl: merged over the payload).",
    )
    version: int | None = Field(default=None, ge=1, description="Catalog version pin (noetl only).")
    timeout: float | None = Field(
        default=None, gt=0, description="Seconds the agent may take; then an agent.timeout envelope."
    )

    @property
    def runtime(self) -> str:
        """The framework, with aliases resolved (`playbook` -> `noetl`)."""
        return ALIASES.get(self.framework, self.framework)

    @model_validator(mode="after")
    def _fits_framework(self) -> AgentConfig:
        given = self.model_fields_set
        entrypoint = self.entrypoint
        if self.runtime == "noetl":
            if not _is_template(entrypoint) and not CATALOG_REF_RE.match(entrypoint):
                raise _problem(
                    ErrorCode.INVALID_ENTRYPOINT,
                    f"framework noetl needs a catalog path or tool name (like 'agents/triage'), not {entrypoint!r}",
                )
            unused = sorted(given & {"entrypoint_mode", "entrypoint_args", "invoke_method"})
            if unused:
                raise _problem(
                    ErrorCode.AGENT_OPTION_INVALID,
                    f"{', '.join(unused)} not used by framework noetl (it runs a catalog playbook)",
                )
            if "version" in self.invoke_kwargs:
                raise _problem(
                    ErrorCode.INVALID_INVOKE_KWARGS,
                    "invoke_kwargs.version would be passed to the child as an argument; "
                    "pin the playbook's version with `version:` instead",
                )
            return self
        if not _is_template(entrypoint) and not is_entrypoint(entrypoint):
            raise _problem(
                ErrorCode.INVALID_ENTRYPOINT,
                f"framework {self.runtime} needs an entrypoint like 'package.module:attr', not {entrypoint!r}",
            )
        if "version" in given:
            raise _problem(
                ErrorCode.AGENT_OPTION_INVALID,
                f"version is a catalog pin for framework noetl; framework {self.runtime} does not use it",
            )
        if self.entrypoint_mode == "callable" and self.entrypoint_args:
            raise _problem(
                ErrorCode.INVALID_ENTRYPOINT_ARGS,
                "entrypoint_args are the factory's arguments; entrypoint_mode callable has no factory",
            )
        if self.runtime == "adk" and self.invoke_method not in (None, "run_async"):
            raise _problem(
                ErrorCode.INVALID_INVOKE_METHOD,
                f"framework adk runs the agent through its Runner's run_async, not {self.invoke_method!r}",
            )
        return self


class AgentToolBlock(BaseModel):
    """What the engine validates the rendered block with: anything. `parse_config` checks it."""

    model_config = ConfigDict(extra="allow")


def parse_config(block: dict[str, Any]) -> AgentConfig:
    """The checked config, or `ConfigProblem` naming the first problem's code and every problem."""
    try:
        return AgentConfig.model_validate(block)
    except ValidationError as exc:
        raise ConfigProblem.from_validation(exc, block) from None


class ConfigProblem(Exception):
    """The agent block does not hold: the error to report (its code is the first problem's)."""

    def __init__(self, error: ErrorInfo) -> None:
        super().__init__(error.message)
        self.error = error

    @classmethod
    def from_validation(cls, exc: ValidationError, block: dict[str, Any]) -> ConfigProblem:
        problems: list[tuple[ErrorCode, str]] = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            problems.append(_explain(error, field, block))
        order = list(_FIELD_CODES.values()) + [ErrorCode.AGENT_OPTION_INVALID]
        problems.sort(key=lambda p: order.index(p[0]) if p[0] in order else len(order))
        code = problems[0][0]
        message = "; ".join(dict.fromkeys(text for _, text in problems))
        return cls(ErrorInfo.of(code, message))


def _explain(error: Any, field: str, block: dict[str, Any]) -> tuple[ErrorCode, str]:
    if error["type"] in ErrorCode.__members__:
        return ErrorCode[error["type"]], str(error["msg"])
    if error["type"] == "extra_forbidden":
        allowed = list(AgentConfig.model_fields)
        close = difflib.get_close_matches(field, allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"
        return ErrorCode.AGENT_OPTION_INVALID, f"unknown key {field!r} in the agent tool block{hint}"
    if field == "framework":
        given = block.get("framework")
        known = f"known: {', '.join(FRAMEWORKS)} (alias playbook)"
        if given is None:
            return ErrorCode.UNKNOWN_FRAMEWORK, f"framework is required; {known}"
        return ErrorCode.UNKNOWN_FRAMEWORK, f"unknown framework {given!r}; {known}"
    if error["type"] == "missing":
        return _FIELD_CODES.get(field, ErrorCode.AGENT_OPTION_INVALID), f"{field} is required"
    code = _FIELD_CODES.get(field, ErrorCode.AGENT_OPTION_INVALID)
    return code, f"{field}: {error['msg']} (got {block.get(field)!r})"
