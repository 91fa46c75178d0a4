"""Jinja inside NoETL python `code`, without turning values into code.

NoETL renders `{{ ... }}` into the code text before running it, so a caller's argument becomes
code. Here each `{{ expr }}` is instead moved into the tool's `input` as `_jinja_<n>: "{{ expr }}"`
(rendered by the engine as data, like any tool field) and the code refers to the variable: outside
a string literal the expression's value takes its place; inside one, the literal is followed by a
`.replace()` that puts the value's text where the template was. `{% ... %}` statements cannot be
carried over this way and are refused with what to write instead.
"""

from __future__ import annotations

import io
import re
import tokenize
from typing import Any

_EXPRESSION = re.compile(r"\{\{(?:(?!\}\}).)*\}\}", re.DOTALL)
_PLACEHOLDER = re.compile(r"_jinja_\d+")
STATEMENT_ERROR = (
    "Jinja statements ({% ... %}) inside python code are not rendered; pass the values through "
    "`input:` and compute in Python"
)


def bind_templates(code: str, taken: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(code with each `{{ expr }}` replaced by a variable, {variable: "{{ expr }}"})."""
    bound: dict[str, str] = {}

    def name(match: re.Match[str]) -> str:
        index = len(bound)
        while f"_jinja_{index}" in taken:
            index += 1
        variable = f"_jinja_{index}"
        bound[variable] = match.group(0)
        return variable

    replaced = _EXPRESSION.sub(name, code)
    if not bound:
        return code, {}
    return _inside_strings(replaced), bound


def _inside_strings(code: str) -> str:
    """Each string literal holding placeholders gets `.replace('_jinja_n', str(_jinja_n))`."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code  # the code does not tokenize: running it reports the error
    lines = code.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    for token in tokens:
        if token.type != tokenize.STRING:
            continue
        names = list(dict.fromkeys(_PLACEHOLDER.findall(token.string)))
        if not names or token.string.lstrip("rRuUfF").startswith(("b", "B")):
            continue
        start = offsets[token.start[0] - 1] + token.start[1]
        end = offsets[token.end[0] - 1] + token.end[1]
        replaced = "(" + token.string + ")" + "".join(f".replace({n!r}, str({n}))" for n in names)
        edits.append((start, end, replaced))
    for start, end, text in reversed(edits):
        code = code[:start] + text + code[end:]
    return code


def has_statements(code: str) -> bool:
    return "{%" in code
