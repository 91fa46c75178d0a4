"""`shell`: output captured, values shell-quoted so caller arguments never become commands, non-zero
exits and timeouts as envelopes, the whole process group killed, the hub's environment not passed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.kinds.kinds_support import run

HOSTILE = [
    "; touch {m}",
    "$(touch {m})",
    "`touch {m}`",
    "'; touch {m}; echo '",
    '"; touch {m}; echo "',
    "\ntouch {m}\n",
    "a' \"$(touch {m})\" '",
    "| touch {m} &",
]


async def test_captures_stdout_stderr_and_exit_code(hub, write_playbook):
    write_playbook("sh", """
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {name: sh, path: kinds/sh}
        workload: {who: world}
        workflow:
          - step: say
            tool:
              kind: shell
              cmds:
                - "echo hello {{ workload.who }}; echo warn >&2"
                - "printf '%s' done"
        """)
    envelope = await run(hub, "sh")
    assert envelope.status == "ok", envelope
    data = envelope.data
    assert data["returncode"] == 0
    assert data["stdout"] == "hello world\ndone"
    assert data["stderr"] == "warn\n"
    assert [c["returncode"] for c in data["commands"]] == [0, 0]


@pytest.mark.parametrize("where", ["bare", "single", "double"])
async def test_hostile_arguments_stay_one_literal_word(hub, write_playbook, tmp_path, where):
    marker = tmp_path / "pwned"
    spot = {"bare": "{{ workload.v }}", "single": "'<{{ workload.v }}>'", "double": '"<{{ workload.v }}>"'}[where]
    write_playbook("echo", f"""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {{name: echo}}
        workload: {{v: x}}
        workflow:
          - step: say
            tool:
              kind: shell
              cmds: [{json.dumps('printf "%s|" ' + spot)}]
        """)
    for payload in (p.format(m=marker) for p in HOSTILE):
        envelope = await run(hub, "echo", {"v": payload})
        assert envelope.status == "ok", (payload, envelope)
        expected = payload if where == "bare" else f"<{payload}>"
        assert envelope.data["stdout"] == expected + "|", payload
        assert not marker.exists(), f"{payload!r} ran a command"


async def test_non_zero_exit_fails_with_output_and_stops(hub, write_playbook, tmp_path):
    after = tmp_path / "after"
    write_playbook("fail", f"""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {{name: fail}}
        workflow:
          - step: s
            tool:
              kind: shell
              cmds: ["echo partial; echo broken >&2; exit 3", "touch {after}"]
        """)
    envelope = await run(hub, "fail")
    assert envelope.status == "error"
    error = envelope.error
    assert (error.kind, error.code, error.retryable) == ("agent.execution", "SHELL_COMMAND_FAILED", False)
    assert "exited with status 3" in error.message and "broken" in error.message
    assert error.details["returncode"] == 3
    assert not after.exists()


def _gone(pid: int) -> bool:
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("by", ["timeout_seconds", "step_timeout"])
async def test_timeout_kills_the_whole_process_group(hub, write_playbook, tmp_path, by):
    pidfile = tmp_path / "child.pid"
    own = "timeout_seconds: 0.5" if by == "timeout_seconds" else "timeout_seconds: 60"
    step_timeout = "timeout: 0.5" if by == "step_timeout" else ""
    write_playbook("slow", f"""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {{name: slow}}
        workflow:
          - step: s
            {step_timeout}
            tool:
              kind: shell
              {own}
              cmds: ["sleep 30 & echo $! > {pidfile}; wait"]
        """)
    envelope = await run(hub, "slow")
    assert envelope.status == "error"
    expected = "SHELL_TIMEOUT" if by == "timeout_seconds" else "STEP_TIMEOUT"
    assert (envelope.error.kind, envelope.error.code) == ("agent.timeout", expected)
    pid = int(pidfile.read_text().strip())
    assert _gone(pid), "the background child outlived its step"


async def test_only_declared_environment_reaches_the_process(hub, write_playbook, monkeypatch):
    monkeypatch.setenv("HUB_PRIVATE_TOKEN", "do-not-leak-123")
    write_playbook("env", """
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {name: env}
        workload: {greeting: hi}
        workflow:
          - step: s
            tool:
              kind: shell
              env: {GREETING: "{{ workload.greeting }}"}
              cmds: ['echo "${HUB_PRIVATE_TOKEN:-unset} $GREETING"']
        """)
    envelope = await run(hub, "env")
    assert envelope.data["stdout"] == "unset hi\n"


async def test_value_in_a_comment_is_refused(hub, write_playbook, tmp_path):
    write_playbook("comment", """
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {name: comment}
        workload: {v: x}
        workflow:
          - step: s
            tool:
              kind: shell
              cmds: ["echo ok # note {{ workload.v }}"]
        """)
    envelope = await run(hub, "comment", {"v": "\ntouch " + str(tmp_path / "pwned")})
    assert envelope.error.code == "STEP_CONFIG_INVALID"
    assert "comment" in envelope.error.message
    assert not (tmp_path / "pwned").exists()
