"""http steps against a real loopback server: retries with backoff, statuses, connection errors."""

from __future__ import annotations

import socket


def _http_playbook(write_playbook, retry: str = "") -> None:
    write_playbook("fetch", f"""
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {{name: fetch}}
        input:
          base: {{type: string}}
          token: {{type: string, default: ""}}
        workflow:
          - step: get
            tool:
              kind: http
              url: "{{{{ input.base }}}}/status"
              query: {{verbose: true}}
              headers: {{x-trace: abc}}
            {retry}
            result: "{{{{ output.body }}}}"
        """)


async def test_503_then_200_is_retried_with_backoff(hub, write_playbook, http_server):
    http_server.script("/status", (503, {"error": "busy"}), (503, {"error": "busy"}), (200, {"state": "up"}))
    _http_playbook(write_playbook, "retry: {attempts: 4, backoff: 0.05, multiplier: 2, jitter: 0.2}")
    h = await hub()
    env = await h.engine.run("fetch", {"base": http_server.url})
    assert env.ok, env.error
    assert env.data == {"state": "up"}
    hits = http_server.hits("/status")
    assert len(hits) == 3
    assert hits[0]["path"] == "/status?verbose=true" and hits[0]["headers"]["x-trace"] == "abc"
    await h.store.flush()
    events = await h.store.events(env.execution_id)
    retried = [e for e in events if e.type == "step.retried"]
    assert [e.data["attempt"] for e in retried] == [1, 2]
    assert all(e.data["error"]["code"] == "HTTP_STATUS_503" for e in retried)
    first, second = (e.data["delay"] for e in retried)
    assert 0.04 <= first <= 0.06 and 0.08 <= second <= 0.12  # exponential, jitter within 20%
    started = [e.data["attempt"] for e in events if e.type == "step.started"]
    assert started == [1, 2, 3]


async def test_retries_exhausted_keep_the_status_error(hub, write_playbook, http_server):
    http_server.script("/status", (502, {"error": "bad gateway"}))
    _http_playbook(write_playbook, "retry: {attempts: 2, backoff: 0.01}")
    h = await hub()
    env = await h.engine.run("fetch", {"base": http_server.url})
    assert env.status == "error"
    assert env.error.code == "HTTP_STATUS_502" and env.error.retryable is True
    assert env.error.details["http_status"] == 502
    assert "bad gateway" in env.error.message
    assert len(http_server.hits("/status")) == 2


async def test_4xx_is_not_retried(hub, write_playbook, http_server):
    http_server.script("/status", (404, {"error": "nope"}))
    _http_playbook(write_playbook)  # the http kind's default policy: 3 attempts on retryable errors
    h = await hub()
    env = await h.engine.run("fetch", {"base": http_server.url})
    assert env.error.code == "HTTP_STATUS_404" and env.error.retryable is False
    assert len(http_server.hits("/status")) == 1


async def test_default_policy_retries_429_and_honours_retry_after(hub, write_playbook, http_server):
    http_server.script("/status", (429, {"error": "slow down"}, {"retry-after": "0.3"}), (200, {"state": "up"}))
    _http_playbook(write_playbook)
    h = await hub()
    env = await h.engine.run("fetch", {"base": http_server.url})
    assert env.ok
    await h.store.flush()
    retried = [e for e in await h.store.events(env.execution_id) if e.type == "step.retried"]
    assert len(retried) == 1 and retried[0].data["delay"] >= 0.3


async def test_connection_refused_is_retryable_connection_error(hub, write_playbook):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    _http_playbook(write_playbook, "retry: {attempts: 2, backoff: 0.01}")
    h = await hub()
    env = await h.engine.run("fetch", {"base": f"http://127.0.0.1:{port}"})
    assert env.error.code == "HTTP_CONNECTION_ERROR" and env.error.retryable is True
    await h.store.flush()
    assert sum(e.type == "step.retried" for e in await h.store.events(env.execution_id)) == 1


async def test_bundled_http_playbook_against_loopback(hub, catalog_dir, http_server):
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    shutil.copy(repo / "playbooks" / "examples" / "http_status.yaml", catalog_dir / "http_status.yaml")
    http_server.script("/status", (500, "oops", {"content-type": "text/plain"}), (200, {"state": "green"}))
    h = await hub()
    env = await h.engine.run("http_status", {"base_url": http_server.url})
    assert env.ok, env.error
    assert env.data == {"state": "green", "http_status": 200}
