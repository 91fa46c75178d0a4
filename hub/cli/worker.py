"""`agenthub worker`: a cluster node that runs executions from the queue (see `hub.queue.worker`).

It prints one line when it is pulling (`agenthub worker ready`), runs until SIGTERM/SIGINT, then
stops pulling, lets what it runs finish (so their messages are acked, not redelivered) and exits.
A second signal exits at once: the runs in hand are redelivered to another worker.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from hub.app import Hub
from hub.cli.common import EXIT_OK, UsageError
from hub.config import HubConfig
from hub.queue.leases import Leases
from hub.queue.worker import Worker
from hub.store.postgres import PostgresEventStore


async def cmd_worker(args: argparse.Namespace, config: HubConfig) -> int:
    overrides = {
        "max_concurrent": args.max_concurrent, "queue_ack_wait": args.ack_wait, "queue_max_deliver": args.max_deliver,
    }  # fmt: skip
    try:
        config = HubConfig.model_validate({**config.model_dump(), **{k: v for k, v in overrides.items() if v is not None}})
    except ValueError as exc:
        raise UsageError(f"bad configuration: {exc}") from None
    if config.queue is None:
        raise UsageError("a worker needs the cluster's queue: --queue nats://... (and --db postgresql://...)")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    async with Hub(config) as hub:
        assert hub.queue is not None and isinstance(hub.store, PostgresEventStore)
        leases = await Leases.open(str(config.db))
        worker = Worker(
            hub.engine, hub.store, hub.queue.nc, hub.queue.js, hub.queue.settings,
            max_concurrent=config.max_concurrent or 64, leases=leases,
        )  # fmt: skip

        def on_signal() -> None:
            if stop.is_set():
                raise SystemExit(1)
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal)
        watching = asyncio.create_task(hub.watch(_nothing))  # reload on catalog changes, announce them
        print("agenthub worker ready", flush=True)
        try:
            await worker.run(stop)
        finally:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
            await leases.close()
    return EXIT_OK


async def _nothing() -> None:
    """A worker has no MCP clients to tell about catalog changes."""
