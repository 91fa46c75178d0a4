"""One hub process's membership in a cluster: its NATS connection, the work stream, the dispatch
of runs as work, and the catalog-change subject shared by every node.

A catalog change one node sees (its directory watcher fired) is announced on
`PREFIX.catalog.changed`; every other node reloads its catalog and tells its connected MCP clients
(tools list_changed) at once, instead of waiting for its own watcher. Nodes are expected to serve
the same catalog (a shared volume or the same deploy); version numbers agree because they are
allocated in the shared database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from hub.contract.store import EventStore
from hub.queue.connection import connect, ensure_stream
from hub.queue.dispatch import QueueDispatch
from hub.queue.exhausted import sweep_exhausted, watch_exhausted
from hub.queue.leases import Leases
from hub.queue.settings import QueueSettings, Subjects

log = logging.getLogger("agenthub.queue")


class QueueNode:
    def __init__(
        self, nc: Any, js: Any, settings: QueueSettings, dispatch: QueueDispatch, *,
        advisories: Any = None, sweep: asyncio.Task[None] | None = None, leases: Leases | None = None,
    ) -> None:  # fmt: skip
        self.nc = nc
        self.js = js
        self.settings = settings
        self.subjects = Subjects(settings.prefix)
        self.dispatch = dispatch
        self._advisories = advisories
        self._sweep = sweep
        self._leases = leases
        self.node_id = secrets.token_hex(8)
        """Tells this node's own announcements from its peers'."""

    @classmethod
    async def open(cls, settings: QueueSettings, store: EventStore, *, name: str, dsn: str) -> QueueNode:
        """Join the cluster: NATS, the work stream, and both watches for exhausted runs (the sweep
        on its own PostgreSQL connection at `dsn`, the store's database)."""
        nc = await connect(settings, name=name)
        leases: Leases | None = None
        try:
            js = nc.jetstream()
            await ensure_stream(js, settings)
            advisories = await watch_exhausted(nc, js, settings, store)
            leases = await Leases.open(dsn)
        except BaseException:
            await nc.close()
            raise
        sweep = asyncio.create_task(sweep_exhausted(nc, js, settings, store, leases), name="sweep-exhausted")
        return cls(
            nc, js, settings, QueueDispatch(nc, js, settings, store), advisories=advisories, sweep=sweep, leases=leases
        )  # fmt: skip

    async def announce_catalog_change(self) -> None:
        await self.nc.publish(self.subjects.catalog_changed, self.node_id.encode())
        await self.nc.flush()

    async def on_peer_catalog_change(self, handler: Callable[[], Awaitable[None]]) -> Any:
        """Call `handler` whenever another node announces a catalog change; returns the subscription."""

        async def received(msg: Any) -> None:
            if msg.data.decode("utf-8", "replace") == self.node_id:
                return
            try:
                await handler()
            except Exception:
                log.exception("catalog change from a peer failed to apply")

        return await self.nc.subscribe(self.subjects.catalog_changed, cb=received)

    async def close(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            await asyncio.gather(self._sweep, return_exceptions=True)
        if self._leases is not None:
            with contextlib.suppress(Exception):
                await self._leases.close()
        with contextlib.suppress(Exception):
            await self.nc.drain()
