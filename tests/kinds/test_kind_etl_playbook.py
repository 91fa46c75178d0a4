"""A realistic NoETL-style playbook across the data kinds, end to end against the real services of
this machine: a secret, an HTTP fetch from a loopback API, PostgreSQL, DuckDB, NATS key-value and a
shell step, with hostile data from the API travelling through every one of them as data."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.kinds.kinds_support import run, stored_text

psycopg = pytest.importorskip("psycopg")
nats = pytest.importorskip("nats")
pytest.importorskip("duckdb")

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
HOSTILE = "x'); DROP TABLE posts; -- $(touch /tmp/ah_pwned)"

PLAYBOOK = """
apiVersion: noetl.io/v2
kind: Playbook
metadata: {{name: posts_etl, path: etl/posts}}
workload:
  api: "{api}"
  bucket: "{bucket}"
keychain:
  - {{name: pg, env: AH_ETL_PG}}
  - {{name: nats_cred, env: AH_ETL_NATS}}
  - {{name: api_token, env: AH_ETL_TOKEN}}
workflow:
  - step: token
    tool: {{kind: secrets, secret_name: api_token}}
    next: [{{step: fetch}}]
  - step: fetch
    tool:
      kind: http
      url: "{{{{ workload.api }}}}/posts"
      headers: {{Authorization: "Bearer {{{{ token.secret_value }}}}"}}
    next: [{{step: store}}]
  - step: store
    tool:
      kind: postgres
      auth: pg
      command: |
        CREATE TABLE posts (id int PRIMARY KEY, user_id int, title text);
        INSERT INTO posts (id, user_id, title) VALUES
        {{% for p in fetch.body %}}({{{{ p.id }}}}, {{{{ p.userId }}}}, '{{{{ p.title }}}}'){{% if not loop.last %}},{{% endif %}}{{% endfor %}};
        SELECT user_id, count(*) AS posts FROM posts GROUP BY user_id ORDER BY user_id
    next: [{{step: summarize}}]
  - step: summarize
    tool:
      kind: duckdb
      commands:
        - "CREATE TABLE per_user (user_id INTEGER, posts INTEGER)"
        - "INSERT INTO per_user VALUES {{% for r in store.rows %}}({{{{ r.user_id }}}}, {{{{ r.posts }}}}){{% if not loop.last %}},{{% endif %}}{{% endfor %}}"
        - "SELECT sum(posts)::INTEGER AS total, max(posts) AS busiest FROM per_user"
    next: [{{step: publish}}]
  - step: publish
    tool:
      kind: nats
      auth: nats_cred
      operation: kv_put
      bucket: "{{{{ workload.bucket }}}}"
      key: summary
      value: "{{{{ summarize.rows[0] }}}}"
    next: [{{step: report}}]
  - step: report
    tool:
      kind: shell
      cmds: ["printf '%s posts, last title: %s' {{{{ summarize.rows[0].total }}}} {{{{ fetch.body[-1].title }}}}"]
    result:
      total: "{{{{ summarize.rows[0].total }}}}"
      busiest: "{{{{ summarize.rows[0].busiest }}}}"
      revision: "{{{{ publish.revision }}}}"
      line: "{{{{ report.stdout }}}}"
"""


@pytest.fixture
def database() -> Any:
    name = f"ah_etl_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_posts_etl_end_to_end(hub, write_playbook, http_server, database, monkeypatch):
    token = "tok-" + secrets.token_hex(8)
    bucket = f"ah_etl_{secrets.token_hex(4)}"
    posts = [{"id": 1, "userId": 1, "title": "first"}, {"id": 2, "userId": 1, "title": "second"},
             {"id": 3, "userId": 2, "title": HOSTILE}]
    http_server.script("/posts", (200, posts))
    monkeypatch.setenv("AH_ETL_PG", json.dumps({"host": "127.0.0.1", "user": "postgres", "database": database}))
    monkeypatch.setenv("AH_ETL_NATS", "nats://127.0.0.1:4222")
    monkeypatch.setenv("AH_ETL_TOKEN", token)
    client = await nats.connect("nats://127.0.0.1:4222")
    js = client.jetstream()
    kv = await js.create_key_value(bucket=bucket)
    try:
        write_playbook("posts_etl", PLAYBOOK.format(api=http_server.url, bucket=bucket))
        envelope = await run(hub, "etl/posts")
        assert envelope.status == "ok", envelope
        assert envelope.data == {"total": 3, "busiest": 2, "revision": 1,
                                 "line": f"3 posts, last title: {HOSTILE}"}
        assert http_server.hits("/posts")[0]["headers"]["Authorization"] == f"Bearer {token}"
        assert json.loads((await kv.get("summary")).value) == {"total": 3, "busiest": 2}
        assert token not in await stored_text(hub, envelope.execution_id)
    finally:
        await js.delete_key_value(bucket)
        await client.close()
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}") as c:
        assert c.execute("SELECT title FROM posts WHERE id = 3").fetchone()[0] == HOSTILE
    assert not Path("/tmp/ah_pwned").exists()
