"""`tool.kind: duckdb`: SQL on an embedded DuckDB (the `duckdb` extra), values bound.

NoETL's fields: the SQL in `query`, `command` or `commands` (a string, or a list of statements),
`database` (a file path; default `:memory:`, a fresh database per step attempt). Every `{{ ... }}` in
the SQL is a bound parameter (see `bridges.sql_text`), statements run in order in one transaction,
and the answer has the `postgres` kind's shape: the last statement's `{rows, columns, row_count}`,
`statement_count` and `command_<i>`. DuckDB is synchronous, so the statements run on a worker
thread; a cancelled step interrupts the query. A failing statement is SQL_ERROR.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridges.extras import require_extra
from bridges.postgres import collect, jsonable
from bridges.sql_text import Statement, render_sql
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall

_DML = re.compile(r"^\s*(insert|update|delete)\b", re.IGNORECASE)
SQL_FIELDS = ("query", "command", "commands")


class DuckdbConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str | None = None
    command: str | None = None
    commands: str | list[str] | None = None
    database: str = Field(default=":memory:", description="A DuckDB file, or `:memory:`.")
    read_only: bool = False
    auth: dict[str, Any] | str | None = Field(
        default=None, description="NoETL's attached databases and cloud secrets: not supported; the step fails saying so."
    )
    credentials: dict[str, Any] | None = None
    gcs_credential: str | None = None

    @model_validator(mode="after")
    def _one_sql(self) -> DuckdbConfig:
        given = [f for f in SQL_FIELDS if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError(f"give the SQL in exactly one of query, command, commands (got {', '.join(given) or 'none'})")
        return self

    @property
    def sql_field(self) -> str:
        return next(f for f in SQL_FIELDS if getattr(self, f) is not None)

    @property
    def sql(self) -> list[str]:
        value = getattr(self, self.sql_field)
        return [value] if isinstance(value, str) else list(value)


class DuckdbKind:
    name = "duckdb"
    config_model = DuckdbConfig
    raw_fields: frozenset[str] = frozenset(SQL_FIELDS)
    default_retry = None
    deadline_aware = False

    async def run(self, call: StepCall) -> Any:
        config = call.config
        assert isinstance(config, DuckdbConfig)
        unsupported = [n for n in ("auth", "credentials", "gcs_credential") if getattr(config, n) is not None]
        if unsupported:
            raise Failure.of(
                ErrorCode.TOOL_KIND_UNAVAILABLE,
                f"{call.step}: NoETL's duckdb `{unsupported[0]}:` (attached PostgreSQL, GCS/S3 secrets) is not "
                "supported by this hub; read PostgreSQL with a `postgres` step and pass rows on",
                details={"tool_kind": self.name, "feature": unsupported[0]},
            )
        duckdb = await require_extra(self.name, "duckdb", "duckdb", "duckdb")
        statements = [
            s for i, text in enumerate(config.sql)
            for s in render_sql(text, call.template_context, f"{call.step}.tool.{config.sql_field}[{i}]", placeholder="?")
        ]
        try:
            connection = await asyncio.to_thread(duckdb.connect, config.database, read_only=config.read_only)
        except duckdb.Error as exc:
            raise Failure.of(
                ErrorCode.STEP_CONFIG_INVALID, f"{call.step}: cannot open DuckDB database {config.database!r}: {exc}"
            ) from None
        work = asyncio.ensure_future(asyncio.to_thread(_execute, duckdb, connection, statements, call.step))
        try:
            return collect(await asyncio.shield(work))
        except asyncio.CancelledError:
            connection.interrupt()
            await asyncio.gather(work, return_exceptions=True)
            raise
        finally:
            connection.close()


def _execute(duckdb: Any, connection: Any, statements: list[Statement], step: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    connection.begin()
    try:
        for statement in statements:
            cursor = connection.execute(statement.text, statement.params)
            results.append(_result(cursor, statement.text))
        connection.commit()
    except duckdb.Error as exc:
        connection.rollback()
        raise Failure.of(
            ErrorCode.SQL_ERROR,
            f"{step}: statement {len(results) + 1} of {len(statements)} failed: {str(exc).splitlines()[0]}",
            details={"statement_index": len(results), "exception_type": type(exc).__name__},
        ) from None
    return results


def _result(cursor: Any, text: str) -> dict[str, Any]:
    if cursor.description is None:
        return {"rows": [], "columns": [], "row_count": 0}
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, (jsonable(v) for v in row))) for row in cursor.fetchall()]
    if _DML.match(text) and columns == ["Count"] and len(rows) == 1:
        return {"rows": [], "columns": [], "row_count": rows[0]["Count"]}
    return {"rows": rows, "columns": columns, "row_count": len(rows)}
