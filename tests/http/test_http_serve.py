"""`agenthub serve` as a process: safe binding, start-up errors, limits and a graceful shutdown."""

from __future__ import annotations

import signal
import socket
import sqlite3
import threading

import pytest
from http_support import Served, wait_for


def _exit_of(served: Served, timeout: float = 30) -> int:
    return served.proc.wait(timeout=timeout)


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_non_loopback_bind_without_auth_is_refused(serve, host):
    served = serve("--host", host, wait=False)
    assert _exit_of(served) == 2
    assert "refusing to serve on" in served.log() and "--insecure" in served.log()


def test_a_non_loopback_bind_is_allowed_with_auth_or_insecure(serve, tmp_path):
    insecure = serve("--host", "0.0.0.0", "--insecure")
    with insecure.client() as client:
        assert client.get("/healthz").status_code == 200
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("tokens: []\n")
    with_auth = serve("--host", "0.0.0.0", "--tokens-file", str(tokens), "--allowed-host", "127.0.0.1:*")
    with with_auth.client() as client:
        assert client.get("/api/catalog").status_code == 401
        assert client.get("/healthz", headers={"host": "rebound.example"}).status_code == 421


def test_a_non_loopback_bind_with_auth_but_no_allowed_host_is_refused(serve, tmp_path):
    """Without the names clients use, DNS-rebinding protection would be off: refuse instead."""
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("tokens: []\n")
    served = serve("--host", "0.0.0.0", "--tokens-file", str(tokens), wait=False)
    assert _exit_of(served) == 2
    assert "without --allowed-host" in served.log() and "DNS rebinding" in served.log()


@pytest.mark.parametrize(("flags", "message"), [
    (("--tokens-file", "{tmp}/missing.yaml"), "tokens file"),
    (("--tokens-file", "{tmp}/broken.yaml"), "64 hex characters"),
    (("--jwt-secret", "s", "--jwt-jwks-url", "http://127.0.0.1:9/jwks"), "not both"),
    (("--max-body-bytes", "0"), "bad configuration"),
])
def test_bad_settings_exit_2_with_a_message(serve, tmp_path, flags, message):
    (tmp_path / "broken.yaml").write_text("tokens:\n  - {sha256: abc, subject: x}\n")
    served = serve(*(f.format(tmp=tmp_path) for f in flags), wait=False)
    assert _exit_of(served) == 2
    assert message in served.log()


def test_a_busy_port_exits_2(serve):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        served = serve("--port", str(taken.getsockname()[1]), wait=False)
        assert _exit_of(served) == 2
        assert "cannot bind" in served.log()


def test_the_execution_limit_answers_429(serve):
    served = serve("--max-concurrent", "1")
    with served.client() as client:
        first = client.post("/api/executions", json={"playbook": "slow", "wait": False})
        assert first.status_code == 202
        second = client.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "x"}})
        assert second.status_code == 429 and second.headers["retry-after"] == "1"
        envelope = second.json()
        assert envelope["error"]["code"] == "TOO_MANY_EXECUTIONS" and envelope["error"]["retryable"] is True
        assert client.get("/readyz").json()["running"] == 1
        client.post(f"/api/executions/{first.json()['execution_id']}/cancel")
        assert client.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "x"}}).status_code == 200


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_shutdown_cancels_running_executions_and_records_them(serve, sig):
    served = serve()
    with served.client() as client:
        started = client.post("/api/executions", json={"playbook": "slow", "wait": False}).json()
        waiting = client.post("/api/executions", json={"playbook": "slow", "wait_timeout": 0.2}).json()
        assert started["status"] == waiting["status"] == "running"
    assert served.stop(sig) == 0
    with sqlite3.connect(served.db) as db:
        rows = dict(db.execute("SELECT id, status FROM executions"))
    assert rows == {started["execution_id"]: "cancelled", waiting["execution_id"]: "cancelled"}
    assert "Traceback" not in served.log()


def test_a_waiting_request_is_answered_when_the_server_stops(serve):
    """A REST call waiting on a run gets the cancelled envelope, not a dropped connection."""
    served = serve()
    answers: list[dict] = []

    def call() -> None:
        with served.client() as client:
            answers.append(client.post("/api/executions", json={"playbook": "slow"}).json())

    caller = threading.Thread(target=call)
    caller.start()
    with served.client() as client:
        wait_for(lambda: client.get("/readyz").json()["running"] == 1)
    assert served.stop() == 0
    caller.join(timeout=30)
    assert answers and answers[0]["status"] == "error" and answers[0]["error"]["code"] == "CANCELLED"
