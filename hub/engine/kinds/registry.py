"""The registry of step kinds: the built-in ones plus any installed under the entry-point group
`agenthub.step_kinds` (each entry point names a zero-argument factory returning a step kind).

A kind may carry a `dsl_model` beside its `config_model`: the strict model of the block as written
in a playbook, which the catalog checks on load and publishes as the editor schema, when the kind
checks the rendered block itself at run time to answer with its own codes (the agent kind)."""

from __future__ import annotations

import importlib
import logging
import weakref
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points

from catalog.loader import ToolKindSpec
from catalog.entries import CatalogEntry, McpServerEntry
from catalog.model import Playbook
from hub.contract.steps import StepKind
from hub.engine.kinds.unavailable import NOETL_UNAVAILABLE, UnavailableKind

ServerLookup = Callable[[str], McpServerEntry | None]
ENTRY_POINT_GROUP = "agenthub.step_kinds"
# The kinds of `bridges/`, named rather than imported: the engine reaches outside itself only through
# this registry, so `bridges/` can depend on the contract without an import cycle through the engine.
BRIDGE_KINDS = (
    "bridges.python:PythonKind", "bridges.http:HttpKind", "bridges.agent:AgentKind",
    "bridges.shell:ShellKind", "bridges.postgres:PostgresKind", "bridges.duckdb:DuckdbKind",
    "bridges.nats:NatsKind", "bridges.secrets:SecretsKind",
)
MCP_KIND = "bridges.mcp_client:McpKind"
log = logging.getLogger("agenthub.kinds")


class StepKinds:
    def __init__(self, kinds: Iterable[StepKind] = ()) -> None:
        self._kinds: dict[str, StepKind] = {}
        self._needs: dict[int, tuple[weakref.ref[Playbook], frozenset[str]]] = {}
        """`client_capabilities` by playbook (its id, and a weak reference to tell it is the same)."""
        for kind in kinds:
            self.register(kind)

    @classmethod
    def builtin(cls, *, plugins: bool = True, mcp_servers: ServerLookup | None = None) -> StepKinds:
        """The built-in kinds (and installed plugins). `mcp_servers` finds an `McpServer` catalog
        definition by name for the `mcp` kind (the hub passes its catalog's lookup)."""
        from hub.engine.kinds.elicit import ElicitKind
        from hub.engine.kinds.noop import NoopKind
        from hub.engine.kinds.playbook import PlaybookKind
        from hub.engine.kinds.roots import RootsKind
        from hub.engine.kinds.sample import SampleKind

        kinds = cls([NoopKind(), PlaybookKind(), ElicitKind(), SampleKind(), RootsKind(),
                     *(_factory(name)() for name in BRIDGE_KINDS),
                     _factory(MCP_KIND)(mcp_servers)])
        if plugins:
            kinds.load_plugins()
        kinds.add_unavailable(NOETL_UNAVAILABLE)
        return kinds

    def add_unavailable(self, reasons: Mapping[str, str]) -> None:
        """Register the kinds the hub knows of but cannot run, unless a real kind has the name."""
        for name, reason in reasons.items():
            if name not in self._kinds:
                self.register(UnavailableKind(name, reason))

    def register(self, kind: StepKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"step kind {kind.name!r} is registered twice")
        self._kinds[kind.name] = kind
        self._needs.clear()  # a new kind may need a capability

    def load_plugins(self) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                self.register(ep.load()())
            except Exception:  # a broken plugin must not take the hub down
                log.exception("step kind plugin %s failed to load", ep.name)

    def get(self, name: str) -> StepKind | None:
        return self._kinds.get(name)

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def tool_specs(self) -> dict[str, ToolKindSpec]:
        return {
            n: ToolKindSpec(
                model=getattr(k, "dsl_model", k.config_model),
                raw_fields=k.raw_fields,
                unavailable=getattr(k, "unavailable", None),
            )
            for n, k in self._kinds.items()
        }

    def client_capabilities(self, playbook: Playbook) -> frozenset[str]:
        """The MCP client capabilities a playbook's own steps need (`elicitation` for `elicit`,
        `sampling` for `sample`, `roots` for `roots`): a kind says so with `client_capability(config)`, which may
        answer None for a step that can go without (an `elicit` with `if_unavailable: skip`).
        Sub-runs are not followed: their steps are checked when they run. Worked out once per
        loaded playbook (every call asks, twice: the MCP face and the engine's admission)."""
        key = id(playbook)
        known = self._needs.get(key)
        if known is not None and known[0]() is playbook:
            return known[1]
        needed = self._needed(playbook)
        # kept while the playbook lives (a catalog reload drops old ones, and their entries)
        self._needs[key] = (weakref.ref(playbook, lambda _gone: self._needs.pop(key, None)), needed)
        return needed

    def _needed(self, playbook: Playbook) -> frozenset[str]:
        needed: set[str] = set()
        for step in playbook.workflow:
            tools = step.tool if isinstance(step.tool, list) else [{"": step.tool}] if step.tool else []
            for task in tools:
                for tool in task.values():
                    need = getattr(self._kinds.get(tool.kind), "client_capability", None)
                    capability = need(tool.config) if need is not None else None
                    if capability:
                        needed.add(capability)
        return frozenset(needed)

    def entry_client_capabilities(self, entry: CatalogEntry) -> frozenset[str]:
        """`client_capabilities` of an entry's playbook, without loading a cached entry's model when
        none of the kinds its steps use can need one (a restart lists 10,000 such entries)."""
        if not any(hasattr(self._kinds.get(kind), "client_capability") for kind in entry.facts.tool_kinds):
            return frozenset()
        return self.client_capabilities(entry.playbook)

    async def aclose(self) -> None:
        for kind in self._kinds.values():
            close = getattr(kind, "aclose", None)
            if close is not None:
                await close()


def _factory(name: str) -> Callable[..., StepKind]:
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)
