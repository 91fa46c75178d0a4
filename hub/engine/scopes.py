"""Where a step's values go and how they read: `set` targets, a tool's outcome, output selection.

`set` keys name their scope: `ctx.k` is the execution-wide `ctx` namespace (NoETL's), `iter.k`
the current loop iteration's `iter` (the execution's `ctx` outside a loop), `vars.k` and a bare
`k` the playbook's variables (read as `{{ vars.k }}` or `{{ k }}`). The same rules hold in both
dialects. The *outcome* of a tool is what policy rules and continue-on-error see: `status`
(`ok`/`error`), `data`, `error`, `http.status`, the child's `execution_id`.
"""

from __future__ import annotations

from typing import Any

from catalog.model import OutputSelect
from hub.contract.envelope import ErrorInfo


def assign(key: str, value: Any, *, variables: dict[str, Any], ctx: dict[str, Any],
           iteration: dict[str, Any] | None) -> None:
    scope, dot, name = key.partition(".")
    if not dot:
        variables[key] = value
    elif scope == "ctx":
        ctx[name] = value
    elif scope == "iter":
        (iteration if iteration is not None else ctx)[name] = value
    elif scope == "vars":
        variables[name] = value
    else:
        variables[key] = value


def outcome(data: Any, error: ErrorInfo | None, child_id: str | None = None) -> dict[str, Any]:
    """The outcome policy rules read. For an HTTP answer `data` is its body, as in NoETL."""
    http_answer = isinstance(data, dict) and "status_code" in data and "data" in data
    found: dict[str, Any] = {
        "status": "error" if error else "ok", "data": data["data"] if http_answer else data, "execution_id": child_id,
    }
    if error is not None:
        found["error"] = error.model_dump(mode="json", exclude_none=True, exclude={"diagnosis"})
        status = (error.details or {}).get("http_status")
    else:
        found["error"] = None
        status = data.get("status_code") if isinstance(data, dict) else None
    found["http"] = {"status": status}
    return found


def select(output: Any, spec: OutputSelect | None) -> Any:
    """Keep only the selected keys of a mapping output."""
    if spec is None or spec.select is None or not isinstance(output, dict):
        return output
    return {k: output[k] for k in spec.select if k in output}
