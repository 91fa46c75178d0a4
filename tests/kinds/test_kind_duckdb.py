"""`duckdb`, embedded: statements with bound values, results as rows, a file database that keeps
its data between steps, hostile arguments kept as data, failing SQL as SQL_ERROR."""

from __future__ import annotations

import json

import pytest

from tests.kinds.kinds_support import run

pytest.importorskip("duckdb")


def _playbook(name: str, steps: str, workload: str = "{}") -> str:
    return f"""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {{name: {name}}}
        workload: {workload}
        workflow:
{steps}
        """


async def test_memory_query_with_bound_values(hub, write_playbook):
    write_playbook("mem", _playbook("mem", """
          - step: q
            tool:
              kind: duckdb
              commands:
                - "CREATE TABLE t (n INTEGER, label VARCHAR)"
                - "INSERT INTO t SELECT range, 'item ' || range FROM range({{ workload.count }})"
                - "SELECT sum(n) AS total, count(*) AS rows, max(label) AS top FROM t WHERE label LIKE '%{{ workload.part }}%'"
        """, "{count: 5, part: item}"))
    envelope = await run(hub, "mem")
    assert envelope.status == "ok", envelope
    assert envelope.data["rows"] == [{"total": 10, "rows": 5, "top": "item 4"}]
    assert envelope.data["statement_count"] == 3
    assert envelope.data["command_1"]["row_count"] == 5


async def test_file_database_and_hostile_values(hub, write_playbook, tmp_path):
    db = tmp_path / "data.duckdb"
    write_playbook("file", _playbook("file", f"""
          - step: setup
            tool: {{kind: duckdb, database: "{db}", query: "CREATE TABLE IF NOT EXISTS notes (body VARCHAR)"}}
            next: [{{step: save}}]
          - step: save
            tool:
              kind: duckdb
              database: "{db}"
              command: "INSERT INTO notes VALUES ('{{{{ workload.body }}}}'); SELECT body FROM notes"
        """, "{body: hi}"))
    hostile = "x'); DROP TABLE notes; --"
    first = await run(hub, "file", {"body": hostile})
    assert first.status == "ok", first
    assert first.data["rows"] == [{"body": hostile}]
    second = await run(hub, "file", {"body": "{{ 7 * 7 }}"})
    assert second.data["rows"] == [{"body": hostile}, {"body": "{{ 7 * 7 }}"}]


async def test_failing_statement_is_sql_error_and_rolls_back(hub, write_playbook, tmp_path):
    db = tmp_path / "tx.duckdb"
    write_playbook("bad", _playbook("bad", f"""
          - step: q
            tool:
              kind: duckdb
              database: "{db}"
              commands: ["CREATE TABLE kept (n INTEGER)", "SELECT * FROM no_such_table"]
        """))
    envelope = await run(hub, "bad")
    error = envelope.error
    assert (error.kind, error.code, error.retryable) == ("agent.execution", "SQL_ERROR", False)
    assert "statement 2 of 2" in error.message and "no_such_table" in error.message
    import duckdb

    with duckdb.connect(str(db)) as connection:
        tables = connection.execute("SELECT table_name FROM information_schema.tables").fetchall()
    assert tables == []


async def test_sql_in_more_than_one_field_does_not_load(hub, write_playbook):
    write_playbook("two", _playbook("two", """
          - step: q
            tool: {kind: duckdb, query: "SELECT 1", command: "SELECT 2"}
        """))
    h = await hub()
    assert any("exactly one of query, command, commands" in str(p) for p in h.problems), json.dumps([str(p) for p in h.problems])


async def test_noetl_attached_secrets_answer_unavailable(hub, write_playbook):
    write_playbook("attach", _playbook("attach", """
          - step: q
            tool:
              kind: duckdb
              auth: {pg_db: {source: credential, tool: postgres, key: pg_local}}
              query: "SELECT * FROM pg_db.public.t"
        """))
    envelope = await run(hub, "attach")
    assert (envelope.error.kind, envelope.error.code) == ("agent.dependency", "TOOL_KIND_UNAVAILABLE")
    assert "`auth:`" in envelope.error.message


async def test_sql_passed_in_whole_from_a_variable_is_refused(hub, write_playbook):
    write_playbook("whole", _playbook("whole", """
          - step: q
            tool: {kind: duckdb, command: "{{ workload.query }}"}
        """, "{query: 'SELECT 1'}"))
    envelope = await run(hub, "whole", {"query": "SELECT 42"})
    assert envelope.error.code == "STEP_CONFIG_INVALID"
    assert "only a template value" in envelope.error.message
