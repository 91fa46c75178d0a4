"""`tool.kind: postgres`: SQL against PostgreSQL with psycopg 3 (the `postgres` extra), values bound.

Written as NoETL writes it: `command:` (or `query:`) holds the SQL, `auth:` (or `connection:`)
names a keychain entry holding a DSN or a JSON object of fields, or the fields are written inline
(`host`, `port`, `user`, `password`, `database`, and NoETL's `db_*` names). Every `{{ ... }}` in the
SQL is a bound parameter, never text (see `bridges.sql_text`), so a caller's argument cannot change
the statement. Statements separated by `;` run in order in one transaction (all or nothing).

The answer is the last statement's `{rows, columns, row_count}` (rows as dicts; `row_count` is the
number of rows returned, or affected for INSERT/UPDATE/DELETE), with `statement_count` and each
statement's own result under `command_<i>` (NoETL's shape). Connection failures are
DB_CONNECTION_ERROR (retryable); a failing statement is SQL_ERROR with its SQLSTATE (not retryable).
One connection per step attempt; a cancelled step cancels its query on the server.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import decimal
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridges.connections import resolve_connection
from bridges.extras import require_extra
from bridges.sql_text import Statement, render_sql
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall

_CONNECTION_LOST_SQLSTATE = ("08", "57P")


class PostgresConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    command: str | None = Field(default=None, description="SQL; `{{ ... }}` values are bound parameters.")
    query: str | None = Field(default=None, description="Same as `command`.")
    auth: str | dict[str, Any] | None = Field(
        default=None, description="A keychain entry name (DSN or JSON fields), a DSN, or a mapping of fields."
    )
    connection: str | dict[str, Any] | None = Field(default=None, description="Same as `auth`.")
    credential: str | dict[str, Any] | None = Field(default=None, description="NoETL's older name for `auth`.")
    pool: dict[str, Any] | None = Field(
        default=None, description="NoETL's pool settings: accepted, unused (one connection per step attempt)."
    )
    script: dict[str, Any] | None = Field(
        default=None, description="NoETL's SQL from a file/S3/GCS source: not supported; the step fails saying so."
    )
    dsn: str | None = None
    host: str | None = None
    port: int | str | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None
    db_host: str | None = None
    db_port: int | str | None = None
    db_user: str | None = None
    db_password: str | None = None
    db_name: str | None = None
    connect_timeout: float = Field(default=10.0, gt=0, description="Seconds to connect.")

    @model_validator(mode="after")
    def _one_sql(self) -> PostgresConfig:
        given = [n for n in ("command", "query", "script") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(f"give the SQL in exactly one of `command` or `query` (got {', '.join(given) or 'none'})")
        refs = [n for n in ("auth", "connection", "credential") if getattr(self, n) is not None]
        if len(refs) > 1:
            raise ValueError(f"give at most one of `auth`, `connection`, `credential` (got {', '.join(refs)})")
        return self

    @property
    def connection_ref(self) -> str | dict[str, Any] | None:
        return next((r for r in (self.auth, self.connection, self.credential) if r is not None), None)

    @property
    def sql(self) -> str:
        return self.command if self.command is not None else self.query or ""

    def inline_fields(self) -> dict[str, Any]:
        names = ("dsn", "host", "port", "user", "password", "database",
                 "db_host", "db_port", "db_user", "db_password", "db_name")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def jsonable(value: Any) -> Any:
    """A database value as JSON can carry it (the step's output is stored as JSON)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


def collect(results: list[dict[str, Any]]) -> dict[str, Any]:
    """NoETL's shape: the last statement's result, its count, and every statement by index."""
    last = results[-1] if results else {"rows": [], "columns": [], "row_count": 0}
    answer: dict[str, Any] = {"status": "success", **last, "statement_count": len(results)}
    answer.update({f"command_{i}": r for i, r in enumerate(results)})
    return answer


class PostgresKind:
    name = "postgres"
    config_model = PostgresConfig
    raw_fields: frozenset[str] = frozenset({"command", "query"})
    default_retry = None
    deadline_aware = False

    async def run(self, call: StepCall) -> Any:
        config = call.config
        assert isinstance(config, PostgresConfig)
        if config.script is not None:
            raise Failure.of(
                ErrorCode.TOOL_KIND_UNAVAILABLE,
                f"{call.step}: NoETL's `script:` SQL sources (file, S3, GCS, HTTP) are not supported by "
                "this hub; write the SQL in `command:`",
                details={"tool_kind": self.name, "feature": "script"},
            )
        psycopg = await require_extra(self.name, "psycopg", "psycopg", "postgres")
        field = "command" if config.command is not None else "query"
        statements = render_sql(config.sql, call.template_context, f"{call.step}.tool.{field}")
        fields = resolve_connection(
            config.connection_ref, config.inline_fields(), call.context.keychain, f"{call.step}.tool",
        )
        connection = await self._connect(psycopg, fields, config.connect_timeout, call.step)
        try:
            return collect(await self._execute(psycopg, connection, statements, call.step))
        finally:
            await connection.close()

    @staticmethod
    async def _connect(psycopg: Any, fields: dict[str, Any], timeout: float, step: str) -> Any:
        kwargs = {k: v for k, v in fields.items() if k in ("host", "port", "user", "password", "sslmode")}
        if "database" in fields:
            kwargs["dbname"] = fields["database"]
        where = _describe(fields)
        try:
            return await psycopg.AsyncConnection.connect(
                fields.get("dsn", ""), connect_timeout=max(int(timeout), 1), **kwargs
            )
        except psycopg.ProgrammingError:  # a malformed DSN: its text may hold the password
            raise Failure.of(
                ErrorCode.STEP_CONFIG_INVALID, f"{step}: the PostgreSQL connection settings {where} do not parse"
            ) from None
        except psycopg.Error as exc:
            raise Failure.of(
                ErrorCode.DB_CONNECTION_ERROR, f"{step}: cannot connect to PostgreSQL {where}: {_first_line(exc)}"
            ) from None

    @staticmethod
    async def _execute(psycopg: Any, connection: Any, statements: list[Statement], step: str) -> list[dict[str, Any]]:
        from psycopg.rows import dict_row

        results: list[dict[str, Any]] = []
        try:
            async with connection.transaction():
                for statement in statements:
                    async with connection.cursor(row_factory=dict_row) as cursor:
                        await cursor.execute(statement.text, _adapted(statement.params) or None)
                        results.append(await _result(cursor))
        except asyncio.CancelledError:
            await _cancel(connection)
            raise
        except psycopg.Error as exc:
            index = len(results)
            sqlstate = getattr(exc, "sqlstate", None)
            lost = isinstance(exc, psycopg.OperationalError) and (
                sqlstate is None or sqlstate.startswith(_CONNECTION_LOST_SQLSTATE)
            )
            code = ErrorCode.DB_CONNECTION_ERROR if lost else ErrorCode.SQL_ERROR
            raise Failure.of(
                code, f"{step}: statement {index + 1} of {len(statements)} failed: {_first_line(exc)}",
                details={"sqlstate": sqlstate, "statement_index": index},
            ) from None
        return results


def _adapted(params: list[Any]) -> list[Any]:
    """Mappings (and lists holding any) are sent as jsonb; other values as psycopg adapts them
    (a str as an untyped literal PostgreSQL casts where it stands, a list of scalars as an array)."""
    from psycopg.types.json import Jsonb

    def one(value: Any) -> Any:
        if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
            return Jsonb(value)
        return value

    return [one(v) for v in params]


async def _result(cursor: Any) -> dict[str, Any]:
    if cursor.description is None:
        return {"rows": [], "columns": [], "row_count": max(cursor.rowcount, 0)}
    rows = [jsonable(row) for row in await cursor.fetchall()]
    return {"rows": rows, "columns": [c.name for c in cursor.description], "row_count": len(rows)}


async def _cancel(connection: Any) -> None:
    """Ask the server to stop the running query (a cancelled step must not leave it running)."""
    try:
        cancel_safe = getattr(connection, "cancel_safe", None)
        if cancel_safe is not None:
            await asyncio.wait_for(cancel_safe(), timeout=5)
        else:
            await asyncio.to_thread(connection.cancel)
    except Exception:  # best effort: closing the connection follows anyway
        pass


def _describe(fields: dict[str, Any]) -> str:
    """Where a connection goes, for messages: host, port and database, never the password."""
    if "dsn" in fields and not fields.get("host"):
        return "(from its connection string)"
    host = fields.get("host", "localhost")
    port = fields.get("port", 5432)
    database = fields.get("database", "")
    return f"{host}:{port}/{database}".rstrip("/")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
