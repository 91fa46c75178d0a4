"""Hub settings: defaults, then environment (`AGENTHUB_*`), then command-line flags."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from catalog.files import DEFAULT_MAX_FILE_BYTES
from catalog.model import TroubleshootKnobs



def bundled_catalog() -> Path:
    """The catalog that ships with the hub: `hub/bundled_playbooks/` in an installed wheel (package
    data, see setup.py), the repository's `playbooks/` in a source checkout. The default catalog, so
    a client that starts `agenthub stdio` from any directory gets the same tools."""
    package = Path(__file__).resolve().parent
    installed = package / "bundled_playbooks"
    return installed if installed.is_dir() else package.parent / "playbooks"

PROJECT_DB = Path(".agenthub") / "agenthub.db"
"""Where a project keeps its own database when asked (`--db .agenthub/agenthub.db`)."""


def default_db() -> Path:
    """The per-user database (`~/.local/share/agenthub/agenthub.db` on Linux, honouring
    XDG_DATA_HOME; the platform's own place elsewhere). Not the working directory: an IDE starts a
    stdio server wherever it likes, and one history per launch directory (or a crash in an
    unwritable one) is not what a user wants."""
    import platformdirs

    return platformdirs.user_data_path("agenthub", appauthor=False) / "agenthub.db"


class HubConfig(BaseModel):
    catalog: Path = Field(default_factory=bundled_catalog,
                          description="Catalog directory (AGENTHUB_CATALOG; default: the bundled catalog).")
    db: Path | str = Field(
        default_factory=default_db,
        description="The store (AGENTHUB_DB): a SQLite file (the embedded default, in the per-user data "
        "directory), or a postgresql:// URL.",
    )
    max_depth: int = Field(default=8, ge=0, description="Sub-run nesting limit (AGENTHUB_MAX_DEPTH).")
    default_timeout: float | None = Field(
        default=None, gt=0, description="Deadline for playbooks without `timeout:` (AGENTHUB_DEFAULT_TIMEOUT)."
    )
    call_timeout: float = Field(
        default=60.0, gt=0,
        description="Seconds a tools/call or REST execute waits before answering `running` (AGENTHUB_CALL_TIMEOUT).",
    )
    input_timeout: float = Field(
        default=600.0, gt=0,
        description="Seconds a run waits for a 2026-era MCP client's next input round (an `elicit`, `sample` or "
        "`roots` answer) before the step fails CALLER_INPUT_TIMEOUT (AGENTHUB_INPUT_TIMEOUT).",
    )
    execution_links: bool = Field(
        default=False,
        description="Add a resource_link to the execution's report to every MCP tool result, not only "
        "to `running` answers (AGENTHUB_EXECUTION_LINKS).",
    )
    max_concurrent: int | None = Field(
        default=64, ge=1, description="Top-level executions at once (AGENTHUB_MAX_CONCURRENT)."
    )
    watch: Literal["events", "poll"] = Field(
        default="events",
        description="How the catalog directory is watched: OS file events, or polling every 0.25 s "
        "for mounts where events do not arrive (AGENTHUB_WATCH).",
    )
    catalog_max_file_bytes: int = Field(
        default=DEFAULT_MAX_FILE_BYTES, ge=1,
        description="Size cap of one catalog file; bigger ones are problems, never read (AGENTHUB_CATALOG_MAX_FILE_BYTES).",
    )
    catalog_load_timeout: float = Field(
        default=30.0, gt=0,
        description="Seconds a catalog (re)load may take before the hub gives up on it and keeps serving "
        "what it has (AGENTHUB_CATALOG_LOAD_TIMEOUT).",
    )
    isolate_subjects: bool = Field(
        default=False,
        description="Only the token subject that started an execution (or a token with the admin scope "
        "`agenthub:admin`) may see, cancel or diagnose it (AGENTHUB_ISOLATE_SUBJECTS).",
    )

    queue: str | None = Field(
        default=None,
        description="nats://host:port: run as a cluster node over NATS JetStream (AGENTHUB_QUEUE); needs a "
        "postgresql:// store. None: the embedded default, executions run in this process.",
    )
    queue_prefix: str = Field(
        default="agenthub", pattern=r"^[A-Za-z0-9_-]+$",
        description="Names the stream, consumer and subjects of this cluster (AGENTHUB_QUEUE_PREFIX).",
    )
    queue_ack_wait: float = Field(
        default=30.0, gt=0, description="Seconds of worker silence before a run is redelivered (AGENTHUB_QUEUE_ACK_WAIT)."
    )
    queue_max_deliver: int = Field(
        default=5, ge=1, description="Deliveries of one run before it fails (AGENTHUB_QUEUE_MAX_DELIVER)."
    )
    queue_depth: int = Field(
        default=10_000, ge=0,
        description="Runs waiting for a worker above which a front end answers TOO_MANY_EXECUTIONS (AGENTHUB_QUEUE_DEPTH).",
    )

    troubleshoot: TroubleshootKnobs = Field(
        default_factory=TroubleshootKnobs,
        description="Server-wide troubleshoot defaults, the lowest settings layer below the playbooks' "
        "`on_failure` and AGENTHUB_AUTO_TROUBLESHOOT (AGENTHUB_TROUBLESHOOT_CONFIG, a JSON object).",
    )

    @field_validator("db", mode="before")
    @classmethod
    def _db_path_or_url(cls, value: object) -> object:
        """A postgresql:// URL stays text (a Path would fold its `//`); anything else is a file."""
        if isinstance(value, str) and not value.startswith(("postgresql://", "postgres://")):
            return Path(value)
        return value

    @model_validator(mode="after")
    def _queue_needs_a_shared_store(self) -> HubConfig:
        if self.queue is not None and not self.uses_postgres:
            raise ValueError(
                f"--queue {self.queue} needs a PostgreSQL store (--db postgresql://...): front ends and "
                f"workers on other machines share one store, and a SQLite file ({self.db}) cannot be shared"
            )
        if self.queue is not None and not self.queue.startswith(("nats://", "tls://")):
            raise ValueError(f"--queue must be a nats:// URL, not {self.queue!r}")
        return self

    @property
    def uses_postgres(self) -> bool:
        return isinstance(self.db, str)

    @property
    def db_display(self) -> str:
        """The store for messages: the file, or the URL without its credentials."""
        if isinstance(self.db, str):
            scheme, _, rest = self.db.partition("://")
            return f"{scheme}://{rest.rpartition('@')[2]}"
        return str(self.db)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> HubConfig:
        """Environment over defaults, then any override that is not None."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field, var in (
            ("catalog", "AGENTHUB_CATALOG"),
            ("db", "AGENTHUB_DB"),
            ("max_depth", "AGENTHUB_MAX_DEPTH"),
            ("default_timeout", "AGENTHUB_DEFAULT_TIMEOUT"),
            ("call_timeout", "AGENTHUB_CALL_TIMEOUT"),
            ("input_timeout", "AGENTHUB_INPUT_TIMEOUT"),
            ("max_concurrent", "AGENTHUB_MAX_CONCURRENT"),
            ("watch", "AGENTHUB_WATCH"),
            ("queue", "AGENTHUB_QUEUE"),
            ("queue_prefix", "AGENTHUB_QUEUE_PREFIX"),
            ("queue_ack_wait", "AGENTHUB_QUEUE_ACK_WAIT"),
            ("queue_max_deliver", "AGENTHUB_QUEUE_MAX_DELIVER"),
            ("queue_depth", "AGENTHUB_QUEUE_DEPTH"),
            ("isolate_subjects", "AGENTHUB_ISOLATE_SUBJECTS"),
            ("catalog_max_file_bytes", "AGENTHUB_CATALOG_MAX_FILE_BYTES"),
            ("catalog_load_timeout", "AGENTHUB_CATALOG_LOAD_TIMEOUT"),
            ("execution_links", "AGENTHUB_EXECUTION_LINKS"),
        ):
            if env.get(var):
                values[field] = env[var]
        if env.get("AGENTHUB_TROUBLESHOOT_CONFIG"):  # JSON: {"troubleshoot": true, "budget": 10, ...}
            values["troubleshoot"] = json.loads(env["AGENTHUB_TROUBLESHOOT_CONFIG"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
