"""The parts of a NoETL document around its workflow: metadata, executor, keychain, other sections.

- `metadata`: `exposes_as_mcp` is the hub's `expose`; `version` and `labels` have fields of their
  own; anything else NoETL carries (`exposed_in_ui`, `terminal`, ...) is kept in `metadata.extra`.
- `executor: {profile, version, spec: {entry_step, no_next_is_error}}`: `entry_step` is the
  step that starts; the block is kept in `extensions.executor`. NoETL starts at the step named
  `start` when no entry is given, and so does the hub for a NoETL document.
- `keychain`: NoETL provider entries (`kind: secret_manager|oauth2|postgres|...`, `type: openai`
  with `api_key: "{{ env.X }}"`, `scope`, `map`, ...). A value that only reads one environment
  variable becomes `env: X`; other entries keep their fields under `settings` and name their
  `provider`, which fails clearly when a run needs it.
- top-level sections the hub has no model for (`spec`, `tracing`, ...) are kept in `extensions`.
"""

from __future__ import annotations

import re
from typing import Any

from catalog.model import KeychainEntry, Metadata, Playbook
from catalog.noetl.relocate import Moves

_HUB_METADATA = frozenset(n for f, i in Metadata.model_fields.items() for n in (f, i.alias) if n) - {"extra"}
_HUB_TOP = frozenset(n for f, i in Playbook.model_fields.items() for n in (f, i.alias) if n)
_HUB_KEYCHAIN = frozenset(KeychainEntry.model_fields) - {"provider", "settings"}
_ENV_ONLY = re.compile(r"^\s*\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")


def read_metadata(metadata: Any, moves: Moves) -> Any:
    if not isinstance(metadata, dict):
        return metadata
    out: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in metadata.items():
        if key == "exposes_as_mcp" and isinstance(value, bool):
            out["expose"] = value
            moves.record(("metadata", "expose"), ("metadata", key))
        elif key == "version" and isinstance(value, (int, float)):
            out["version"] = str(value)
        elif key in _HUB_METADATA:
            out[key] = value
        else:
            extra[key] = value
            moves.record(("metadata", "extra", key), ("metadata", key))
    if extra:
        out["extra"] = extra
    return out


def read_keychain(entries: Any, moves: Moves) -> Any:
    if not isinstance(entries, list):
        return entries
    return [_keychain_entry(entry, i, moves) for i, entry in enumerate(entries)]


def _keychain_entry(entry: Any, index: int, moves: Moves) -> Any:
    if not isinstance(entry, dict) or "env" in entry or "file" in entry:
        return entry  # the hub's own form (its model reports what is wrong)
    out = {k: v for k, v in entry.items() if k in _HUB_KEYCHAIN}
    settings = {k: v for k, v in entry.items() if k not in _HUB_KEYCHAIN}
    for key, value in settings.items():
        found = _ENV_ONLY.match(value) if isinstance(value, str) else None
        if found:
            out["env"] = found.group(1)
            moves.record(("keychain", index, "env"), ("keychain", index, key))
            return out
    provider = settings.get("kind") or settings.get("provider") or settings.get("type") or "unknown"
    out["provider"] = str(provider)
    out["settings"] = settings
    for key in settings:
        moves.record(("keychain", index, "settings", key), ("keychain", index, key))
    return out


def read_top(data: dict[str, Any], moves: Moves) -> dict[str, Any]:
    """Everything but the workflow: metadata, keychain, executor (entry), extensions."""
    out: dict[str, Any] = {}
    extensions: dict[str, Any] = {}
    for key, value in data.items():
        if key == "metadata":
            out[key] = read_metadata(value, moves)
        elif key == "keychain":
            out[key] = read_keychain(value, moves)
        elif key == "workbook":
            continue  # inlined into the steps that call it
        elif key in _HUB_TOP:
            out[key] = value
        else:
            extensions[key] = value
            moves.record(("extensions", key), (key,))
    executor = data.get("executor")
    spec = executor.get("spec") if isinstance(executor, dict) else None
    entry = spec.get("entry_step") if isinstance(spec, dict) else None
    if isinstance(entry, str):
        out["entry"] = entry
        moves.record(("entry",), ("executor", "spec", "entry_step"))
    elif _has_step(data.get("workflow"), "start"):
        out["entry"] = "start"
    if extensions:
        out["extensions"] = extensions
    return out


def _has_step(workflow: Any, name: str) -> bool:
    return isinstance(workflow, list) and any(isinstance(s, dict) and s.get("step") == name for s in workflow)
