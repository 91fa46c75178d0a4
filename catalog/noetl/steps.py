"""A NoETL step in the hub's own form: routing, loops, variables and tools.

- `next: {spec: {mode: exclusive|inclusive}, arcs: [...]}` is `next: {mode: first|all, arcs}`;
  an arc's `set` is kept (written when the arc is taken); v1's `cond` is `when`.
- legacy `case: [{when, then: {next, set}}]` becomes arcs tried before `next`.
- `loop: {in, iterator, spec: {mode, max_in_flight}}` is the hub's flat loop; `spec.policy`
  (NoETL's distribution hints) has no meaning in one hub and is dropped.
- step `vars: {k: ...}` is `set: {k: ...}` (read as `{{ vars.k }}` or `{{ k }}`).
- `tool: [{name: a, kind: ..}, {b: {kind: ..}}]` is a pipeline of `{label: tool}` tasks.
- `tool: {kind: workbook, name: t}` is the top-level `workbook:` task `t`, inlined (the step's other
  fields, like `args`, override the task's).
"""

from __future__ import annotations

from typing import Any

from catalog.noetl.python_code import STATEMENT_ERROR, bind_templates, has_statements
from catalog.noetl.relocate import Moves
from catalog.problems import Location

Notes = list[tuple[Location, str]]
"""Problems of the translation itself, at the written location."""

MODES = {"exclusive": "first", "inclusive": "all", "first": "first", "all": "all"}
LOOP_MODES = frozenset({"sequential", "parallel"})


def read_step(step: Any, base: Location, workbook: dict[str, tuple[int, Any]], moves: Moves, notes: Notes) -> Any:
    if not isinstance(step, dict):
        return step
    out = dict(step)
    if "next" in out:
        out["next"] = _next(out["next"], (*base, "next"), moves, notes)
    if "case" in out:
        _case(out, base, moves, notes)
    if isinstance(out.get("loop"), dict):
        out["loop"] = _loop(out["loop"], (*base, "loop"), moves, notes)
    if isinstance(out.get("vars"), dict):
        variables = out.pop("vars")
        merged = dict(out.get("set") or {})
        for key, value in variables.items():
            merged[key] = value
            moves.record((*base, "set", key), (*base, "vars", key))
        out["set"] = merged
    if "tool" in out:
        out["tool"] = _tool(out["tool"], (*base, "tool"), workbook, moves, notes)
    if isinstance(out.get("tool"), dict) and out["tool"].get("kind") == "agent":
        _agent(out, base, moves)
    return out


def _agent(step: dict[str, Any], base: Location, moves: Moves) -> None:
    """NoETL writes the troubleshoot knobs on the agent tool (`tool.on_failure`): they are the
    step's `on_failure` here. `invoke_kwargs.version` is NoETL's version pin: `version`."""
    tool = dict(step["tool"])
    if isinstance(tool.get("on_failure"), dict) and "on_failure" not in step:
        step["on_failure"] = tool.pop("on_failure")
        moves.record((*base, "on_failure"), (*base, "tool", "on_failure"))
    kwargs = tool.get("invoke_kwargs")
    if isinstance(kwargs, dict) and "version" in kwargs and "version" not in tool:
        tool["invoke_kwargs"] = {k: v for k, v in kwargs.items() if k != "version"}
        tool["version"] = kwargs["version"]
        moves.record((*base, "tool", "version"), (*base, "tool", "invoke_kwargs", "version"))
    step["tool"] = tool


def _next(value: Any, base: Location, moves: Moves, notes: Notes) -> Any:
    if isinstance(value, list):
        return _arcs(value, base, moves)
    if not isinstance(value, dict):
        return value
    out = {k: v for k, v in value.items() if k != "spec"}
    spec = value.get("spec")
    if isinstance(spec, dict) and "mode" in spec:
        mode = spec["mode"]
        if mode in MODES:
            out["mode"] = MODES[mode]
            moves.record((*base, "mode"), (*base, "spec", "mode"))
        else:
            notes.append(((*base, "spec", "mode"), f"unknown next mode {mode!r}; write exclusive or inclusive"))
    if isinstance(out.get("mode"), str) and out["mode"] in MODES:
        out["mode"] = MODES[out["mode"]]
    if isinstance(out.get("arcs"), list):
        out["arcs"] = _arcs(out["arcs"], (*base, "arcs"), moves)
    return out


def _arcs(arcs: list[Any], base: Location, moves: Moves) -> list[Any]:
    """Each arc; `{when, then: [{step: a}, {step: b}]}` is one arc per target with that `when`."""
    out: list[Any] = []
    for i, arc in enumerate(arcs):
        then = arc.get("then") if isinstance(arc, dict) and "step" not in arc else None
        if isinstance(then, (list, dict, str)):
            targets = then if isinstance(then, list) else [then]
            for j, target in enumerate(targets):
                step = target.get("step") if isinstance(target, dict) else target
                moves.record((*base, len(out)), (*base, i, "then", j) if isinstance(then, list) else (*base, i, "then"))
                if "when" in arc:
                    moves.record((*base, len(out), "when"), (*base, i, "when"))
                out.append({"step": step, **({"when": arc["when"]} if "when" in arc else {})})
            continue
        if len(out) != i:
            moves.record((*base, len(out)), (*base, i))
        out.append(_arc(arc, (*base, len(out)), moves))
    return out


def _arc(arc: Any, base: Location, moves: Moves) -> Any:
    if isinstance(arc, dict) and "cond" in arc and "when" not in arc:
        arc = {("when" if k == "cond" else k): v for k, v in arc.items()}
        moves.record((*base, "when"), (*base, "cond"))
    return arc


def _case(out: dict[str, Any], base: Location, moves: Moves, notes: Notes) -> None:
    cases = out.pop("case")
    if not isinstance(cases, list):
        notes.append(((*base, "case"), "case must be a list of {when, then: {next, set}}"))
        return
    existing = out.get("next")
    arcs: list[Any] = []
    origins: list[Location] = []
    for i, item in enumerate(cases):
        where = (*base, "case", i)
        then = item.get("then") if isinstance(item, dict) else None
        if not isinstance(then, dict):
            notes.append((where, "a case needs `then: {next: [...], set: {...}}`"))
            continue
        for key in then:
            if key not in ("next", "set"):
                notes.append(((*where, "then", key), f"case.then.{key} is not supported; make it a step "
                              "and route to it with `next: {arcs: [{step, when}]}`"))
        targets = then.get("next")
        targets = [targets] if isinstance(targets, (str, dict)) else targets or []
        for target in targets:
            name = target.get("step") if isinstance(target, dict) else target
            arc: dict[str, Any] = {"step": name, "when": item.get("when")}
            if isinstance(then.get("set"), dict):
                arc["set"] = then["set"]
            arcs.append(arc)
            origins.append(where)
    if isinstance(existing, dict):
        mode, fallback = existing.get("mode", "first"), list(existing.get("arcs") or [])
    else:
        mode, fallback = "first", [existing] if isinstance(existing, str) else list(existing or [])
    fallback = [{"step": a} if isinstance(a, str) else a for a in fallback]
    for j in range(len(fallback)):
        written = (*base, "next", "arcs", j) if isinstance(existing, dict) else (*base, "next", j)
        moves.record((*base, "next", "arcs", len(arcs) + j), written)
    for j, where in enumerate(origins):
        moves.record((*base, "next", "arcs", j), where)
    out["next"] = {"mode": mode, "arcs": arcs + fallback}
    moves.record((*base, "next"), (*base, "case"))


def _loop(loop: dict[str, Any], base: Location, moves: Moves, notes: Notes) -> dict[str, Any]:
    out = {k: v for k, v in loop.items() if k != "spec"}
    spec = loop.get("spec")
    if isinstance(spec, dict):
        for key in ("mode", "max_in_flight"):
            if key in spec:
                out[key] = spec[key]
                moves.record((*base, key), (*base, "spec", key))
    if "cursor" in out:
        del out["cursor"]
        notes.append(((*base, "cursor"), "loop.cursor (a database-claimed work queue) is not supported; "
                      "fetch the rows in a step before and write `loop: {in: \"{{ rows_step.rows }}\"}`"))
    return out


def _tool(tool: Any, base: Location, workbook: dict[str, tuple[int, Any]], moves: Moves, notes: Notes) -> Any:
    if isinstance(tool, dict):
        return _one_tool(tool, base, workbook, moves, notes)
    if not isinstance(tool, list):
        return tool
    tasks: list[Any] = []
    for j, task in enumerate(tool):
        where = (*base, j)
        if isinstance(task, dict) and "kind" in task and isinstance(task.get("name"), str):
            label = task["name"]
            body = {k: v for k, v in task.items() if k != "name"}
            tasks.append({label: _one_tool(body, where, workbook, moves, notes)})
            moves.record((*base, j, label), where)
        elif isinstance(task, dict) and len(task) == 1 and isinstance(next(iter(task.values())), dict):
            label, body = next(iter(task.items()))
            tasks.append({label: _one_tool(body, (*where, label), workbook, moves, notes)})
        else:
            notes.append((where, "a pipeline task is `- name: label` with `kind:` (or `- label: {kind: ...}`)"))
            tasks.append(task)
    return tasks


SPEC_KEEPS = frozenset({"policy", "assert", "mode", "timeout_policy"})
"""Keys of `tool.spec` that describe the tool rather than configure its kind."""


def _hoist_spec(tool: dict[str, Any], base: Location, moves: Moves) -> dict[str, Any]:
    """NoETL v2 may write a kind's own fields under `tool.spec` (`spec: {code: ...}`,
    `spec: {method, endpoint, params, policy}`): they are the tool's fields here; `policy` stays.
    `tool.assert` (a contract of expected inputs and outputs) is kept under `spec`."""
    spec = tool.get("spec")
    out = dict(tool)
    if isinstance(spec, dict) and any(k not in SPEC_KEEPS for k in spec):
        kept = {k: v for k, v in spec.items() if k in SPEC_KEEPS}
        for key, value in spec.items():
            if key not in SPEC_KEEPS and key not in out:
                out[key] = value
                moves.record((*base, key), (*base, "spec", key))
        out["spec"] = kept
    if "assert" in out:
        out["spec"] = {**(out.get("spec") or {}), "assert": out.pop("assert")}
        moves.record((*base, "spec", "assert"), (*base, "assert"))
    return out


def _one_tool(tool: dict[str, Any], base: Location, workbook: dict[str, tuple[int, Any]], moves: Moves,
              notes: Notes) -> dict[str, Any]:
    tool = _hoist_spec(tool, base, moves)
    if tool.get("kind") == "workbook" and workbook:  # without a `workbook:` section it stays an unavailable kind
        tool = _workbook_task(tool, base, workbook, moves, notes)
    if tool.get("kind") == "python" and isinstance(tool.get("code"), str):
        tool = _python(tool, base, notes)
    if tool.get("kind") == "agent" and "output" not in tool:
        tool = {**tool, "output": {"envelope": True}}  # NoETL: an agent step answers its envelope
    return tool


def _python(tool: dict[str, Any], base: Location, notes: Notes) -> dict[str, Any]:
    code = tool["code"]
    if has_statements(code):
        notes.append(((*base, "code"), STATEMENT_ERROR))
        return tool
    inputs = tool.get("input") if isinstance(tool.get("input"), dict) else {}
    code, bound = bind_templates(code, {**inputs, **(tool.get("args") or {})})
    if not bound:
        return tool
    return {**tool, "code": code, "input": {**inputs, **bound}}


def _workbook_task(tool: dict[str, Any], base: Location, workbook: dict[str, tuple[int, Any]], moves: Moves,
                   notes: Notes) -> dict[str, Any]:
    name = tool.get("name") or tool.get("task")
    found = workbook.get(name) if isinstance(name, str) else None
    if found is None:
        notes.append(((*base, "name"), f"no workbook task named {name!r}; known: {', '.join(sorted(workbook)) or '(none)'}"))
        return tool
    index, task = found
    body = task.get("tool") if isinstance(task.get("tool"), dict) else {k: v for k, v in task.items() if k != "name"}
    origin = ("workbook", index, "tool") if isinstance(task.get("tool"), dict) else ("workbook", index)
    if "type" in body and "kind" not in body:  # NoETL v1 wrote `type:`
        body = {("kind" if k == "type" else k): v for k, v in body.items()}
        moves.record((*base, "kind"), (*origin, "type"))
    merged = dict(body)
    moves.record(base, origin)
    for key, value in tool.items():
        if key in ("kind", "name", "task"):
            continue
        merged[key] = value
        moves.record((*base, key), (*base, key))
    return merged


def workbook_tasks(data: dict[str, Any]) -> dict[str, tuple[int, Any]]:
    tasks = data.get("workbook")
    if not isinstance(tasks, list):
        return {}
    return {t["name"]: (i, t) for i, t in enumerate(tasks) if isinstance(t, dict) and isinstance(t.get("name"), str)}
