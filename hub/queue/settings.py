"""How a hub node reaches the queue and what the queue promises: the stream, its subjects and
the consumer's delivery rules, all named from one prefix so several hubs (or test runs) can
share one NATS server without seeing each other's work."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field


class QueueSettings(BaseModel):
    url: str = Field(description="nats://host:port of the NATS server (JetStream enabled).")
    prefix: str = Field(
        default="agenthub", pattern=r"^[A-Za-z0-9_-]+$",
        description="Names the stream (PREFIX_WORK), the durable consumer and every subject (PREFIX.…).",
    )
    ack_wait: float = Field(
        default=30.0, gt=0,
        description="Seconds without an ack or in-progress ack before JetStream redelivers a run.",
    )
    max_deliver: int = Field(default=5, ge=1, description="Deliveries of one run before it fails (DELIVERY_EXHAUSTED).")
    max_queue_depth: int = Field(
        default=10_000, ge=0,
        description="A front end answers TOO_MANY_EXECUTIONS when more runs than this wait for a worker.",
    )


@dataclass(frozen=True)
class Subjects:
    """Every NATS name one hub cluster uses."""

    prefix: str

    @property
    def stream(self) -> str:
        return f"{self.prefix.upper().replace('-', '_')}_WORK"

    @property
    def durable(self) -> str:
        return f"{self.prefix}-workers"

    @property
    def work(self) -> str:
        """Work messages (JetStream); a message's subject ends with its execution id."""
        return f"{self.prefix}.work"

    def work_for(self, execution_id: str) -> str:
        return f"{self.work}.{execution_id}"

    def events(self, execution_id: str) -> str:
        """Step events of one run, worker -> the front end holding the caller (core NATS)."""
        return f"{self.prefix}.events.{execution_id}"

    def result(self, execution_id: str) -> str:
        """The final envelope of one run (core NATS)."""
        return f"{self.prefix}.result.{execution_id}"

    @property
    def cancel(self) -> str:
        """Cancel requests; every worker listens, the one running the execution acts."""
        return f"{self.prefix}.cancel"

    @property
    def catalog_changed(self) -> str:
        """A node saw the catalog change; every front end reloads and tells its clients."""
        return f"{self.prefix}.catalog.changed"

    @property
    def max_deliveries_advisory(self) -> str:
        return f"$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{self.stream}.{self.durable}"
