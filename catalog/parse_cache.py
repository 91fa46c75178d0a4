"""Checked catalog documents kept by content, so a restart does not parse 10,000 files again.

Parsing and checking a playbook (strict YAML with positions, the dialect readers, pydantic, the
template and schema checks) costs ~250 us; loading its checked model back from a pickle ~60 us,
and deriving its input schema ~20 us more. So a playbook is kept as a `CachedPlaybook`: what
serving reads (its facts and tool schemas) as plain data, and the model as a pickle inside the
pickle, which the entry loads only when a run or a read first needs it (`catalog.lazy_playbook`);
loading the card back costs ~5 us. The other kinds (few, small) are kept as their models.
A load asks the cache for every file whose content it has not seen in this process, in one
query, and stores what it had to parse, in one transaction (`ParseCache`, kept by the store's
SQLite ledger; without one, every file is parsed).

The key is a SHA-256 of the document's text and of everything else the result depends on: the
cache format, the Python and pydantic versions, the source files of this `catalog` package (size
and mtime, so an edited checker never serves a stale model) and the tool kinds the hub knows
(names, config models, raw fields, availability). Only documents that checked clean are kept;
a file with problems is parsed, and reported, every time. A blob that does not load back is
parsed again. The blobs are pickles in the hub's own database file, trusted like the rest of it.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import pickle
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import pydantic

from catalog.entries import CatalogEntry, PlaybookFacts

log = logging.getLogger("agenthub.catalog")

CACHE_FORMAT = "2"
_CARD_TAG = b"agenthub-playbook-card:"


@runtime_checkable
class ParseCache(Protocol):
    """Where checked documents are kept between runs (the SQLite ledger implements it)."""

    def cached_parses(self, keys: Sequence[str]) -> dict[str, bytes]:
        """The blobs stored under these keys (missing ones left out)."""

    def cache_parses(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Store blobs under their keys (an existing key is left as it is)."""


def _code_fingerprint() -> str:
    parts = [CACHE_FORMAT, sys.version, pydantic.VERSION]
    here = Path(__file__).resolve().parent
    for source in sorted(here.rglob("*.py")):
        info = source.stat()
        parts.append(f"{source.relative_to(here)}:{info.st_size}:{info.st_mtime_ns}")
    return "\n".join(parts)


def _kinds_fingerprint(tool_kinds: Mapping[str, Any] | None) -> str:
    if tool_kinds is None:
        return "default kinds"
    return repr(sorted(
        (name, f"{spec.model.__module__}.{spec.model.__qualname__}", sorted(spec.raw_fields), spec.unavailable)
        for name, spec in tool_kinds.items()
    ))


class CachedPlaybook(NamedTuple):
    """What the cache keeps of a checked playbook: what serving reads, and its model still pickled.
    Stored with `marshal` (plain data only: ~4 us to load back, where a pickle of the same takes
    ~40 us), behind a tag that tells it from the pickled models of the other kinds."""

    facts: PlaybookFacts
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    model_blob: bytes

    def dumps(self) -> bytes:
        return _CARD_TAG + marshal.dumps((tuple(self.facts), self.input_schema, self.output_schema, self.model_blob))

    @classmethod
    def loads(cls, blob: bytes) -> CachedPlaybook:
        facts, input_schema, output_schema, model_blob = marshal.loads(blob[len(_CARD_TAG):])
        return cls(PlaybookFacts(*facts), input_schema, output_schema, model_blob)


class CheckedDocuments:
    """One catalog's view of the cache: keys for its sources, documents found, documents to store."""

    def __init__(self, cache: ParseCache | None, tool_kinds: Mapping[str, Any] | None) -> None:
        self.cache = cache
        salt = (_code_fingerprint() + "\n" + _kinds_fingerprint(tool_kinds) + "\n").encode()
        self._salted = hashlib.sha256(salt)
        """The hash state after the salt, copied for every key (the salt is ~2 KB; a source ~300 B)."""
        self._new: list[tuple[str, bytes]] = []

    def key(self, source: str) -> str:
        """SHA-256 of the salt and the source."""
        hashed = self._salted.copy()
        hashed.update(source.encode())
        return hashed.hexdigest()

    def lookup(self, keys: Sequence[str]) -> dict[str, Any]:
        """What is stored under these keys: a `CachedPlaybook` for a playbook, else the checked model."""
        if self.cache is None or not keys:
            return {}
        try:
            blobs = self.cache.cached_parses(list(dict.fromkeys(keys)))
        except Exception as exc:  # a cache that fails costs time, never the load
            log.warning("catalog parse cache unreadable (%r); parsing every file", exc)
            return {}
        found: dict[str, Any] = {}
        for key, blob in blobs.items():
            try:
                found[key] = CachedPlaybook.loads(blob) if blob.startswith(_CARD_TAG) else pickle.loads(blob)
            except Exception:  # noqa: BLE001 - parsed again instead
                continue
        return found

    def remember(self, key: str, model: Any) -> None:
        """Keep a model of another kind than playbook that checked clean (stored by `save`)."""
        if self.cache is not None:
            self._new.append((key, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)))

    def remember_playbook(self, key: str, entry: CatalogEntry) -> None:
        """Keep a playbook entry that checked clean, as a `CachedPlaybook` (stored by `save`)."""
        if self.cache is not None:
            blob = pickle.dumps(entry.playbook, protocol=pickle.HIGHEST_PROTOCOL)
            card = CachedPlaybook(entry.facts, entry.input_schema, entry.output_schema, blob)
            try:
                stored = card.dumps()
            except ValueError:  # a value marshal does not know (a str subclass, a date): pickled whole
                stored = pickle.dumps(card, protocol=pickle.HIGHEST_PROTOCOL)
            self._new.append((key, stored))

    def save(self) -> None:
        new, self._new = self._new, []
        if self.cache is None or not new:
            return
        try:
            self.cache.cache_parses(new)
        except Exception as exc:  # noqa: BLE001 - the next start parses again
            log.warning("catalog parse cache not written (%r)", exc)
