"""Template rendering in a Jinja2 sandbox: playbook strings are templates, arguments are data.

Only strings written in the playbook are rendered; values that come from callers (tool arguments,
step outputs) are inserted as data and never rendered again, so a `{{ ... }}` inside an argument
stays text. A string that is one bare `{{ expr }}` keeps the expression's native type (a list stays
a list). The sandbox refuses private attributes (`''.__class__`), and this environment also refuses
operations that would build huge values (`*`, `**`, `%`-formats, `str.format` widths, padding,
`replace`) and loops that run past the render's deadline (`hub.contract.template_limits`), so a
hostile template fails with TEMPLATE_UNSAFE, or DEADLINE_EXCEEDED when the run's own deadline passed.
"""

from __future__ import annotations

import base64
import json
import re
import string
import types
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.filters import FILTERS as _JINJA_FILTERS
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.hooks import current_run
from hub.contract.template_limits import (
    MAX_BUILT_LENGTH,
    BoundedRange,
    RenderDeadline,
    RenderTimeout,
    check_deadline,
    check_format_spec,
    check_percent_format,
    check_power,
    check_size,
    check_str_method,
    refuse,
)

_BARE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)
_DOTTED_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$")
_MAX_EXPONENT = 4096
_CACHE_SIZE = 4096


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


def has_template(value: Any) -> bool:
    """Whether rendering `value` (as `Templates.render` walks it) could change anything."""
    if isinstance(value, str):
        return is_template(value)
    if isinstance(value, dict):
        return any(has_template(item) for item in value.values())
    if isinstance(value, list):
        return any(has_template(item) for item in value)
    return False


class _HubSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with size limits on what one operation may build and a deadline on loops
    (`hub.contract.template_limits`)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = BoundedRange

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`a.items` on a mapping means its key `items`, not the dict method (data over methods)."""
        check_deadline()
        if isinstance(obj, Mapping):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return super().getattr(obj, attribute)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        check_deadline()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and isinstance(__obj, types.BuiltinMethodType):
            check_str_method(owner, __obj.__name__, args)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        """`str.format` / `format_map` with every field's spec checked before it is formatted."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fields = list(string.Formatter().parse(value.__self__))
        for _, _, spec, _ in fields:
            if spec:
                check_format_spec(spec)
        if not any(spec and "{" in spec for _, _, spec, _ in fields):
            return wrapped

        def bounded(*args: Any, **kwargs: Any) -> str:  # `{:{}}` takes its width from the arguments
            values = [*args, *kwargs.values()]
            if value.__name__ == "format_map" and args and isinstance(args[0], Mapping):
                values = list(args[0].values())
            for arg in values:
                check_size(arg, "a format width")
            return wrapped(*args, **kwargs)

        return bounded

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        check_deadline()
        if operator == "**":
            if isinstance(right, (int, float)) and abs(right) > _MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is above the limit of {_MAX_EXPONENT}")
            check_power(left, right)
            return left**right
        if operator == "%":
            if isinstance(left, str):
                check_percent_format(left, right)
            return left % right
        if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, int):
            if len(left) * right > MAX_BUILT_LENGTH:
                raise SecurityError("the product would be too large")
        if isinstance(right, (str, bytes, list, tuple)) and isinstance(left, int):
            if len(right) * left > MAX_BUILT_LENGTH:
                raise SecurityError("the product would be too large")
        return left * right


def _format_filter(value: Any, *args: Any, **kwargs: Any) -> str:
    """Jinja's `format` filter (`value % args`) with the widths checked first."""
    text = str(value)
    values = kwargs or args
    check_percent_format(text, values)
    return text % values


def _center_filter(value: Any, width: int = 80) -> str:
    check_size(width, "the center filter")
    return str(value).center(width)


def _indent_filter(value: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    text = str(value)
    pad = len(width) if isinstance(width, str) else width
    check_size(pad, "the indent filter")
    if isinstance(pad, int) and pad * (text.count("\n") + 1) + len(text) > MAX_BUILT_LENGTH:
        raise refuse("the indent filter")
    return _JINJA_FILTERS["indent"](text, width, first, blank)


def _replace_filter(eval_ctx: Any, value: Any, old: str, new: str, count: int | None = None) -> Any:
    check_str_method(str(value), "replace", (old, new) if count is None else (old, new, count))
    return _JINJA_FILTERS["replace"](eval_ctx, value, old, new, count)


_replace_filter.jinja_pass_arg = _JINJA_FILTERS["replace"].jinja_pass_arg  # type: ignore[attr-defined]


def _now() -> str:
    """`{{ now() }}`: the current UTC time, ISO 8601."""
    return datetime.now(timezone.utc).isoformat()


def _b64encode(value: str | bytes) -> str:
    raw = value.encode() if isinstance(value, str) else value
    return base64.b64encode(raw).decode()


class Templates:
    """Renders playbook values against a context. One per engine; compiled templates are cached."""

    def __init__(self, *, finalize: Callable[[Any], Any] | None = None) -> None:
        """`finalize` sees every `{{ expr }}` value before it joins the text (a kind passes one that
        shell-quotes, or that turns values into bound SQL parameters); see `render_text`."""
        self._env = _HubSandbox(undefined=StrictUndefined, autoescape=False, finalize=finalize)
        self._env.filters["b64encode"] = _b64encode
        self._env.filters.update(format=_format_filter, center=_center_filter, indent=_indent_filter,
                                 replace=_replace_filter)
        self._env.filters["fromjson"] = json.loads
        self._env.globals["now"] = _now
        self._compiled: dict[str, Any] = {}

    def render(self, value: Any, context: Mapping[str, Any], where: str) -> Any:
        """Render every template string inside `value` (dicts and lists walked; keys kept)."""
        if isinstance(value, str):
            return self._render_str(value, context, where) if is_template(value) else value
        if isinstance(value, dict):
            return {k: self.render(v, context, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, context, f"{where}[{i}]") for i, v in enumerate(value)]
        return value

    def render_text(self, text: str, context: Mapping[str, Any], where: str) -> str:
        """Render `text` as text, every expression passed through the environment's `finalize`
        (no native-type shortcut for a bare `{{ expr }}`, which would bypass it)."""
        if not is_template(text):
            return text
        run = current_run()
        try:
            with RenderDeadline(run.deadline if run is not None else None):
                return self._compile(text, plain=False, text_only=True).render(context)
        except RenderTimeout as exc:
            raise _overran(run, where, exc) from None
        except SecurityError as exc:
            raise Failure.of(ErrorCode.TEMPLATE_UNSAFE, f"{where}: template refused: {exc}") from None
        except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            raise Failure.of(
                ErrorCode.TEMPLATE_ERROR, f"{where}: {type(exc).__name__}: {exc}"
            ) from None

    def truthy(self, condition: str | bool | None, context: Mapping[str, Any], where: str) -> bool:
        """An arc's `when`: no condition is true; strings like 'false' or '0' are false."""
        if condition is None:
            return True
        value = self.render(condition, context, where)
        if isinstance(value, str):
            return value.strip().lower() not in ("", "false", "0", "no", "none", "null", "off")
        return bool(value)

    def _render_str(self, text: str, context: Mapping[str, Any], where: str) -> Any:
        compiled = self._compiled.get(text)
        if isinstance(compiled, list):  # `{{ a.b }}`: mapping lookups only, no Jinja to bound
            try:
                found = _lookup(context, compiled)
            except Exception:  # noqa: BLE001 - an odd mapping: the full path below reports it
                found = _MISSING
            if found is not _MISSING:
                return found
        run = current_run()
        try:
            with RenderDeadline(run.deadline if run is not None else None):
                return self._render_checked(text, context)
        except RenderTimeout as exc:
            raise _overran(run, where, exc) from None
        except SecurityError as exc:
            raise Failure.of(ErrorCode.TEMPLATE_UNSAFE, f"{where}: template refused: {exc}") from None
        except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            raise Failure.of(
                ErrorCode.TEMPLATE_ERROR, f"{where}: {type(exc).__name__}: {exc}"
            ) from None

    def _render_checked(self, text: str, context: Mapping[str, Any]) -> Any:
        """Render under the limits of `hub.contract.template_limits` (the caller maps errors)."""
        compiled = self._compile(text)
        if isinstance(compiled, list):  # a plain dotted name: look it up without Jinja
            found = _lookup(context, compiled)
            if found is not _MISSING:
                return found
            compiled = self._compile(text, plain=False)
        if isinstance(compiled, tuple):
            result = compiled[1](**context)
            if isinstance(result, Undefined):
                result._fail_with_undefined_error()
            return result
        return compiled.render(context)

    def _compile(self, text: str, *, plain: bool = True, text_only: bool = False) -> Any:
        """A key path (list) for `{{ a.b }}`, a compiled expression `("expr", fn)` for any other
        bare `{{ expr }}`, else a Template. `plain=False` skips the key-path form; `text_only`
        always gives a Template."""
        key = ("\1" if text_only else "" if plain else "\0") + text
        cached = self._compiled.get(key)
        if cached is not None:
            return cached
        bare = None if text_only else _BARE_EXPRESSION.match(text)
        dotted = _DOTTED_NAME.match(bare["expr"]) if bare and plain else None
        if dotted:
            compiled: Any = dotted.group(1).split(".")
        elif bare:
            compiled = ("expr", self._env.compile_expression(bare["expr"], undefined_to_none=False))
        else:
            compiled = self._env.from_string(text)
        if len(self._compiled) >= _CACHE_SIZE:
            self._compiled.clear()
        self._compiled[key] = compiled
        return compiled


def _overran(run: Any, where: str, exc: RenderTimeout) -> Failure:
    """DEADLINE_EXCEEDED when the run's own deadline passed while rendering, else TEMPLATE_UNSAFE."""
    if run is not None and run.remaining() is not None and run.remaining() <= 0:
        return Failure.of(ErrorCode.DEADLINE_EXCEEDED, f"{where}: the execution's deadline passed while rendering")
    return Failure.of(ErrorCode.TEMPLATE_UNSAFE, f"{where}: template refused: {exc}")


_MISSING = object()


def _lookup(context: Mapping[str, Any], path: list[str]) -> Any:
    """Follow mapping keys only; anything else (attributes, misses) is left to the sandbox."""
    value: Any = context
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value
