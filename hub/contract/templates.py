"""Template rendering in a Jinja2 sandbox: playbook strings are templates, arguments are data.

Only strings written in the playbook are rendered; values that come from callers (tool arguments,
step outputs) are inserted as data and never rendered again, so a `{{ ... }}` inside an argument
stays text. A string that is one bare `{{ expr }}` keeps the expression's native type (a list stays
a list). The sandbox refuses private attributes (`''.__class__`), and this environment also refuses
`**` and `*` that would build huge values, so a hostile template fails with TEMPLATE_UNSAFE.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode

_BARE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)
_DOTTED_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$")
_MAX_BUILT_LENGTH = 1_000_000
_MAX_EXPONENT = 4096
_CACHE_SIZE = 4096


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


class _HubSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with size limits on the two operators that can exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`a.items` on a mapping means its key `items`, not the dict method (data over methods)."""
        if isinstance(obj, Mapping):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, (int, float)) and abs(right) > _MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is above the limit of {_MAX_EXPONENT}")
            return left**right
        if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, int):
            if len(left) * right > _MAX_BUILT_LENGTH:
                raise SecurityError("the product would be too large")
        if isinstance(right, (str, bytes, list, tuple)) and isinstance(left, int):
            if len(right) * left > _MAX_BUILT_LENGTH:
                raise SecurityError("the product would be too large")
        return left * right


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
        self._env.filters["fromjson"] = json.loads
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
        try:
            compiled = self._compile(text, plain=False, text_only=True)
            return compiled.render(context)
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
        try:
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
        except SecurityError as exc:
            raise Failure.of(ErrorCode.TEMPLATE_UNSAFE, f"{where}: template refused: {exc}") from None
        except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
            raise Failure.of(
                ErrorCode.TEMPLATE_ERROR, f"{where}: {type(exc).__name__}: {exc}"
            ) from None

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


_MISSING = object()


def _lookup(context: Mapping[str, Any], path: list[str]) -> Any:
    """Follow mapping keys only; anything else (attributes, misses) is left to the sandbox."""
    value: Any = context
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value
