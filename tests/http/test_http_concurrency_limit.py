"""The hub's concurrency limit under a burst, on a real `agenthub serve` (issue 12's racy limit):
the slot is reserved before the execution is created, so 200 simultaneous starts never run more
than `--max-concurrent`."""

from __future__ import annotations

import asyncio

import httpx
from http_support import Served

LIMIT = 64
BURST = 200


async def test_a_burst_of_200_starts_runs_at_most_the_limit(serve):
    served: Served = serve("--max-concurrent", str(LIMIT))
    async with httpx.AsyncClient(base_url=served.base, timeout=60,
                                 limits=httpx.Limits(max_connections=BURST)) as client:
        async def start() -> httpx.Response:
            for _ in range(5):
                try:
                    return await client.post("/api/executions", json={"playbook": "slow", "wait": False})
                except httpx.RemoteProtocolError:
                    # on a loaded machine uvicorn may drop a fresh connection whose request it has
                    # not read yet (its keep-alive timer runs from accept); nothing was started
                    await asyncio.sleep(0.2)
            return await client.post("/api/executions", json={"playbook": "slow", "wait": False})

        answers = await asyncio.gather(*(start() for _ in range(BURST)))
        statuses = [a.status_code for a in answers]
        assert set(statuses) <= {202, 429}, statuses
        assert statuses.count(202) == LIMIT
        refused = next(a for a in answers if a.status_code == 429)
        assert refused.json()["error"]["code"] == "TOO_MANY_EXECUTIONS"
        running = (await client.get("/api/executions", params={"status": "running", "limit": 500})).json()["items"]
        assert len(running) == LIMIT
