"""Strict YAML reading that remembers where every value was written.

PyYAML's `safe_load` forgets positions and silently keeps the last of two equal keys, so a typo in a
playbook could vanish without a word. Here the document is composed first (nodes carry their marks),
checked, then constructed with the safe constructor:

- exactly one document, whose top level is a mapping;
- no duplicate keys in any mapping (the error points at the second one);
- mapping keys are strings (playbooks are JSON-shaped: they feed JSON Schema and templates);
- YAML 1.2 booleans only (`true`/`false`): `on:`, `yes`, `no`, `off` stay strings, so a retry
  policy's `on:` key is not read as `True`;
- no timestamp resolution (`2024-01-01` stays a string, as JSON would have it);
- aliases are allowed, but a recursive alias or an alias bomb is refused.

`YamlDocument.positions` maps each location (tuple of keys and indexes) to where it is written: the
line and column (1-based) of its key, or of the list item. `value_positions` gives where the value
itself starts, and `styles` the scalar style of quoted and block scalars (used to place template
errors inside a `|` block on their own line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from catalog.problems import Location, Problem, format_field, sort_problems

Position = tuple[int, int]

MAX_NODES = 200_000
"""Refuse documents that expand (through aliases) to more nodes than this."""

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_ALIAS = "*"


def _yaml12_resolvers() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """SafeLoader's implicit resolvers, with YAML 1.2 booleans and no timestamps."""
    resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
        if kept:
            resolvers[first] = kept
    boolean = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
    for first in "tTfF":
        resolvers[first] = [(_BOOL_TAG, boolean), *resolvers.get(first, [])]
    return resolvers


_Base: type = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


class _StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader (libyaml's C parser when PyYAML has it: about 5x faster on big catalogs)
    with its own (copied) resolver table; the shared SafeLoader is left untouched."""

    yaml_implicit_resolvers = _yaml12_resolvers()


@dataclass(frozen=True)
class YamlDocument:
    """The plain data of one YAML document and where each part of it was written."""

    data: dict[str, Any]
    positions: Mapping[Location, Position] = field(default_factory=dict)
    value_positions: Mapping[Location, Position] = field(default_factory=dict)
    styles: Mapping[Location, str] = field(default_factory=dict)

    def nearest(self, location: Location) -> tuple[Location, Position | None]:
        """The longest prefix of `location` that was written in the file, and its position."""
        for end in range(len(location), -1, -1):
            prefix = location[:end]
            if prefix in self.positions:
                return prefix, self.positions[prefix]
        return (), None


def _position(mark: yaml.Mark | None) -> Position | None:
    return None if mark is None else (mark.line + 1, mark.column + 1)


def _problem(file: str, mark: yaml.Mark | None, message: str, location: Location = ()) -> Problem:
    pos = _position(mark)
    return Problem(file, pos and pos[0], pos and pos[1], format_field(location), message)


def _yaml_error(file: str, source: str, exc: yaml.YAMLError) -> Problem:
    """A PyYAML error as a problem at the line of its marker."""
    if isinstance(exc, yaml.MarkedYAMLError):
        message = exc.problem or "invalid YAML"
        if exc.context:
            where = ""
            if exc.context_mark is not None and exc.problem_mark is not None:
                if exc.context_mark.line != exc.problem_mark.line:
                    where = f" at line {exc.context_mark.line + 1}"
            message = f"{message} ({exc.context}{where})"
        return _problem(file, exc.problem_mark or exc.context_mark, f"YAML syntax error: {message}")
    if isinstance(exc, yaml.reader.ReaderError):
        line = source.count("\n", 0, exc.position) + 1
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        return Problem(file, line, None, "", f"YAML syntax error: {exc.reason} (character {char})")
    return Problem(file, None, None, "", f"YAML syntax error: {exc}")


class _Walker:
    """Checks a composed node tree and records positions; collects problems instead of raising."""

    def __init__(self, file: str, loader: _StrictLoader) -> None:
        self.file = file
        self.loader = loader
        self.problems: list[Problem] = []
        self.positions: dict[Location, Position] = {}
        self.value_positions: dict[Location, Position] = {}
        self.styles: dict[Location, str] = {}
        self._seen: set[int] = set()

    def size(self, node: Node, memo: dict[int, int], active: set[int]) -> int:
        """Nodes after alias expansion (memoised); refuses recursive aliases."""
        if id(node) in memo:
            return memo[id(node)]
        if id(node) in active:
            raise _Refused(node, "recursive alias: a node contains itself")
        active.add(id(node))
        total = 1
        if isinstance(node, MappingNode):
            for key, value in node.value:
                total += self.size(key, memo, active) + self.size(value, memo, active)
                if total > MAX_NODES:
                    break
        elif isinstance(node, SequenceNode):
            for item in node.value:
                total += self.size(item, memo, active)
                if total > MAX_NODES:
                    break
        active.discard(id(node))
        memo[id(node)] = total
        return total

    def walk(self, node: Node, location: Location, written_at: yaml.Mark) -> None:
        self.positions[location] = (written_at.line + 1, written_at.column + 1)
        self.value_positions[location] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, ScalarNode) and node.style:
            self.styles[location] = node.style
        if id(node) in self._seen:  # an alias of a node already walked: positions are its anchor's
            return
        self._seen.add(id(node))
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, (*location, index), item.start_mark)
        elif isinstance(node, MappingNode):
            self._walk_mapping(node, location)

    def _walk_mapping(self, node: MappingNode, location: Location) -> None:
        first_seen: dict[str, yaml.Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR_TAG:
                shown = key_node.value if isinstance(key_node, ScalarNode) else "a collection"
                self.problems.append(
                    _problem(self.file, key_node.start_mark,
                             f"mapping keys must be strings, got {shown!r}", location)
                )
                continue
            key = key_node.value
            if key in first_seen:
                self.problems.append(
                    _problem(self.file, key_node.start_mark,
                             f"duplicate key {key!r} (first defined at line {first_seen[key].line + 1})",
                             (*location, key))
                )
            else:
                first_seen[key] = key_node.start_mark
        self.loader.flatten_mapping(node)  # resolves `<<:` merges in place; explicit keys come last
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == _STR_TAG:
                entries[key_node.value] = (key_node, value_node)
        for key, (key_node, value_node) in entries.items():
            self.walk(value_node, (*location, key), key_node.start_mark)


class _Refused(Exception):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def parse_yaml(source: str, file: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse one strict YAML mapping document; (None, problems) when it is not one."""
    try:
        loader = _StrictLoader(source)
    except yaml.YAMLError as exc:  # a non-printable character is refused before parsing starts
        return None, [_yaml_error(file, source, exc)]
    try:
        try:
            node = loader.get_single_node()
        except yaml.composer.ComposerError as exc:
            if exc.problem and "but found another document" in exc.problem:
                return None, [_problem(file, exc.problem_mark,
                                       "a playbook file holds exactly one YAML document; found another (---)")]
            return None, [_yaml_error(file, source, exc)]
        except yaml.YAMLError as exc:
            return None, [_yaml_error(file, source, exc)]
        except RecursionError:
            return None, [Problem(file, None, None, "", "YAML nesting is too deep")]
        if node is None:
            return None, [Problem(file, 1, 1, "", "the file is empty; expected a mapping (key: value)")]
        if not isinstance(node, MappingNode):
            kind = "a list" if isinstance(node, SequenceNode) else "a single value"
            return None, [_problem(file, node.start_mark,
                                   f"the top level must be a mapping (key: value), found {kind}")]
        walker = _Walker(file, loader)
        try:
            # Without an alias (`*name`) nothing expands or recurses, and a text shorter than
            # MAX_NODES has fewer nodes: the count (a tenth of parsing) is only needed otherwise.
            if (_ALIAS in source or len(source) >= MAX_NODES) and walker.size(node, {}, set()) > MAX_NODES:
                return None, [_problem(file, node.start_mark,
                                       f"the document expands to more than {MAX_NODES} nodes (aliases?)")]
            walker.walk(node, (), node.start_mark)
        except _Refused as exc:
            return None, [_problem(file, exc.node.start_mark, exc.message)]
        except yaml.YAMLError as exc:  # e.g. a `<<:` merge of something that is not a mapping
            return None, [_yaml_error(file, source, exc)]
        except RecursionError:
            return None, [Problem(file, None, None, "", "YAML nesting is too deep")]
        if walker.problems:
            return None, sort_problems(walker.problems)
        try:
            data = loader.construct_document(node)
        except yaml.YAMLError as exc:
            return None, [_yaml_error(file, source, exc)]
        return YamlDocument(data, walker.positions, walker.value_positions, walker.styles), []
    finally:
        loader.dispose()
