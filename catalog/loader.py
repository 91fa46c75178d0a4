"""Loading a playbook file: strict YAML, the pydantic model, then the checks a model cannot make,
every problem placed at the file, line and field where it was written.

A file is either fully valid or not loaded: `load_playbook` returns the playbook only when it found
no problem at all, and it reports all the problems of the file at once (not just the first), so an
operator fixes a file in one round. The order of checks:

1. YAML (syntax, one document, a mapping, no duplicate keys) — nothing else runs if this fails;
2. the document `kind` picks the model (`Playbook`, `McpServer`, `Prompt`, `Resource`: see
   `document_kinds()`);
3. the model (every pydantic error, its `loc` mapped back onto the YAML);
4. on the raw data, so they run even when step 3 failed: each step's `tool:` against its kind's
   model (when the caller passes `tool_kinds`), Jinja2 syntax of every template, the `output:`
   JSON Schema;
5. when the model is valid: `Playbook.problems()` (cross-field) and input defaults against their
   own parameter schema.

Template strings are exempt from the kind model's checks: a `timeout: "{{ input.t }}"` is only
known after rendering, and the engine checks the rendered config at run time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ValidationError

from catalog.mcp_servers import TEMPLATE_NAMES, McpServer
from catalog.model import InputParam, Playbook
from catalog.prompts import Prompt
from catalog.resources import Resource
from catalog.noetl.reader import is_noetl, read_noetl
from catalog.placement import Report, report_validation_error
from catalog.problems import Location, Problem, sort_problems
from catalog.schema import DIALECT, param_schema, schema_violations
from catalog.yaml_source import YamlDocument, parse_yaml


M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ToolKindSpec:
    """What the catalog needs to know of a tool kind: the model of its `tool:` block (without
    `kind`), the fields that are passed as written, not rendered as templates (inline code), and
    whether it can run on this hub at all."""

    model: type[BaseModel]
    raw_fields: frozenset[str] = frozenset()
    unavailable: str | None = None
    """Set for a kind the hub knows of but cannot run here: why (`catalog validate` warns of it)."""


@dataclass(frozen=True)
class LoadedDocument:
    """The result of loading one catalog file of any kind: its model (None when any problem was
    found), the problems, and the parsed YAML."""

    model: Playbook | McpServer | Prompt | Resource | None
    problems: list[Problem]
    document: YamlDocument | None = None


@dataclass(frozen=True)
class LoadedPlaybook:
    """The full result of loading one file: the playbook (None when any problem was found), the
    problems, and the parsed YAML (to place further problems on the file)."""

    playbook: Playbook | None
    problems: list[Problem]
    document: YamlDocument | None = None


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


# --- checks on the raw data ----------------------------------------------------------------------


def _steps(data: Mapping[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    workflow = data.get("workflow")
    if isinstance(workflow, list):
        for index, step in enumerate(workflow):
            if isinstance(step, dict):
                yield index, step


ENGINE_TOOL_FIELDS = frozenset({"kind", "spec", "output", "retry", "set"})
"""Fields of a `tool:` block the engine reads for every kind (not passed to the kind)."""


def _tool_blocks(data: Mapping[str, Any]) -> Iterator[tuple[Location, dict[str, Any]]]:
    """Every `tool:` block with a kind: a step's, or each task of a pipeline (`tool: [{label: {..}}]`)."""
    for index, step in _steps(data):
        tool = step.get("tool")
        base: Location = ("workflow", index, "tool")
        if isinstance(tool, dict):
            yield base, tool
        elif isinstance(tool, list):
            for j, task in enumerate(tool):
                if isinstance(task, dict) and len(task) == 1:
                    label, inner = next(iter(task.items()))
                    if isinstance(inner, dict):
                        yield (*base, j, label), inner


def _check_tool_kinds(report: Report, tool_kinds: Mapping[str, ToolKindSpec]) -> None:
    known = ", ".join(sorted(tool_kinds)) or "(none)"
    for base, tool in _tool_blocks(report.document.data):
        if not isinstance(tool.get("kind"), str):
            continue  # the model reports it
        spec = tool_kinds.get(tool["kind"])
        if spec is None:
            report.at((*base, "kind"), f"unknown tool kind {tool['kind']!r}; known kinds: {known}")
            continue
        config = {k: v for k, v in tool.items() if k not in ENGINE_TOOL_FIELDS}

        def rendered_later(error: Mapping[str, Any], spec: ToolKindSpec = spec) -> bool:
            first = error["loc"][0] if error["loc"] else None
            return first not in spec.raw_fields and _is_template(error.get("input"))

        try:
            spec.model.model_validate(config)
        except ValidationError as exc:
            report_validation_error(report, exc, spec.model, base, skip=rendered_later)
        except Exception as exc:  # a kind's validator that raises something else must not stop loading
            report.at(base, f"the {tool['kind']!r} kind could not check this block: {type(exc).__name__}: {exc}")


def _templates(value: Any, location: Location) -> Iterator[tuple[Location, str]]:
    if isinstance(value, str):
        if _is_template(value):
            yield location, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _templates(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _templates(item, (*location, index))


def _template_sites(
    data: Mapping[str, Any], tool_kinds: Mapping[str, ToolKindSpec] | None
) -> Iterator[tuple[Location, str]]:
    """Every string the engine will render: step input, tool config (not raw fields), loop.in,
    set, result, next (arc conditions), and the playbook's result. Tool config is only checked
    when its kind is known, since only the kind knows which fields are code, not templates."""
    if "result" in data:
        yield from _templates(data["result"], ("result",))
    for index, step in _steps(data):
        base: Location = ("workflow", index)
        for key in ("input", "set", "result", "next"):
            if key in step:
                yield from _templates(step[key], (*base, key))
        loop = step.get("loop")
        if isinstance(loop, dict) and "in" in loop:
            yield from _templates(loop["in"], (*base, "loop", "in"))
    if tool_kinds is None:
        return
    for base, tool in _tool_blocks(data):
        if tool.get("kind") in tool_kinds:
            raw = tool_kinds[tool["kind"]].raw_fields
            for key, value in tool.items():
                if key != "kind" and key not in raw:
                    yield from _templates(value, (*base, key))


@functools.lru_cache(maxsize=1)
def _template_parser() -> ImmutableSandboxedEnvironment:
    """The one sandboxed environment templates are parsed with. Built once, not per file (its
    construction cost as much as a small playbook's other checks); `parse` keeps no state in it."""
    return ImmutableSandboxedEnvironment()


def _check_templates(report: Report, tool_kinds: Mapping[str, ToolKindSpec] | None) -> None:
    for location, text in _template_sites(report.document.data, tool_kinds):
        try:
            _template_parser().parse(text)
        except jinja2.TemplateSyntaxError as exc:
            report.at_template(location, f"template syntax error: {exc.message}", exc.lineno or 1)


def _check_output_schema(report: Report) -> None:
    output = report.document.data.get("output")
    if not isinstance(output, dict):
        return  # absent, or the model reports its type
    from jsonschema import Draft202012Validator, SchemaError  # here: most playbooks have no `output:`

    try:
        Draft202012Validator.check_schema(output)
    except SchemaError as exc:
        report.at(("output", *exc.absolute_path), f"not a valid JSON Schema: {exc.message}")


def _check_input_document(report: Report) -> None:
    """An `input:` written as a JSON Schema document: a valid 2020-12 schema of an object."""
    document = report.document.data.get("input")
    if not isinstance(document, dict) or "$schema" not in document:
        return
    if document["$schema"] != DIALECT:
        report.at(("input", "$schema"), f"an input document must be JSON Schema 2020-12 ({DIALECT})")
    if document.get("type") != "object":
        report.at(("input", "type"), "an input document must be `type: object` (tool arguments are an object)")
    from jsonschema import Draft202012Validator, SchemaError

    try:
        Draft202012Validator.check_schema(document)
    except SchemaError as exc:
        report.at(("input", *exc.absolute_path), f"not a valid JSON Schema: {exc.message}")


def _check_defaults(report: Report, params: Mapping[str, InputParam], base: Location) -> None:
    for name, param in params.items():
        location = (*base, name)
        if param.has_default:
            schema = param_schema(param, with_default=False)
            for inner, message in schema_violations(schema, param.default, noun="property"):
                report.at((*location, "default", *inner), f"default does not fit its parameter: {message}")
        if param.properties:
            _check_defaults(report, param.properties, (*location, "properties"))
        if param.items is not None and param.items.properties:
            _check_defaults(report, param.items.properties, (*location, "items", "properties"))


# --- document kinds ------------------------------------------------------------------------------


def _check_playbook(report: Report, tool_kinds: Mapping[str, ToolKindSpec] | None) -> Playbook | None:
    data = report.document.data
    playbook: Playbook | None = None
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        report_validation_error(report, exc, Playbook)
    if tool_kinds is not None:
        _check_tool_kinds(report, tool_kinds)
    _check_templates(report, tool_kinds)
    _check_output_schema(report)
    _check_input_document(report)
    if playbook is not None:
        for loc, message in playbook.problems():
            report.at_model_loc(loc, message)
        _check_defaults(report, playbook.input or {}, ("input",))
    return playbook


def _check_mcp_server(report: Report, tool_kinds: Mapping[str, ToolKindSpec] | None) -> McpServer | None:
    """The model, then the header/env templates: Jinja2 syntax, and only `keychain.<name>` of a
    declared entry (a server definition has no inputs or steps to refer to)."""
    data = report.document.data
    server: McpServer | None = None
    try:
        server = McpServer.model_validate(data)
    except ValidationError as exc:
        report_validation_error(report, exc, McpServer)
    if server is None:
        return None
    for loc, message in server.problems():
        report.at_model_loc(loc, message)
    declared = {entry.name for entry in server.keychain}
    for location, text in server.templated.items():
        if not _is_template(text):
            continue
        tree = _parsed_template(report, location, text)
        if tree is None:
            continue
        unknown = sorted(meta.find_undeclared_variables(tree) - TEMPLATE_NAMES)
        if unknown:
            report.at(location, f"a server template may only use keychain.<name>, not {', '.join(unknown)}")
        for ref in tree.find_all(nodes.Getattr):
            if isinstance(ref.node, nodes.Name) and ref.node.name == "keychain" and ref.attr not in declared:
                report.at(location, f"keychain entry {ref.attr!r} is not declared in this file's `keychain:`")
    return server


def _parsed_template(report: Report, location: Location, text: str) -> nodes.Template | None:
    """The template's syntax tree, or None with its syntax error placed on the file."""
    try:
        return _template_parser().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        report.at_template(location, f"template syntax error: {exc.message}", exc.lineno or 1)
        return None


def _check_names_in_templates(report: Report, location: Location, text: str, names: set[str], what: str) -> None:
    """Jinja2 syntax of one template, and that it uses only `names` (a prompt's arguments, a
    resource template's URI variables)."""
    tree = _parsed_template(report, location, text)
    if tree is None:
        return
    unknown = sorted(meta.find_undeclared_variables(tree) - names)
    if unknown:
        report.at(location, f"uses {', '.join(unknown)}, which is not {what}")


def _validated(report: Report, model: type[M]) -> M | None:
    """The document as `model`, or None with every pydantic error placed on the file."""
    try:
        return model.model_validate(report.document.data)
    except ValidationError as exc:
        report_validation_error(report, exc, model)
        return None


def _check_prompt(report: Report, tool_kinds: Mapping[str, ToolKindSpec] | None) -> Prompt | None:
    """The model, then every message template: syntax, and only declared arguments."""
    prompt = _validated(report, Prompt)
    if prompt is None:
        return None
    names = set(prompt.arguments)
    for i, message in enumerate(prompt.messages):
        for location, text in _templates(message.content, ("messages", i, "content")):
            _check_names_in_templates(report, location, text, names, "a declared argument")
    return prompt


def _check_resource(report: Report, tool_kinds: Mapping[str, ToolKindSpec] | None) -> Resource | None:
    """The model, then a template's text: syntax, and only the URI template's variables (a
    fixed URI's text is not rendered)."""
    resource = _validated(report, Resource)
    if resource is None:
        return None
    if resource.uri_template is not None and resource.text is not None and _is_template(resource.text):
        _check_names_in_templates(report, ("text",), resource.text, set(resource.variables),
                                  "a variable of the URI template")
    return resource


DocumentChecker = Callable[[Report, Mapping[str, ToolKindSpec] | None], BaseModel | None]
DOCUMENT_MODELS = (Playbook, McpServer, Prompt, Resource)


def document_kinds() -> Mapping[str, DocumentChecker]:
    """The document kinds a catalog file may declare, and the check of each."""
    return {"Playbook": _check_playbook, "McpServer": _check_mcp_server, "Prompt": _check_prompt,
            "Resource": _check_resource}


def check_document(
    source: str,
    file: str,
    *,
    tool_kinds: Mapping[str, ToolKindSpec] | None = None,
    expect: str | None = None,
) -> LoadedDocument:
    """Load and check one catalog file of any known kind, or only of kind `expect` (a missing
    `kind` is checked as a Playbook, whose model then reports it)."""
    document, problems = parse_yaml(source, file)
    if document is None:
        return LoadedDocument(None, sort_problems(problems))
    notes: list[Problem] = []
    if is_noetl(document.data):
        written = Report(file, document)
        document, translation_notes = read_noetl(document)
        for location, message in translation_notes:
            written.at(location, message)
        notes = written.problems
    report = Report(file, document, list(notes))
    kind = document.data.get("kind")
    kinds = document_kinds()
    if kind is not None and (not isinstance(kind, str) or kind not in kinds):
        report.at(("kind",), f"unknown document kind {kind!r}; known kinds: {', '.join(kinds)}")
        return LoadedDocument(None, sort_problems(report.problems), document)
    chosen = kind if isinstance(kind, str) else "Playbook"
    if expect is not None and chosen != expect:
        report.at(("kind",), f"expected a {expect}, this file is a {chosen}")
        return LoadedDocument(None, sort_problems(report.problems), document)
    model = kinds[chosen](report, tool_kinds)
    problems = sort_problems(report.problems)
    valid = model if isinstance(model, DOCUMENT_MODELS) and not problems else None
    return LoadedDocument(valid, problems, document)


def check_playbook(
    source: str, file: str, *, tool_kinds: Mapping[str, ToolKindSpec] | None = None
) -> LoadedPlaybook:
    """Load and check one playbook source, keeping the parsed YAML for placing later problems."""
    loaded = check_document(source, file, tool_kinds=tool_kinds, expect="Playbook")
    playbook = loaded.model if isinstance(loaded.model, Playbook) else None
    return LoadedPlaybook(playbook, loaded.problems, loaded.document)


def load_playbook(
    source: str, file: str, *, tool_kinds: Mapping[str, ToolKindSpec] | None = None
) -> tuple[Playbook | None, list[Problem]]:
    """(playbook, []) for a valid file; (None, every problem found) otherwise."""
    loaded = check_playbook(source, file, tool_kinds=tool_kinds)
    return loaded.playbook, loaded.problems
