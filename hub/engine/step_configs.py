"""The checked config of each tool block whose fields hold no template, kept for every run.

A step's `tool:` block is rendered against the run's names and validated by its kind's config
model on every attempt; a block with no template in its fields (most python, noop and agent
steps) renders to itself, so the engine validates it once and hands every later attempt the
same model (kinds do not change the config they are given). `hub.engine.workflow` asks; the
engine keeps one `StepConfigs` for all its runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from catalog.model import ToolSpec
from hub.contract.steps import StepKind
from hub.contract.templates import has_template


class StepConfigs:
    """Checked configs by tool block (see the module docstring). The block itself is kept beside
    its config, so the key (its id) stays its own while the entry lives here."""

    LIMIT = 4096
    """Blocks kept at most; past it the cache starts over (catalog reloads make new blocks)."""

    def __init__(self) -> None:
        self._found: dict[int, tuple[ToolSpec, type[BaseModel], BaseModel | None]] = {}

    def fixed(
        self, tool: ToolSpec, kind: StepKind, check: Callable[[dict[str, Any]], BaseModel]
    ) -> BaseModel | None:
        """The config of a block without templates, checked by `check` the first time only; None
        when the block has templates (it is rendered and checked on every attempt). A block that
        fails its check is not kept: it fails the same way each time."""
        found = self._found.get(id(tool))
        if found is not None and found[0] is tool and found[1] is kind.config_model:
            return found[2]
        raw = tool.config
        templated = any(has_template(v) for k, v in raw.items() if k not in kind.raw_fields)
        config = None if templated else check(raw)
        if len(self._found) >= self.LIMIT:
            self._found.clear()
        self._found[id(tool)] = (tool, kind.config_model, config)
        return config
