"""The checked config of each tool block whose fields hold no template, kept for every run.

A step's `tool:` block is rendered against the run's names and validated by its kind's config
model on every attempt; a block with no template in its fields (most python, noop and agent
steps) renders to itself, so the engine validates it once and hands every later attempt the
same model (kinds do not change the config they are given). `hub.engine.workflow` asks; the
engine keeps one `StepConfigs` for all its runs.
"""

from __future__ import annotations

from pydantic import BaseModel

from catalog.model import ToolSpec
from hub.contract.steps import StepKind


class StepConfigs:
    """Checked configs by tool block (see the module docstring). The block itself is kept beside
    its config, so the key (its id) stays its own while the entry lives here."""

    LIMIT = 4096
    """Blocks kept at most; past it the cache starts over (catalog reloads make new blocks)."""

    def __init__(self) -> None:
        self._found: dict[int, tuple[ToolSpec, type[BaseModel], BaseModel | None]] = {}

    def get(self, tool: ToolSpec, kind: StepKind) -> tuple[bool, BaseModel | None]:
        """(known, config): known with None means the block has templates (render it each time)."""
        found = self._found.get(id(tool))
        if found is None or found[0] is not tool or found[1] is not kind.config_model:
            return False, None
        return True, found[2]

    def put(self, tool: ToolSpec, kind: StepKind, config: BaseModel | None) -> None:
        if len(self._found) >= self.LIMIT:
            self._found.clear()
        self._found[id(tool)] = (tool, kind.config_model, config)
