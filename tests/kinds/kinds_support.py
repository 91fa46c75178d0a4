"""Helpers of the tool-kind tests: run one playbook through a real Hub and read its events."""

from __future__ import annotations

import json
from typing import Any


async def run(hub: Any, name: str, arguments: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    h = await hub()
    assert not h.problems, [str(p) for p in h.problems]
    return await h.engine.run(name, arguments or {}, **kwargs)


async def stored_text(hub: Any, execution_id: str) -> str:
    """Everything stored about an execution (record, envelope, events) as one JSON text."""
    h = await hub()
    await h.store.flush()
    record = await h.store.get(execution_id)
    events = await h.store.events(execution_id)
    return json.dumps([record.model_dump(mode="json"), [e.model_dump(mode="json") for e in events]])
