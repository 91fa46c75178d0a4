"""`tool.kind: shell`: shell commands in a subprocess, for trusted operators' playbooks only.

A `shell` step runs whatever its playbook says on the hub's machine, as the hub's user: only put
it in catalogs whose authors you trust (docs/noetl.md). What callers send stays data: every
`{{ ... }}` in `cmds` is rendered shell-quoted for the spot it stands in (bare, inside '...' or
"..."), so an MCP argument like `x; rm -rf ~` or `$(id)` is one literal word, never a command. A
value inside a comment or after a here-document (`<<`), where no quoting holds, is refused.

NoETL's fields: `cmds` (a list of programs, each run with `/bin/sh -c`; a string is one program),
`env` (the only variables the process gets, beside PATH, HOME and LANG: the hub's own environment,
which holds its secrets, is not passed on), `cwd`, `timeout_seconds` (per program). Programs run in
order and stop at the first non-zero exit (SHELL_COMMAND_FAILED, with the output as the error's
data). A program past its timeout, or a step cancelled or out of time, is killed with its whole
process group. The process runs outside the event loop; the loop only reads its pipes.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bridges.sql_text import ValueMarkers
from hub.contract.envelope import ErrorInfo, Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall
from hub.contract.templates import Templates

SHELL = "/bin/sh"
OUTPUT_LIMIT = 1_000_000
"""Characters of stdout/stderr kept per program (the rest is cut, and `truncated` set)."""
PASSED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


class ShellConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cmds: list[str] | str = Field(description="Programs for /bin/sh -c, run in order; values are shell-quoted.")
    env: dict[str, str | int | float | bool] = Field(default_factory=dict)
    cwd: str | None = None
    timeout_seconds: float = Field(default=600.0, gt=0, description="Per program, seconds.")

    @property
    def programs(self) -> list[str]:
        return [self.cmds] if isinstance(self.cmds, str) else list(self.cmds)


def _quoted(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return shlex.quote(text)


def render_program(text: str, context: Mapping[str, Any], where: str) -> str:
    """The program with every template value shell-quoted for where it stands."""
    markers = ValueMarkers()
    rendered = Templates(finalize=markers).render_text(text, context, where)
    if not markers.values:
        return rendered
    out: list[str] = []
    state, i, heredoc = "plain", 0, False
    while i < len(rendered):
        ch = rendered[i]
        if ch == "\x00":
            found = markers.find(rendered, i)
            assert found is not None
            if state == "comment" or heredoc:
                place = "a comment" if state == "comment" else "a here-document"
                raise Failure.of(ErrorCode.STEP_CONFIG_INVALID,
                                 f"{where}: a template value inside {place}, where shell quoting does not hold")
            value = _quoted(markers.values[found[0]])
            out.append({"plain": value, "single": f"'{value}'", "double": f'"{value}"'}[state])
            i = found[2]
            continue
        out.append(ch)
        if state == "plain":
            if ch == "\\" and i + 1 < len(rendered):
                out.append(rendered[i + 1])
                i += 1
            elif ch == "'":
                state = "single"
            elif ch == '"':
                state = "double"
            elif ch == "#" and (i == 0 or rendered[i - 1] in " \t\n;|&("):
                state = "comment"
            elif rendered.startswith("<<", i):
                heredoc = True
        elif state == "single" and ch == "'":
            state = "plain"
        elif state == "double":
            if ch == "\\" and i + 1 < len(rendered):
                out.append(rendered[i + 1])
                i += 1
            elif ch == '"':
                state = "plain"
        elif state == "comment" and ch == "\n":
            state = "plain"
        i += 1
    return "".join(out)


def _environment(extra: Mapping[str, Any]) -> dict[str, str]:
    env = {k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in extra.items()})
    return env


def _decode(raw: bytes) -> tuple[str, bool]:
    text = raw.decode("utf-8", errors="replace")
    return (text[:OUTPUT_LIMIT], True) if len(text) > OUTPUT_LIMIT else (text, False)


class ShellKind:
    name = "shell"
    config_model = ShellConfig
    raw_fields: frozenset[str] = frozenset({"cmds"})
    default_retry = None
    deadline_aware = False

    async def run(self, call: StepCall) -> Any:
        config = call.config
        assert isinstance(config, ShellConfig)
        programs = [
            render_program(p, call.template_context, f"{call.step}.tool.cmds[{i}]")
            for i, p in enumerate(config.programs)
        ]
        env = _environment(config.env)
        started = time.monotonic()
        commands: list[dict[str, Any]] = []
        for index, program in enumerate(programs):
            result = await _run_one(program, env, config.cwd, config.timeout_seconds, call.step, index)
            commands.append(result)
            if result["returncode"] != 0:
                data = _summary(commands, started)
                raise Failure(ErrorInfo.of(
                    ErrorCode.SHELL_COMMAND_FAILED,
                    f"{call.step}: cmds[{index}] exited with status {result['returncode']}: "
                    f"{result['stderr'].strip()[-300:] or result['stdout'].strip()[-300:]}".rstrip(": "),
                    details={"returncode": result["returncode"], "command_index": index},
                ), data=data)
        return _summary(commands, started)


def _summary(commands: list[dict[str, Any]], started: float) -> dict[str, Any]:
    return {
        "returncode": commands[-1]["returncode"] if commands else 0,
        "stdout": "".join(c["stdout"] for c in commands),
        "stderr": "".join(c["stderr"] for c in commands),
        "commands": commands,
        "duration_ms": int((time.monotonic() - started) * 1000),
    }


async def _run_one(
    program: str, env: dict[str, str], cwd: str | None, timeout: float, step: str, index: int
) -> dict[str, Any]:
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            SHELL, "-c", program, env=env, cwd=cwd, start_new_session=True,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:  # a missing cwd, mostly
        raise Failure.of(ErrorCode.STEP_CONFIG_INVALID, f"{step}: cmds[{index}] cannot start: {exc}") from None
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        await _kill(process)
        raise Failure.of(
            ErrorCode.SHELL_TIMEOUT, f"{step}: cmds[{index}] ran past its timeout_seconds ({timeout:g}s) and was killed"
        ) from None
    except asyncio.CancelledError:
        await _kill(process)
        raise
    out, out_cut = _decode(stdout)
    err, err_cut = _decode(stderr)
    result: dict[str, Any] = {
        "command": program.strip().splitlines()[0][:120] if program.strip() else "",
        "returncode": process.returncode,
        "stdout": out,
        "stderr": err,
        "duration_ms": int((time.monotonic() - started) * 1000),
    }
    if out_cut or err_cut:
        result["truncated"] = True
    return result


async def _kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL the program's whole process group (its children too), then reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        await asyncio.wait_for(process.wait(), 5)
    except (TimeoutError, asyncio.CancelledError):
        pass
