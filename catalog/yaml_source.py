"""Strict YAML reading that remembers where every value was written.

PyYAML's `safe_load` forgets positions and silently keeps the last of two equal keys, so a typo in a
playbook could vanish without a word. Here the document is composed first (libyaml's C composer;
nodes carry their marks), then one walk over the nodes checks them, records positions and builds
the plain data (str, int, float, bool, null by PyYAML's own rules, memoised per plain text; anything
rarer, such as an explicit `!!binary`, is left to PyYAML's safe constructor). That is ~2x cheaper
than composing, walking, then constructing, which matters at 10,000 files:

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

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from catalog.problems import Location, Problem, format_field, sort_problems

Position = tuple[int, int]

MAX_NODES = 200_000
"""Refuse documents that expand (through aliases) to more nodes than this."""

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"
_ALIAS = "*"
_UNBUILT = object()
"""A scalar this module does not build itself (PyYAML's constructor does, or refuses it)."""


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


_RESOLVERS = _yaml12_resolvers()
_WILDCARD = None in _RESOLVERS
"""Whether some resolver applies whatever a scalar starts with (none in PyYAML's SafeLoader)."""
_BUILT_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", _BOOL_TAG, "tag:yaml.org,2002:null"})


@functools.lru_cache(maxsize=4096)
def _plain_scalar(text: str) -> tuple[str, Any]:
    """The implicit tag of a plain scalar and its value (`_UNBUILT` for tags PyYAML would refuse).

    PyYAML's resolver tries a regex per candidate tag for every scalar; playbooks repeat the same
    few plain values (`noop`, `true`, `30`, step names) thousands of times, so the answer is kept
    per text. A pure function of `text`: the memo changes no result, only its cost."""
    wildcard = _RESOLVERS.get(None, [])  # type: ignore[call-overload]
    tag = _STR_TAG
    for candidate, pattern in [*_RESOLVERS.get(text[:1], []), *wildcard]:
        if pattern.match(text):
            tag = candidate
            break
    if tag == _STR_TAG:
        return tag, text
    if tag not in _BUILT_TAGS:
        return tag, _UNBUILT
    try:  # PyYAML's own rules for the unusual spellings (0x1F, 0o17, 1_000, 1:30, .inf, ~)
        return tag, SafeConstructor().construct_object(ScalarNode(tag, text), deep=True)
    except Exception:  # noqa: BLE001 - e.g. `0b_`: PyYAML raises it again where it did before
        return tag, _UNBUILT


_Base: type = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


class _StrictLoader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader (libyaml's C parser when PyYAML has it: about 5x faster on big catalogs)
    with YAML 1.2 booleans and no timestamps; the shared SafeLoader is left untouched."""

    yaml_implicit_resolvers = _RESOLVERS

    def resolve(self, kind: type[Node], value: str | None, implicit: Any) -> str:
        """The tag of a node written without one (called by the composer for every node).
        Same answers as PyYAML's `Resolver.resolve` for a loader without path resolvers."""
        if kind is ScalarNode:
            if implicit[0] and (not value or value[0] in _RESOLVERS or _WILDCARD):
                return _plain_scalar(value)[0]  # type: ignore[arg-type]
            return _STR_TAG
        return _SEQ_TAG if kind is SequenceNode else _MAP_TAG


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


class _Reader:
    """One walk over a composed node tree: checks its keys, records where every part was written,
    and builds the plain data as it goes; collects problems instead of raising.

    Nodes with the common tags (str, int, float, bool, null, seq, map) are built here. A node
    only PyYAML's constructor knows (an explicit `!!binary`, `!!set`, a local tag, a non-string
    key reached through a merge) marks the document `foreign`, and then PyYAML's constructor
    builds the whole document as before, so such files read (or fail) exactly as they did."""

    def __init__(self, file: str, loader: _StrictLoader) -> None:
        self.file = file
        self.loader = loader
        self.problems: list[Problem] = []
        self.positions: dict[Location, Position] = {}
        self.value_positions: dict[Location, Position] = {}
        self.styles: dict[Location, str] = {}
        self.foreign = False
        self._built: dict[int, Any] = {}
        """Collections already read, by node: an alias yields the anchor's value (one object, as
        PyYAML shares it) and is not walked again (its positions are the anchor's)."""

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

    def read(self, node: Node, location: Location, written_at: yaml.Mark) -> Any:
        """The value of `node`, written at `location`, recording its positions (and those inside)."""
        self.positions[location] = (written_at.line + 1, written_at.column + 1)
        start = node.start_mark
        self.value_positions[location] = (start.line + 1, start.column + 1)
        kind = type(node)
        if kind is ScalarNode:
            if node.style:
                self.styles[location] = node.style
            return self._scalar(node)
        built = self._built.get(id(node), _UNBUILT)
        if built is not _UNBUILT:
            return built
        if kind is SequenceNode:
            if node.tag != _SEQ_TAG:
                self.foreign = True
            value: Any = [self.read(item, (*location, index), item.start_mark)
                          for index, item in enumerate(node.value)]
        else:
            if node.tag != _MAP_TAG:
                self.foreign = True
            value = self._mapping(node, location)
        self._built[id(node)] = value
        return value

    def _scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR_TAG:
            return node.value
        implicit_tag, value = _plain_scalar(node.value)
        if implicit_tag != tag or value is _UNBUILT:  # an explicit tag PyYAML builds its own way
            self.foreign = True
        return value

    def _mapping(self, node: MappingNode, location: Location) -> dict[str, Any]:
        entries: dict[str, tuple[Node, Node]] = {}
        first_seen: dict[str, yaml.Mark] = {}
        merges = False
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == _MERGE_TAG:
                merges = True
                continue
            if type(key_node) is not ScalarNode or tag != _STR_TAG:
                merges = merges or tag == _VALUE_TAG
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
            entries[key] = (key_node, value_node)
        if merges:  # PyYAML resolves `<<:` merges (and `=` keys) in place; explicit keys come last
            self.loader.flatten_mapping(node)
            entries = {}
            for key_node, value_node in node.value:
                if type(key_node) is ScalarNode and key_node.tag == _STR_TAG:
                    entries[key_node.value] = (key_node, value_node)
                else:  # a key that came with a merge and was never checked: PyYAML keeps it
                    self.foreign = True
        return {key: self.read(value_node, (*location, key), key_node.start_mark)
                for key, (key_node, value_node) in entries.items()}


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
        reader = _Reader(file, loader)
        try:
            # Without an alias (`*name`) nothing expands or recurses, and a text shorter than
            # MAX_NODES has fewer nodes: the count (a tenth of parsing) is only needed otherwise.
            if (_ALIAS in source or len(source) >= MAX_NODES) and reader.size(node, {}, set()) > MAX_NODES:
                return None, [_problem(file, node.start_mark,
                                       f"the document expands to more than {MAX_NODES} nodes (aliases?)")]
            data = reader.read(node, (), node.start_mark)
        except _Refused as exc:
            return None, [_problem(file, exc.node.start_mark, exc.message)]
        except yaml.YAMLError as exc:  # e.g. a `<<:` merge of something that is not a mapping
            return None, [_yaml_error(file, source, exc)]
        except RecursionError:
            return None, [Problem(file, None, None, "", "YAML nesting is too deep")]
        if reader.problems:
            return None, sort_problems(reader.problems)
        if reader.foreign:
            try:
                data = loader.construct_document(node)
            except yaml.YAMLError as exc:
                return None, [_yaml_error(file, source, exc)]
        return YamlDocument(data, reader.positions, reader.value_positions, reader.styles), []
    finally:
        loader.dispose()
