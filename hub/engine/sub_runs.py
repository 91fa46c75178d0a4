"""Two things a sub-run call may ask beyond "run this catalog playbook": a child named by a file
path relative to the parent's own file (`path: ./child.yaml`, as NoETL's ops playbooks write it),
and `return_step` (answer with one step's output of the child rather than its result)."""

from __future__ import annotations

from pathlib import Path

from catalog.catalog import Catalog
from catalog.entries import CatalogEntry
from hub.contract.envelope import Envelope, ErrorInfo
from hub.contract.errors import ErrorCode
from hub.contract.records import EventType
from hub.contract.store import EventStore


def relative_entry(catalog: Catalog, ref: str, parent_path: str) -> CatalogEntry | None:
    """The catalog entry loaded from `ref` (`./x.yaml`, `../x.yaml`) next to the parent's file."""
    if not ref.startswith(("./", "../")):
        return None
    parent = catalog.get(parent_path)
    if parent is None or parent.file is None:
        return None
    wanted = (Path(parent.file).parent / ref).resolve()
    for entry in catalog.entries():
        if entry.file is not None and Path(entry.file).resolve() == wanted:
            return entry
    return None


async def step_output(store: EventStore, envelope: Envelope, step: str) -> Envelope:
    """The child's envelope with `data` = the output of its last finished `step`."""
    await store.flush()
    for event in reversed(await store.events(envelope.execution_id)):
        if event.type == EventType.STEP_FINISHED and event.step == step:
            return envelope.model_copy(update={"data": event.data.get("output")})
    error = ErrorInfo.of(
        ErrorCode.STEP_CONFIG_INVALID,
        f"return_step {step!r}: the child {envelope.entrypoint} ({envelope.execution_id}) ran no such step",
    )
    return envelope.model_copy(update={"status": "error", "data": None, "error": error})
