"""The composition root: one `Hub` wires the store, the catalog, the step kinds and the engine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType

from catalog.catalog import Catalog
from catalog.parse_cache import ParseCache
from catalog.problems import Problem
from catalog.watch import DEFAULT_INTERVAL, watcher_for
from hub.config import HubConfig
from hub.contract.access import ExecutionAccess
from hub.engine.executions import Engine, EngineSettings
from hub.engine.kinds.registry import StepKinds
from catalog.versions import VersionLedger
from hub.contract.store import EventStore
from hub.queue.node import QueueNode
from hub.queue.settings import QueueSettings
from hub.store.sqlite_ledger import SqliteLedger
from hub.store.sqlite import SqliteEventStore
from troubleshoot.hook import TroubleshootHook

log = logging.getLogger("agenthub")


def open_store(config: HubConfig) -> tuple[EventStore, VersionLedger]:
    """The store and version ledger the config names: SQLite (the embedded default) or PostgreSQL
    (imported only then, so the default install needs no driver)."""
    if config.uses_postgres:
        from hub.store.postgres import PostgresEventStore
        from hub.store.postgres_ledger import PostgresLedger

        dsn = str(config.db)
        # a cluster node never fails runs of dead processes on open: workers' runs are redelivered
        return PostgresEventStore(dsn, recover_on_open=config.queue is None), PostgresLedger(dsn)
    return SqliteEventStore(config.db), SqliteLedger(config.db)


def queue_settings(config: HubConfig) -> QueueSettings:
    assert config.queue is not None
    return QueueSettings(
        url=config.queue, prefix=config.queue_prefix, ack_wait=config.queue_ack_wait,
        max_deliver=config.queue_max_deliver, max_queue_depth=config.queue_depth,
    )


class Hub:
    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.store, self.ledger = open_store(config)
        self.kinds = StepKinds.builtin(mcp_servers=lambda name: self.catalog.mcp_server(name))
        self.catalog = Catalog(config.catalog, ledger=self.ledger, tool_kinds=self.kinds.tool_specs(),
                               max_file_bytes=config.catalog_max_file_bytes,
                               parse_cache=self.ledger if isinstance(self.ledger, ParseCache) else None)
        self.troubleshoot = TroubleshootHook(self.store, server=config.troubleshoot)
        self.engine = Engine(
            self.catalog,
            self.store,
            self.kinds,
            EngineSettings(
                max_depth=config.max_depth,
                default_timeout=config.default_timeout,
                # in a cluster, workers bound their runs and front ends the queue's depth
                max_concurrent=None if config.queue else config.max_concurrent,
                access=ExecutionAccess(isolate_subjects=config.isolate_subjects),
            ),
            failure_hooks=[self.troubleshoot],
        )
        self.problems: list[Problem] = []
        self.queue: QueueNode | None = None
        """Set on a cluster node (`--queue`): runs and sub-runs are published as work."""
        self._loading: asyncio.Future[list[Problem]] | None = None

    @property
    def access(self) -> ExecutionAccess:
        """The execution authorisation rule every face applies (`hub.contract.access`)."""
        return self.engine.settings.access

    async def open(self, *, load_catalog: bool = True) -> Hub:
        await self.store.open()
        if self.config.queue:
            try:
                self.queue = await QueueNode.open(
                    queue_settings(self.config), self.store, name="agenthub", dsn=str(self.config.db)
                )
            except BaseException:
                await self.store.close()
                raise
            self.engine.remote = self.queue.dispatch
        if load_catalog:
            self.problems = await self.reload()
        return self

    async def reload(self) -> list[Problem]:
        """(Re)load the catalog directory off the event loop; broken files are logged and skipped."""
        if not self.config.catalog.is_dir():
            log.warning("catalog directory %s does not exist", self.config.catalog)
            return []
        if self._loading is not None and not self._loading.done():
            log.error("catalog: the previous load is still running; keeping the served catalog")
            return []
        self._loading = asyncio.ensure_future(asyncio.to_thread(self.catalog.load))
        try:  # shielded: a load that overruns finishes in its thread, and no second one starts meanwhile
            problems = await asyncio.wait_for(asyncio.shield(self._loading), self.config.catalog_load_timeout)
        except TimeoutError:
            log.error("catalog: loading took over %gs; keeping the served catalog", self.config.catalog_load_timeout)
            return []
        for problem in problems:
            log.warning("catalog: %s", problem)
        return problems

    async def watch(
        self, on_change: Callable[[], Awaitable[None]], *, interval: float = DEFAULT_INTERVAL,
        on_watching: Callable[[], None] | None = None,
    ) -> None:
        """Reload the catalog whenever a playbook file is added, edited or removed, and await
        `on_change()` when the set of served playbooks changed (a broken edit changes nothing: the
        catalog keeps serving the previous version and the reload logs why). Runs until cancelled.
        `on_watching()` is called once, when an edit from then on is seen (a server says it is
        serving only after that, so an edit right after start-up is not missed)."""
        told = False

        def watching() -> None:
            nonlocal told
            if not told and on_watching is not None:
                told = True
                on_watching()

        peers = None
        if self.queue is not None:  # a peer node saw a change: reload now and tell our clients

            async def from_peer() -> None:
                await self.reload()
                await on_change()

            peers = await self.queue.on_peer_catalog_change(from_peer)
        try:
            watcher = watcher_for(self.config.catalog, self.config.watch, interval=interval, on_watching=watching)
            async with contextlib.aclosing(watcher.changes()) as changes:  # closed: its OS watch ends
                async for files in changes:
                    before = self.catalog.generation
                    log.info("catalog: %d file(s) changed, reloading", len(files))
                    await self.reload()
                    if self.catalog.generation == before:
                        continue
                    if self.queue is not None:
                        await self.queue.announce_catalog_change()
                    try:
                        await on_change()
                    except Exception:  # a failing subscriber must not stop the watching
                        log.exception("catalog change hook failed")
        finally:
            if peers is not None:
                with contextlib.suppress(Exception):
                    await peers.unsubscribe()

    async def aclose(self) -> None:
        try:
            await self.engine.aclose()
            await self.kinds.aclose()
            if self.queue is not None:
                await self.queue.close()
        finally:
            await self.store.close()
            self.ledger.close()

    async def __aenter__(self) -> Hub:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
