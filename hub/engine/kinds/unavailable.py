"""Tool kinds the hub knows of but cannot run: NoETL kinds that need NoETL's own services
(Kubernetes jobs, its Rust worker, its result store) or cloud accounts this hub does not reach.

Each is a registry entry like any other kind, so a playbook that uses one still loads (its block is
kept as written, nothing rendered or checked), `catalog validate` warns which kind it needs and
why, and a run that reaches the step fails with a `TOOL_KIND_UNAVAILABLE` envelope naming the kind.
Nothing else of the catalog is affected. A kind that becomes runnable is simply registered for real:
the registry only fills in the names no real kind took.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall

NOETL_UNAVAILABLE: dict[str, str] = {
    "container": "NoETL runs it as a Kubernetes Job; the hub has no container runtime",
    "script": "NoETL runs scripts as Kubernetes Jobs from GCS/S3/HTTP sources; use `python` or `shell`",
    "snowflake": "it needs a Snowflake account and NoETL's Snowflake connector",
    "snowflake_transfer": "it moves data between Snowflake and PostgreSQL through NoETL's worker",
    "transfer": "it streams data between stores (Snowflake, PostgreSQL, GCS) inside NoETL's worker",
    "gcs": "it needs Google Cloud Storage credentials and client libraries the hub does not ship",
    "gateway": "it calls back into NoETL's API gateway service, which the hub does not run",
    "rhai": "Rhai scripts run inside NoETL's Rust worker; the hub has no Rhai engine",
    "artifact": "it reads and writes NoETL's result store, which the hub does not have",
    "result_fetch": "it fetches a result by reference from NoETL's result store",
    "ducklake": "it needs a DuckLake catalog database and object store the hub does not manage",
    "iterator": "NoETL's legacy loop kind; write `loop:` on the step instead",
    "task_sequence": "NoETL's internal kind for tool pipelines; write `tool:` as a list",
    "playbooks": "NoETL's batch runner over a catalog folder; use `playbook` steps in a `loop:`",
    "subscription": "it polls Kafka and Pub/Sub subscriptions through NoETL's worker",
    "workbook": "NoETL `workbook:` tasks are not supported by this hub",
}
"""NoETL tool kinds (of its 26) the hub cannot run, and why."""


class AllFields(frozenset[str]):
    """`raw_fields` that holds every name: an unavailable kind's block is never rendered."""

    def __contains__(self, item: object) -> bool:
        return True


class UnavailableConfig(BaseModel):
    """Any block: the hub cannot check what it cannot run."""

    model_config = ConfigDict(extra="allow")


class UnavailableKind:
    """A kind the hub knows of but cannot run; `unavailable` says why."""

    config_model = UnavailableConfig
    raw_fields: frozenset[str] = AllFields()
    default_retry = None
    deadline_aware = False

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.unavailable = reason

    async def run(self, call: StepCall) -> Any:
        raise Failure.of(
            ErrorCode.TOOL_KIND_UNAVAILABLE,
            f"step {call.step!r} needs tool kind {self.name!r}, which this hub cannot run: {self.unavailable}",
            details={"tool_kind": self.name},
        )
