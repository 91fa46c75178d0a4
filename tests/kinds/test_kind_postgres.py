"""`postgres` against the real PostgreSQL of this machine, in a database of its own: rows and
counts, every template value bound (hostile arguments stay data), connections from the keychain,
connection failures retryable and SQL errors not, statements in one transaction."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator

import pytest

from tests.kinds.kinds_support import run, stored_text

psycopg = pytest.importorskip("psycopg")

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    name = f"ah_kinds_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def table(database: str) -> Iterator[str]:
    name = f"t_{secrets.token_hex(4)}"
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}", autocommit=True) as c:
        c.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, name text, tags jsonb)")
    yield name


def _playbook(name: str, sql: str, *, auth: str = "auth: pg", workload: str = "{}") -> str:
    return f"""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {{name: {name}}}
        workload: {workload}
        keychain:
          - {{name: pg, env: AH_TEST_PG}}
        workflow:
          - step: q
            tool:
              kind: postgres
              {auth}
              command: {json.dumps(sql)}
        """


async def test_statements_rows_and_counts(hub, write_playbook, monkeypatch, database, table):
    monkeypatch.setenv("AH_TEST_PG", f"postgresql://postgres@127.0.0.1:5432/{database}")
    write_playbook("pg", _playbook("pg", f"""
        INSERT INTO {table} (id, name, tags) VALUES ({{{{ workload.id }}}}, '{{{{ workload.name }}}}', {{{{ workload.tags }}}});
        INSERT INTO {table} (id, name) VALUES ({{{{ workload.id + 1 }}}}, 'second; with -- odd text');
        SELECT id, name, tags FROM {table} WHERE name LIKE '%{{{{ workload.part }}}}%' OR id > {{{{ workload.id }}}} ORDER BY id
        """, workload="{id: 7, name: seventh, part: event, tags: {a: 1}}"))
    envelope = await run(hub, "pg")
    assert envelope.status == "ok", envelope
    data = envelope.data
    assert data["statement_count"] == 3
    assert data["columns"] == ["id", "name", "tags"]
    assert data["rows"] == [{"id": 7, "name": "seventh", "tags": {"a": 1}},
                            {"id": 8, "name": "second; with -- odd text", "tags": None}]
    assert data["row_count"] == 2
    assert data["command_0"]["row_count"] == 1 and data["command_0"]["rows"] == []


HOSTILE_NAMES = [
    "x'); DROP TABLE {t}; --",
    "'; DELETE FROM {t}; SELECT '",
    "{{{{ 7 * 7 }}}}",
    "$$; DROP TABLE {t}; $$",
    "\\'; DROP TABLE {t}; --",
]


async def test_hostile_arguments_are_bound_not_spliced(hub, write_playbook, monkeypatch, database, table):
    monkeypatch.setenv("AH_TEST_PG", f"postgresql://postgres@127.0.0.1:5432/{database}")
    write_playbook("ins", _playbook("ins", f"""
        INSERT INTO {table} (id, name) VALUES ({{{{ workload.id }}}}, '{{{{ workload.name }}}}');
        SELECT name FROM {table} WHERE id = {{{{ workload.id }}}}
        """, workload="{id: 1, name: x}"))
    for i, template in enumerate(HOSTILE_NAMES):
        name = template.format(t=table)
        envelope = await run(hub, "ins", {"id": i + 1, "name": name})
        assert envelope.status == "ok", (name, envelope)
        assert envelope.data["rows"] == [{"name": name}]
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}") as c:
        assert c.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == len(HOSTILE_NAMES)


async def test_hostile_value_for_a_number_is_an_sql_error_not_a_predicate(hub, write_playbook, monkeypatch, database, table):
    monkeypatch.setenv("AH_TEST_PG", f"postgresql://postgres@127.0.0.1:5432/{database}")
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}", autocommit=True) as c:
        c.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'secret row')")
    write_playbook("get", _playbook("get", f"SELECT name FROM {table} WHERE id = {{{{ workload.id }}}}",
                                    workload="{id: '0'}"))
    envelope = await run(hub, "get", {"id": "0 OR 1=1"})
    assert envelope.status == "error"
    assert (envelope.error.kind, envelope.error.code, envelope.error.retryable) == ("agent.execution", "SQL_ERROR", False)
    assert envelope.error.details["sqlstate"] == "22P02"  # invalid input syntax for type integer
    assert "secret row" not in json.dumps(envelope.to_dict())


async def test_a_failing_statement_rolls_back_the_step(hub, write_playbook, monkeypatch, database, table):
    monkeypatch.setenv("AH_TEST_PG", f"postgresql://postgres@127.0.0.1:5432/{database}")
    write_playbook("tx", _playbook("tx", f"INSERT INTO {table} (id) VALUES (1); SELECT * FROM missing_table_xyz"))
    envelope = await run(hub, "tx")
    assert envelope.error.code == "SQL_ERROR"
    assert envelope.error.details == {"sqlstate": "42P01", "statement_index": 1}
    assert "statement 2 of 2" in envelope.error.message and "missing_table_xyz" in envelope.error.message
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}") as c:
        assert c.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


@pytest.mark.parametrize("form", ["json_fields", "inline_fields", "auth_mapping", "connection_dsn"])
async def test_connection_forms(hub, write_playbook, monkeypatch, database, form):
    fields = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": database}
    auth = {
        "json_fields": "auth: pg",
        "inline_fields": f"db_host: 127.0.0.1\n              db_port: 5432\n              db_user: postgres\n              db_name: {database}",
        "auth_mapping": "auth: {type: postgres, key: pg}",
        "connection_dsn": "connection: \"{{ keychain.pg }}\"",
    }[form]
    value = json.dumps(fields) if form != "connection_dsn" else f"host=127.0.0.1 user=postgres dbname={database}"
    monkeypatch.setenv("AH_TEST_PG", value)
    write_playbook("conn", _playbook("conn", "SELECT current_database() AS db, {{ workload.n }} + 1 AS n",
                                     auth=auth, workload="{n: 41}"))
    envelope = await run(hub, "conn")
    assert envelope.status == "ok", envelope
    assert envelope.data["rows"] == [{"db": database, "n": 42}]


async def test_connection_failure_is_retryable_and_keeps_the_password_out(hub, write_playbook, monkeypatch):
    password = "pw-" + secrets.token_hex(6)
    monkeypatch.setenv("AH_TEST_PG", json.dumps({"host": "127.0.0.1", "port": 1, "user": "postgres",
                                                 "password": password, "database": "postgres"}))
    write_playbook("down", _playbook("down", "SELECT 1"))
    envelope = await run(hub, "down")
    error = envelope.error
    assert (error.kind, error.code, error.retryable) == ("agent.execution", "DB_CONNECTION_ERROR", True)
    assert "127.0.0.1:1/postgres" in error.message
    assert password not in await stored_text(hub, envelope.execution_id)
    assert password not in json.dumps(envelope.to_dict())


async def test_auth_naming_no_keychain_entry(hub, write_playbook, monkeypatch):
    monkeypatch.setenv("AH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    write_playbook("nokey", _playbook("nokey", "SELECT 1", auth="auth: pg_local"))
    envelope = await run(hub, "nokey")
    assert envelope.error.code == "SECRET_NOT_FOUND"
    assert "'pg_local'" in envelope.error.message and "pg" in envelope.error.message


async def test_template_inside_an_identifier_is_refused(hub, write_playbook, monkeypatch, database):
    monkeypatch.setenv("AH_TEST_PG", f"postgresql://postgres@127.0.0.1:5432/{database}")
    write_playbook("ident", _playbook("ident", 'SELECT * FROM "{{ workload.t }}"', workload="{t: x}"))
    envelope = await run(hub, "ident")
    assert envelope.error.code == "STEP_CONFIG_INVALID"
    assert "quoted identifier" in envelope.error.message


async def test_a_step_out_of_time_stops_its_query_on_the_server(hub, write_playbook, monkeypatch, database):
    monkeypatch.setenv("AH_TEST_PG", f"postgresql://postgres@127.0.0.1:5432/{database}")
    marker = f"sleep_{secrets.token_hex(4)}"
    write_playbook("slow", f"""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {{name: slow}}
        keychain:
          - {{name: pg, env: AH_TEST_PG}}
        workflow:
          - step: q
            timeout: 0.5
            tool: {{kind: postgres, auth: pg, query: "SELECT pg_sleep(30) AS {marker}"}}
        """)
    envelope = await run(hub, "slow")
    assert envelope.error.code == "STEP_TIMEOUT"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        for _ in range(100):
            running = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s AND state = 'active' AND pid <> pg_backend_pid()",
                [f"%{marker}%"],
            ).fetchone()[0]
            if running == 0:
                break
            time.sleep(0.05)
    assert running == 0, "the query kept running on the server"


async def test_noetl_extras_credential_pool_and_script(hub, write_playbook, monkeypatch, database):
    monkeypatch.setenv("AH_TEST_PG", f"postgresql://postgres@127.0.0.1:5432/{database}")
    write_playbook("legacy", _playbook("legacy", "SELECT 2 AS two", auth="credential: pg\n              pool: {name: shared, max_size: 10}"))
    write_playbook("script", """
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {name: script}
        workload: {script_path: /etc/passwd}
        workflow:
          - step: run_file
            tool: {kind: postgres, auth: pg, script: {uri: "{{ workload.script_path }}", source: {type: file}}}
        """)
    legacy = await run(hub, "legacy")
    assert legacy.status == "ok", legacy
    assert legacy.data["rows"] == [{"two": 2}]
    script = await run(hub, "script")
    assert (script.error.kind, script.error.code) == ("agent.dependency", "TOOL_KIND_UNAVAILABLE")
    assert "`script:`" in script.error.message and "command:" in script.error.message
