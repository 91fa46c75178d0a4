"""The versioned catalog: every playbook under a directory, by catalog path and by tool name, with
each distinct content numbered by a version ledger, and discovery by kind, capability, tag and text.

Loading is forgiving per file and strict within one: a broken file never stops the others; its
problems are kept in `Catalog.problems`, and if the catalog served an earlier version of that file it
keeps serving it (an editor's half-saved file must not take a tool away from running clients). Two
files claiming the same catalog path or tool name: the first in sorted file order wins, the later
one is not served and gets a problem. `generation` grows whenever the set of served entries changes,
so the MCP server knows when to send `tools/list_changed`.

Versions come from the ledger: editing a file gives the next number, reverting to an earlier content
gives that content's old number back. `get("path@2")` re-loads an old content from the ledger.

Files of `kind: McpServer` (other MCP servers that `mcp` steps call), `kind: Prompt` (MCP prompts)
and `kind: Resource` (MCP resources) live in the same directory and load the same way, but are kept
apart from the playbooks: they are not tools and have no versions (`mcp_server(name)`,
`prompt(name)`, `resource(uri)` are always the current definition; a connection notices a change
by its digest). A change of any of them also grows `generation`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


from catalog.collector_pause import collector_paused
from catalog.discovery import matching
from catalog.files import (
    DEFAULT_MAX_FILE_BYTES, UnreadableFile, default_path, default_paths, read_catalog_files, scan_catalog,
)
from catalog.parse_cache import CachedPlaybook, CheckedDocuments, ParseCache
from catalog.entries import CatalogEntry, McpServerEntry, NamedEntry, PlaybookFacts, PromptEntry, ResourceEntry
from catalog.lazy_playbook import LazyPlaybook
from catalog.loader import ToolKindSpec, check_document, check_playbook
from catalog.mcp_servers import McpServer
from catalog.model import Playbook
from catalog.prompts import Prompt
from catalog.resources import Resource
from catalog.problems import Location, Problem, format_field, sort_problems
from catalog.schema import input_schema, output_schema
from catalog.versions import MemoryLedger, VersionLedger, digest
from catalog.yaml_source import parse_yaml

log = logging.getLogger("agenthub.catalog")

PINNED_CACHE_SIZE = 128


def _same_file(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return os.path.realpath(a) == os.path.realpath(b)


def _problem_at(file: str, source: str, location: Location, message: str) -> Problem:
    """A problem found after loading (a clash), placed on the file's YAML when possible."""
    document, _ = parse_yaml(source, file)
    line = column = None
    if document is not None and location:
        _, pos = document.nearest(location)
        if pos is not None:
            line, column = pos
    return Problem(file, line, column, format_field(location), message)


class Catalog:
    """The playbooks under `root` (and any `add`ed ones), their versions, and discovery."""

    def __init__(
        self,
        root: str | Path | None,
        *,
        ledger: VersionLedger | None = None,
        tool_kinds: Mapping[str, ToolKindSpec] | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        parse_cache: ParseCache | None = None,
    ) -> None:
        self.root = Path(root) if root is not None else None
        self._real_root = os.path.realpath(self.root) if self.root is not None else None
        self.max_file_bytes = max_file_bytes
        """Size cap of one catalog file; bigger files, and anything but regular files inside
        root, are problems and never read (`catalog.files`)."""
        self.ledger: VersionLedger = ledger if ledger is not None else MemoryLedger()
        self.tool_kinds = tool_kinds
        self._checked = CheckedDocuments(parse_cache, tool_kinds)
        """Checked documents kept by content between runs (`catalog.parse_cache`)."""
        self.problems: dict[str, list[Problem]] = {}
        """Problems of the last load, by file; a file with problems is not served (or its
        previous version still is)."""
        self.generation = 0
        self._by_file: dict[str, CatalogEntry] = {}
        self._named_by_file: dict[str, NamedEntry] = {}
        self._named: dict[str, dict[str, NamedEntry]] = {}
        """Kind -> name -> entry, each sorted by name."""
        self._added: dict[str, CatalogEntry] = {}
        self._current: dict[str, CatalogEntry] = {}
        self._by_name: dict[str, CatalogEntry] = {}
        self._pinned: OrderedDict[tuple[str, int], CatalogEntry] = OrderedDict()

    # --- loading ---------------------------------------------------------------------------------

    def _default_path(self, file: str | None) -> str | None:
        return default_path(file, self._real_root)

    def _parse(
        self, source: str, file: str, default_path: str | None
    ) -> tuple[CatalogEntry | None, list[Problem]]:
        """An entry for `source`, version not yet recorded (0), or the file's problems."""
        loaded = check_playbook(source, file, tool_kinds=self.tool_kinds)
        if loaded.playbook is None:
            return None, loaded.problems
        return self._entry(loaded.playbook, source, file, default_path), []

    @staticmethod
    def _entry(playbook: Playbook, source: str, file: str, default_path: str | None) -> CatalogEntry:
        return _entry_of(LazyPlaybook.loaded(playbook), PlaybookFacts.of(playbook), input_schema(playbook),
                         output_schema(playbook), source, file, default_path)

    def _cached_entry(self, card: CachedPlaybook, source: str, file: str, default_path: str | None) -> CatalogEntry:
        """An entry from the parse cache; its model stays pickled until first used."""
        model = LazyPlaybook.pickled(card.model_blob, source, file, self.tool_kinds)
        return _entry_of(model, card.facts, card.input_schema, card.output_schema, source, file, default_path)

    def _parse_any(
        self, source: str, file: str, default_path: str | None, cached: Any = None, cache_key: str | None = None
    ) -> tuple[CatalogEntry | NamedEntry | None, list[Problem]]:
        """A playbook entry (version not yet recorded) or a named entry for `source`, or problems.
        `cached`: the checked model of this source from the parse cache (then nothing is parsed);
        `cache_key`: where to keep the model if it checks clean."""
        if isinstance(cached, CachedPlaybook):
            return self._cached_entry(cached, source, file, default_path), []
        model = cached
        if model is None:
            loaded = check_document(source, file, tool_kinds=self.tool_kinds)
            model = loaded.model
            if cache_key is not None and isinstance(model, (McpServer, Prompt, Resource)):
                self._checked.remember(cache_key, model)
        if isinstance(model, McpServer):
            return McpServerEntry(model.metadata.name, model, source, file, digest(source)), []
        if isinstance(model, Prompt):
            return PromptEntry(model.metadata.name, source, file, digest(source), prompt=model), []
        if isinstance(model, Resource):
            return ResourceEntry(model.key, source, file, digest(source), resource=model), []
        if not isinstance(model, Playbook):
            return None, loaded.problems
        entry = self._entry(model, source, file, default_path)
        if cache_key is not None:
            self._checked.remember_playbook(cache_key, entry)
        return entry, []

    def _record(self, entry: CatalogEntry) -> CatalogEntry:
        return dataclasses.replace(entry, version=self.ledger.record(entry.path, entry.source))

    def _record_new(self, served: dict[str, CatalogEntry]) -> None:
        """Number every newly parsed entry (version 0) in one ledger call, in place."""
        new = [key for key, entry in served.items() if entry.version == 0]
        versions = self.ledger.record_many([(served[k].path, served[k].source) for k in new])
        for key, version in zip(new, versions, strict=True):
            served[key] = dataclasses.replace(served[key], version=version)

    def _clashes(
        self, entry: CatalogEntry, paths: Mapping[str, CatalogEntry], names: Mapping[str, CatalogEntry]
    ) -> list[Problem]:
        file = entry.file or "<source>"
        found: list[Problem] = []
        other = paths.get(entry.path)
        if other is not None and not _same_file(other.file, entry.file):
            where: Location = ("metadata", "path") if entry.facts.metadata_path else ()
            found.append(_problem_at(file, entry.source, where,
                                     f"catalog path {entry.path!r} is already used by {other.file}"))
        other = names.get(entry.name)
        if other is not None and not _same_file(other.file, entry.file):
            found.append(_problem_at(file, entry.source, ("metadata", "name"),
                                     f"tool name {entry.name!r} is already used by {other.file}"))
        return found

    def _served_set(self) -> set[tuple[str, ...]]:
        return {(e.path, str(e.version), e.file or "") for e in self._current.values()} | {
            (e.kind, e.name, e.digest) for e in self._named_by_file.values()}

    def _reindex(self, before: set[tuple[str, ...]]) -> None:
        current = {e.path: e for e in self._by_file.values()}
        current.update(self._added)
        self._current = dict(sorted(current.items()))
        self._by_name = {e.name: e for e in self._current.values()}
        if self._served_set() != before:
            self.generation += 1

    def _known(self, file: str, source: str) -> bool:
        """Whether this process already holds `file` with this very content."""
        previous = self._by_file.get(file) or self._named_by_file.get(file)
        return previous is not None and previous.digest == digest(source)

    @collector_paused
    def load(self) -> list[Problem]:
        """(Re)load every playbook file under root; returns every problem found, file by file."""
        problems: dict[str, list[Problem]] = {}
        served: dict[str, CatalogEntry] = {}
        self._real_root = os.path.realpath(self.root) if self.root is not None else None
        if self.root is not None and not self.root.is_dir():
            problems[str(self.root)] = [Problem(str(self.root), None, None, "", "catalog directory not found")]
        files = scan_catalog(self.root) if self.root is not None and self.root.is_dir() else []
        for path in files:
            key = str(path)
            if any(_same_file(added.file, key) for added in self._added.values()):
                self._added = {p: e for p, e in self._added.items() if not _same_file(e.file, key)}
        paths = dict(self._added)
        names = {e.name: e for e in self._added.values()}
        before = self._served_set()
        named_by_file: dict[str, NamedEntry] = {}
        named: dict[str, dict[str, NamedEntry]] = {}
        sources = read_catalog_files(files, self.root, self.max_file_bytes)
        cache_keys = {key: self._checked.key(source) for key, source in sources.items()
                      if isinstance(source, str) and not self._known(key, source)}
        cached = self._checked.lookup(list(cache_keys.values()))
        defaults = default_paths(files, self.root, self._real_root) if self.root is not None and files else {}
        for path in files:
            key = str(path)
            previous: CatalogEntry | NamedEntry | None = self._by_file.get(key) or self._named_by_file.get(key)
            source = sources[key]
            if isinstance(source, UnreadableFile):
                entry, found = None, [Problem(key, None, None, "", str(source))]
            else:
                if previous is not None and previous.digest == digest(source):
                    entry, found = previous, []
                else:
                    cache_key = cache_keys.get(key)
                    try:
                        entry, found = self._parse_any(source, key, defaults[key],
                                                       cached.get(cache_key) if cache_key else None, cache_key)
                    except Exception as exc:  # a bug in a check must not take the other files down
                        entry = None
                        found = [Problem(key, None, None, "", f"internal error while loading: {exc!r}")]
            if entry is None:
                problems[key] = found
                if previous is None:
                    continue
                entry = previous  # keep serving the last good version of this file
            if not isinstance(entry, CatalogEntry):
                other = named.setdefault(entry.kind, {}).get(entry.name)
                if other is not None:
                    where: Location = ("uri",) if isinstance(entry, ResourceEntry) else ("metadata", "name")
                    problems.setdefault(key, []).append(_problem_at(
                        key, entry.source, where, f"{entry.label} {entry.name!r} is already used by {other.file}"))
                    continue
                named_by_file[key] = entry
                named[entry.kind][entry.name] = entry
                continue
            entry = _renamed_if_shared(entry, names)
            clashes = self._clashes(entry, paths, names)
            if clashes:
                problems.setdefault(key, []).extend(clashes)
                continue
            served[key] = entry
            paths[entry.path] = entry
            names[entry.name] = entry
        self._record_new(served)
        self._checked.save()
        self._by_file = served
        self._named_by_file = named_by_file
        self._named = {kind: dict(sorted(by_name.items())) for kind, by_name in named.items()}
        self.problems = {file: sort_problems(found) for file, found in problems.items()}
        self._reindex(before)
        return [p for file in sorted(self.problems) for p in self.problems[file]]

    def add(
        self, source: str, file: str | None = None, path: str | None = None
    ) -> tuple[CatalogEntry | None, list[Problem]]:
        """Serve a playbook that is not under root (e.g. `agenthub run some/file.yaml`).

        Its catalog path is `path`, else `metadata.path`, else the file's path as under root, else
        the file's stem, else the tool name. It stays until replaced; `load()` keeps it.
        """
        entry, problems = self._parse(source, file or "<source>", self._default_path(file))
        if entry is None:
            return None, problems
        entry = dataclasses.replace(entry, file=file)
        if path is not None:
            entry = dataclasses.replace(entry, path=path)
        clashes = self._clashes(entry, self._current, self._by_name)
        if clashes:
            return None, clashes
        entry = self._record(entry)
        before = self._served_set()
        self._added[entry.path] = entry
        self._reindex(before)
        return entry, []

    # --- lookup and discovery -------------------------------------------------------------------

    def mcp_servers(self) -> list[McpServerEntry]:
        """The served `McpServer` definitions, sorted by name."""
        return list(self._named.get("McpServer", {}).values())  # type: ignore[arg-type]

    def mcp_server(self, name: str) -> McpServerEntry | None:
        return self._named.get("McpServer", {}).get(name)  # type: ignore[return-value]

    def prompts(self) -> list[PromptEntry]:
        """The served `Prompt` documents, sorted by name."""
        return list(self._named.get("Prompt", {}).values())  # type: ignore[arg-type]

    def prompt(self, name: str) -> PromptEntry | None:
        return self._named.get("Prompt", {}).get(name)  # type: ignore[return-value]

    def resources(self) -> list[ResourceEntry]:
        """The served `Resource` documents, sorted by URI (or URI template)."""
        return list(self._named.get("Resource", {}).values())  # type: ignore[arg-type]

    def entries(self) -> list[CatalogEntry]:
        """The served entries, sorted by catalog path."""
        return list(self._current.values())

    def __len__(self) -> int:
        return len(self._current)

    def versions(self, path: str) -> list[int]:
        return self.ledger.versions(path)

    def get(self, ref: str, version: int | None = None) -> CatalogEntry | None:
        """By catalog path, tool name, `path@N` or `path@latest`; an old version is re-loaded
        from the ledger (and cached). None when unknown."""
        if version is None and "@" in ref:
            base, _, tail = ref.rpartition("@")
            if tail == "latest":
                ref = base
            elif tail.isascii() and tail.isdigit() and len(tail) <= 18:
                ref, version = base, int(tail)
            else:
                return None
        if version is not None and not 0 < version < 2**63:  # no ledger row can have it (SQLite: 64-bit)
            return None
        entry = self._current.get(ref) or self._by_name.get(ref)
        if version is None or (entry is not None and entry.version == version):
            return entry
        return self._pinned_entry(entry.path if entry is not None else ref, version, entry)

    def _pinned_entry(self, path: str, version: int, current: CatalogEntry | None) -> CatalogEntry | None:
        key = (path, version)
        if key in self._pinned:
            self._pinned.move_to_end(key)
            return self._pinned[key]
        source = self.ledger.content(path, version)
        if source is None:
            return None
        entry, _ = self._parse(source, f"{path}@{version}", path)
        if entry is None:  # an old content the current tool kinds no longer accept
            return None
        entry = dataclasses.replace(entry, path=path, version=version,
                                    file=current.file if current is not None else None)
        self._pinned[key] = entry
        while len(self._pinned) > PINNED_CACHE_SIZE:
            self._pinned.popitem(last=False)
        return entry

    def find(
        self,
        *,
        kind: str | None = None,
        agent: bool | None = None,
        capabilities_any: Sequence[str] = (),
        capabilities_all: Sequence[str] = (),
        tags: Sequence[str] = (),
        text: str | None = None,
    ) -> list[CatalogEntry]:
        """Entries matching every given filter, sorted by path (`catalog.discovery.matching`)."""
        return matching(self._current.values(), kind=kind, agent=agent, capabilities_any=capabilities_any,
                        capabilities_all=capabilities_all, tags=tags, text=text)


def _renamed_if_shared(entry: CatalogEntry, names: Mapping[str, CatalogEntry]) -> CatalogEntry:
    """A NoETL playbook whose `metadata.name` another file already uses (NoETL names by path, so
    its catalogs do this) is served under a tool name made from its catalog path, with a warning."""
    other = names.get(entry.name)
    if other is None or _same_file(other.file, entry.file) or not entry.facts.api_version.startswith("noetl.io/"):
        return entry
    name = re.sub(r"[^A-Za-z0-9_-]", "_", entry.path).strip("_")[-64:] or entry.name
    if name in names or name.startswith("hub_"):
        return entry  # the clash is reported as for any playbook
    log.warning("%s: tool name %r is already used by %s; serving this playbook as %r (from its path)",
                entry.file, entry.name, other.file, name)
    return dataclasses.replace(entry, name=name)



def _entry_of(model: LazyPlaybook, facts: PlaybookFacts, input_schema: dict[str, Any],
              output_schema: dict[str, Any] | None, source: str, file: str, default_path: str | None) -> CatalogEntry:
    """A playbook entry, version not yet recorded (0); its catalog path: `metadata.path`, else
    the file's, else the tool name."""
    return CatalogEntry(
        path=facts.metadata_path or default_path or facts.name, version=0, name=facts.name, model=model,
        source=source, file=file, digest=digest(source), input_schema=input_schema, output_schema=output_schema,
        facts=facts,
    )
