"""A catalog entry's `Playbook` model, held ready or loaded on first use.

A restart serves 10,000 cached playbooks; listing them needs only their facts and tool schemas
(kept apart in the parse cache), while unpickling every checked model is most of the load
(~60 us each). So an entry from the cache holds its model as the pickle it came in, and a run,
a `catalog show` or a REST read unpickles it when it first asks. The first caller loads it under
a lock (entries are shared by the event loop and worker threads); later ones get the same
object. A pickle that does not load back, or loads as something else, is not trusted: the
entry's own source is parsed again, which gives the model the cache would have held.
"""

from __future__ import annotations

import functools
import logging
import pickle
import threading
from collections.abc import Callable, Mapping

from catalog.loader import ToolKindSpec, check_playbook
from catalog.model import Playbook

log = logging.getLogger("agenthub.catalog")


class LazyPlaybook:
    """One entry's model: `get()` returns it, loading it once if it is still a pickle."""

    __slots__ = ("_model", "_blob", "_reparse", "_lock")

    def __init__(
        self, model: Playbook | None, blob: bytes | None = None, reparse: Callable[[], Playbook] | None = None
    ) -> None:
        self._model = model
        self._blob = blob
        self._reparse = reparse
        self._lock = threading.Lock() if model is None else None

    @classmethod
    def loaded(cls, model: Playbook) -> LazyPlaybook:
        return cls(model)

    @classmethod
    def pickled(
        cls, blob: bytes, source: str, file: str, tool_kinds: Mapping[str, ToolKindSpec] | None
    ) -> LazyPlaybook:
        """A model still in its pickle; should it not load, the entry's `source` is checked again."""
        return cls(None, blob, functools.partial(_checked_again, source, file, tool_kinds))

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    def get(self) -> Playbook:
        model = self._model
        if model is not None:
            return model
        assert self._lock is not None
        with self._lock:
            if self._model is None:
                self._model = self._load()
                self._blob = self._reparse = None  # the pickle and the source's closure are not needed again
            return self._model

    def _load(self) -> Playbook:
        assert self._blob is not None and self._reparse is not None
        try:
            model = pickle.loads(self._blob)
        except Exception as exc:  # noqa: BLE001 - parsed again instead
            log.warning("catalog: a cached playbook did not load back (%r); parsing its source again", exc)
        else:
            if isinstance(model, Playbook):
                return model
            log.warning("catalog: a cached playbook loaded back as %s; parsing its source again", type(model).__name__)
        return self._reparse()


def _checked_again(source: str, file: str, tool_kinds: Mapping[str, ToolKindSpec] | None) -> Playbook:
    """A cached entry's model when its pickle does not load: its source, checked again (it checked
    clean with these very checks when it was cached, so this gives the same model)."""
    loaded = check_playbook(source, file, tool_kinds=tool_kinds)
    if loaded.playbook is None:
        raise RuntimeError(f"{file}: a cached playbook no longer checks clean: "
                           + "; ".join(str(p) for p in loaded.problems))
    return loaded.playbook
