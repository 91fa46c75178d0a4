"""Builds the troubleshoot evaluation corpus: labelled failure signals, most from real runs.

Each real case is a small playbook really run through the hub's engine against a loopback HTTP
server (statuses, slow answers, HTML where JSON was promised, an endpoint echoing the bearer
token), closed ports, an unresolvable host, Python steps raising, templates that do not render,
missing keychain entries and packages, sub-runs, cancels, the deadline, the hub's own limits and a
dead process found by recovery. The signal is extracted from the store exactly as the hook does
(`troubleshoot.signal.collect_signal`). The label is the category the failure was built to be,
decided here by the scenario's author, never by the rule tier.

A few failures are impractical to cause here (agent frameworks talking to cloud APIs, a full disk,
a locked database, a TLS error); those are recorded signals, written out below, marked
`origin: recorded`.

Run: `.venv/bin/python tests/troubleshoot/corpus_build.py [OUT]` (default:
troubleshoot/corpus/failures.jsonl). The output is committed; tests/troubleshoot/test_corpus.py
checks it is well formed and that a fresh build reproduces its cases.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import os
import socket
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from hub.app import Hub  # noqa: E402
from hub.config import HubConfig  # noqa: E402
from hub.contract.records import ExecutionRecord, ExecutionStatus  # noqa: E402
from troubleshoot.redaction import Scrubber  # noqa: E402
from troubleshoot.signal import FailureSignal, collect_signal  # noqa: E402

DEFAULT_OUT = REPO / "troubleshoot" / "corpus" / "failures.jsonl"
TOKEN_ENV = "CORPUS_API_TOKEN"
TOKEN = "sk-corpus-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"  # a keychain value: must never appear in the corpus

_BODIES: dict[int, tuple[str, Any]] = {
    400: ("application/json", {"error": "invalid_request", "message": "'limit' must be <= 100"}),
    401: ("application/json", {"error": "invalid_token", "error_description": "The access token expired"}),
    403: ("application/json", {"message": "Forbidden: the token lacks scope repo:write"}),
    404: ("application/json", {"detail": "Not Found"}),
    405: ("application/json", {"detail": "Method Not Allowed"}),
    408: ("text/plain", "Request Timeout"),
    409: ("application/json", {"error": "conflict", "message": "order 17 was already submitted"}),
    422: ("application/json", {"detail": [{"loc": ["body", "email"], "msg": "field required"}]}),
    429: ("application/json", {"error": "rate_limited", "message": "Too many requests, slow down"}),
    500: ("application/json", {"error": "internal", "message": "unexpected error"}),
    502: ("text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"),
    503: ("application/json", {"error": "service unavailable", "retry_after": 30}),
    504: ("text/html", "<html><body>504 Gateway Time-out</body></html>"),
}


class FailingServer:
    """A loopback HTTP server whose routes fail on purpose."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                headers: dict[str, str] = {}
                if path.startswith("/status/"):
                    status = int(path.rsplit("/", 1)[1])
                    ctype, body = _BODIES.get(status, ("text/plain", "error"))
                    if status == 429:
                        headers["retry-after"] = "0"
                elif path == "/slow":
                    time.sleep(2.0)
                    status, ctype, body = 200, "application/json", {"ok": True}
                elif path == "/html":
                    status, ctype, body = 200, "text/html", "<html><body>Maintenance page</body></html>"
                elif path == "/echo-auth":  # a badly behaved API that echoes the credential it refused
                    status, ctype = 401, "application/json"
                    body = {"error": "invalid credentials", "received_authorization": self.headers.get("authorization")}
                else:
                    status, ctype, body = 404, "application/json", {"detail": "Not Found"}
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", ctype)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- playbook snippets --------------------------------------------------------------------------


def _playbook(name: str, steps: str, *, extra: str = "") -> str:
    head = f"apiVersion: agenthub/v1\nkind: Playbook\nmetadata: {{name: {name}}}\n"
    if extra:
        head += textwrap.dedent(extra).strip() + "\n"
    return head + "workflow:\n" + textwrap.indent(textwrap.dedent(steps).strip(), "  ") + "\n"


def _http(name: str, url: str, *, method: str = "GET", attempts: int = 1, timeout: float | None = None,
          response: str | None = None, headers: str | None = None, extra: str = "") -> str:
    lines = ["- step: call", "  tool:", "    kind: http", f"    method: {method}", f"    url: \"{url}\""]
    if timeout is not None:
        lines.append(f"    timeout: {timeout}")
    if response:
        lines.append(f"    response: {response}")
    if headers:
        lines.append(f"    headers: {headers}")
    lines.append(f"  retry: {{attempts: {attempts}, backoff: 0.01}}")
    return _playbook(name, "\n".join(lines), extra=extra)


def _py(name: str, code: str, *, timeout: float | None = None, extra: str = "", input_: str | None = None) -> str:
    body = textwrap.indent(textwrap.dedent(code).strip(), "        ")
    lines = ["- step: work", "  tool:", "    kind: python", "    code: |", body]
    if timeout is not None:
        lines.append(f"  timeout: {timeout}")
    if input_:
        lines.append(f"  input: {input_}")
    return _playbook(name, "\n".join(lines), extra=extra)


def _sub(name: str, child: str) -> str:
    return _playbook(name, f"""
        - step: delegate
          tool: {{kind: playbook, path: {child}}}
    """)


# --- the cases ----------------------------------------------------------------------------------

Run = Callable[[Hub], Awaitable[str]]
"""Runs one scenario on the hub and gives the failed execution's id."""


class Builder:
    def __init__(self, root: Path, server: FailingServer) -> None:
        self.root = root
        self.catalog = root / "catalog"
        self.catalog.mkdir()
        self.modules = root / "modules"
        self.modules.mkdir()
        self.server = server
        self.cases: list[tuple[str, str, str, Run]] = []  # (id, label, note, run)

    def playbook(self, name: str, text: str) -> None:
        (self.catalog / f"{name}.yaml").write_text(text.lstrip(), encoding="utf-8")

    def case(self, label: str, slug: str, note: str, text: str | None = None, *,
             args: dict[str, Any] | None = None, run: Run | None = None) -> None:
        name = f"{label}_{slug}".replace("-", "_")
        if text is not None:
            self.playbook(name, text)

        async def default(hub: Hub) -> str:
            return (await hub.engine.run(name, args or {})).execution_id

        self.cases.append((f"{label}/{slug}", label, note, run or default))

    def define(self) -> None:
        """Every scenario, by category (one long list reads best as one list)."""
        u, closed = self.server.url, f"http://127.0.0.1:{_closed_port()}"

        def status(code: int) -> str:
            return f"{u}/status/{code}"

        def httpx_call(url: str, *, timeout: float = 5) -> str:
            return f"""
                import httpx
                def main():
                    response = httpx.get("{url}", timeout={timeout})
                    response.raise_for_status()
                    return response.json()
            """

        # transient_5xx
        self.case("transient_5xx", "http-500", "GET answers 500", _http("t500", status(500)))
        self.case("transient_5xx", "http-502", "GET answers 502 (HTML body)", _http("t502", status(502)))
        self.case("transient_5xx", "http-503-retried", "503 twice, retries exhausted", _http("t503", status(503), attempts=2))
        self.case("transient_5xx", "http-504", "gateway timeout from a proxy", _http("t504", status(504)))
        self.playbook("child_503", _http("child_503", status(503)))
        self.case("transient_5xx", "subrun-503", "a sub-run's GET answers 503", _sub("p503", "child_503"))
        self.case("transient_5xx", "python-httpx-503", "Python step, httpx raise_for_status on 503", _py("py503", httpx_call(status(503))))
        self.case("transient_5xx", "python-bad-gateway-text", "Python step raises with the upstream's 502 in prose",
                  _py("pybg", 'def main():\n    raise RuntimeError("upstream returned 502 Bad Gateway while fetching quotes")'))

        # auth
        self.case("auth", "http-401", "expired access token", _http("a401", status(401)))
        self.case("auth", "http-403", "token lacks a scope", _http("a403", status(403), method="POST"))
        self.case("auth", "echoed-bearer", "401 whose body echoes the keychain bearer token", _http(
            "aecho", f"{u}/echo-auth", headers='{authorization: "Bearer {{ keychain.api_token }}"}',
            extra=f"keychain:\n  - {{name: api_token, env: {TOKEN_ENV}}}"))
        self.case("auth", "python-httpx-401", "Python step, httpx raise_for_status on 401", _py("py401", httpx_call(status(401))))
        self.case("auth", "python-invalid-key", "SDK-style exception text about the API key",
                  _py("pykey", 'def main():\n    raise ValueError("Invalid API key provided: sk-live-ABCDEFGH1234567890abcdEFGH. You can find your key in the dashboard")'))
        self.playbook("child_401", _http("child_401", status(401)))
        self.case("auth", "subrun-401", "a sub-run is refused with 401", _sub("p401", "child_401"))

        # rate_limit
        self.case("rate_limit", "http-429", "429 once, no retries", _http("r429", status(429)))
        self.case("rate_limit", "http-429-retried", "429 with Retry-After, retries exhausted", _http("r429b", status(429), attempts=3))
        self.case("rate_limit", "python-httpx-429", "Python step, httpx raise_for_status on 429", _py("py429", httpx_call(status(429))))
        self.case("rate_limit", "python-quota-text", "Python step raises a quota message",
                  _py("pyquota", 'def main():\n    raise RuntimeError("rate limit exceeded for model gpt-x: 40000 tokens per minute, slow down")'))

        # bad_request
        self.case("bad_request", "http-400", "invalid parameter", _http("b400", status(400)))
        self.case("bad_request", "http-404", "wrong path", _http("b404", f"{u}/v2/no/such/resource"))
        self.case("bad_request", "http-405", "wrong method", _http("b405", status(405), method="DELETE"))
        self.case("bad_request", "http-409", "conflict on submit", _http("b409", status(409), method="PUT"))
        self.case("bad_request", "http-422", "payload misses a field", _http("b422", status(422), method="POST"))
        self.case("bad_request", "python-httpx-404", "Python step, httpx raise_for_status on 404", _py("py404", httpx_call(status(404))))

        # timeout
        self.case("timeout", "http-client-timeout", "HTTP client read timeout", _http("thttp", f"{u}/slow", timeout=0.3))
        self.case("timeout", "step-timeout", "Python step over its step timeout",
                  _py("tstep", "import time\ndef main():\n    time.sleep(3)", timeout=0.3))
        self.case("timeout", "deadline", "playbook deadline while a step sleeps",
                  _py("tdead", "import time\ndef main():\n    time.sleep(3)", extra="timeout: 0.4"))
        self.case("timeout", "python-timeouterror", "Python step raises TimeoutError",
                  _py("tpyto", 'def main():\n    raise TimeoutError("timed out waiting for the report to be generated")'))
        self.case("timeout", "http-408", "server says request timeout", _http("t408", status(408)))
        self.case("timeout", "python-httpx-readtimeout", "Python step, httpx ReadTimeout",
                  _py("tpyrt", httpx_call(f"{u}/slow", timeout=0.2)))
        self.playbook("child_slow", _py("child_slow", "import time\ndef main():\n    time.sleep(3)"))
        self.case("timeout", "subrun-deadline", "parent deadline runs out in a sub-run",
                  _playbook("tsub", "- step: delegate\n  tool: {kind: playbook, path: child_slow}", extra="timeout: 0.4"))

        # infra
        self.case("infra", "connection-refused", "nothing listens on the port", _http("iref", f"{closed}/status"))
        self.case("infra", "dns", "host name does not resolve", _http("idns", "http://no-such-host.invalid/api"))
        self.case("infra", "python-socket-refused", "Python step connects to a closed port",
                  _py("ipysock", f"import socket\ndef main():\n    socket.create_connection(('127.0.0.1', {_closed_port()}), timeout=2)"))
        self.case("infra", "python-memoryerror", "Python step runs out of memory",
                  _py("ipymem", 'def main():\n    raise MemoryError("cannot allocate 8589934592 bytes for the frame")'))
        self.case("infra", "python-too-many-files", "Python step hits the open-files limit",
                  _py("ipyfiles", 'def main():\n    raise OSError(24, "Too many open files")'))
        self.case("infra", "python-conn-closed", "Python step: peer closed the connection (ConnectionError)",
                  _py("ipyclosed", 'def main():\n    raise ConnectionError("upstream closed the stream before the response was complete")'))
        self.playbook("slow_for_capacity", _py("slow_for_capacity", "import time\ndef main():\n    time.sleep(1.0)"))
        self.case("infra", "hub-capacity", "the hub is at its concurrent-execution limit", run=self._capacity)
        self.case("infra", "process-died", "the hub process died mid-run, found by recovery", run=self._process_died)

        # configuration
        self.case("configuration", "template-undefined", "a template names an undefined variable",
                  _playbook("cundef", "- step: greet\n  tool: {kind: noop}\n  input: {text: \"{{ customer.name }}\"}"))
        self.case("configuration", "template-unsafe", "a template reaches for __class__",
                  _playbook("cunsafe", "- step: greet\n  tool: {kind: noop}\n  input: {text: \"{{ ''.__class__.__mro__ }}\"}"))
        self.case("configuration", "keychain-missing", "a required keychain variable is not set",
                  _http("ckey", status(200), headers='{authorization: "Bearer {{ keychain.token }}"}',
                        extra="keychain:\n  - {name: token, env: CORPUS_UNSET_TOKEN_VARIABLE}"))
        self.case("configuration", "entrypoint-missing", "python function's module does not exist",
                  _playbook("centry", "- step: work\n  tool: {kind: python, function: 'corpus_no_such_module:main'}"))
        self.case("configuration", "signature-mismatch", "step input does not fit the function",
                  _py("csig", "def main(order_id):\n    return order_id", input_="{orderId: 17}"))
        self.case("configuration", "loop-not-list", "loop.in renders to a string",
                  _playbook("cloop", "- step: each\n  tool: {kind: noop}\n  loop: {in: \"{{ 'abc' }}\"}"))
        self.playbook("crecurse", _playbook("crecurse", "- step: again\n  tool: {kind: playbook, path: crecurse}"))
        self.case("configuration", "depth-limit", "a playbook that calls itself", run=self._named("crecurse"))
        self.case("configuration", "step-limit", "an arc cycle that never ends", _playbook("ccycle", """
            - step: ping
              tool: {kind: noop}
              next: pong
            - step: pong
              tool: {kind: noop}
              next: ping
        """), run=self._step_limit)
        self.case("configuration", "subrun-missing-playbook", "a sub-run names a playbook that is not in the catalog",
                  _sub("cmissing", "no/such/playbook"))
        self.case("configuration", "http-bad-scheme", "URL with an unsupported scheme", _http("cscheme", "ftp://example.org/file"))

        # dependency
        (self.modules / "corpus_dep_mod.py").write_text("import corpus_definitely_not_installed_pkg\n\ndef main():\n    return 1\n")
        self.case("dependency", "module-dependency-missing", "the step's module imports a package that is not installed",
                  _playbook("dmod", "- step: work\n  tool: {kind: python, function: 'corpus_dep_mod:main'}"))
        self.case("dependency", "inline-import", "inline code imports a missing package",
                  _py("dinline", "def main():\n    import langchain_corpus_missing\n    return langchain_corpus_missing.run()"))
        self.case("dependency", "inline-importerror", "inline code imports a name that does not exist",
                  _py("dname", "def main():\n    from json import fast_loads\n    return fast_loads('{}')"))

        # input_validation
        self.playbook("vorder", _playbook("vorder", "- step: echo\n  tool: {kind: noop}\n  input: {id: \"{{ input.order_id }}\"}",
                                          extra="input:\n  order_id: {type: integer}\n  priority: {type: string, enum: [low, high], default: low}"))
        self.case("input_validation", "missing-argument", "a required argument is missing", run=self._named("vorder", {}))
        self.case("input_validation", "wrong-type", "an argument has the wrong type", run=self._named("vorder", {"order_id": "seventeen"}))
        self.case("input_validation", "enum", "an argument is not one of the allowed values",
                  run=self._named("vorder", {"order_id": 1, "priority": "urgent"}))
        self.case("input_validation", "pydantic", "the step's code validates its input with pydantic", _py("vpyd", """
            from pydantic import BaseModel
            class Order(BaseModel):
                id: int
                email: str
            def main(order):
                return Order.model_validate(order).model_dump()
        """, input_='{order: {id: "x17"}}'))
        self.case("input_validation", "jsonschema", "the step's code checks its input with jsonschema", _py("vjs", """
            import jsonschema
            def main(payload):
                jsonschema.validate(payload, {"type": "object", "required": ["query"], "properties": {"query": {"type": "string"}}})
                return payload
        """, input_="{payload: {q: 1}}"))

        # tool_error
        self.case("tool_error", "keyerror", "KeyError on a missing field", _py("ekey", 'def main():\n    data = {"items": []}\n    return data["total"]'))
        self.case("tool_error", "zerodivision", "average of an empty list", _py("ezero", "def main():\n    xs = []\n    return sum(xs) / len(xs)"))
        self.case("tool_error", "typeerror", "str + int", _py("etype", 'def main():\n    return "total: " + 17'))
        self.case("tool_error", "attributeerror", "None has no attribute", _py("eattr", "def main():\n    user = None\n    return user.email"))
        self.case("tool_error", "indexerror", "first of an empty list", _py("eidx", "def main():\n    rows = []\n    return rows[0]"))
        self.case("tool_error", "assertion", "an internal assertion fails", _py("eassert", 'def main():\n    total = -3\n    assert total >= 0, "negative total"\n    return total'))
        self.case("tool_error", "valueerror-parse", "parsing a malformed number", _py("eparse", 'def main():\n    return int("12,5")'))
        self.case("tool_error", "output-invalid", "the result breaks the declared output schema",
                  _playbook("eout", "- step: make\n  tool: {kind: noop}\n  input: {count: \"seven\"}",
                            extra="output:\n  type: object\n  required: [count]\n  properties:\n    count: {type: integer}"))
        self.case("tool_error", "response-not-json", "an endpoint returns HTML where JSON was promised",
                  _http("ehtml", f"{u}/html", response="json"))

        # cancelled
        self.playbook("sleepy", _py("sleepy", "import time\ndef main():\n    time.sleep(3)"))
        self.case("cancelled", "engine-cancel", "cancelled while a Python step sleeps", run=self._cancel("sleepy"))
        self.playbook("sleepy_parent", _sub("sleepy_parent", "sleepy"))
        self.case("cancelled", "cancel-parent", "the parent is cancelled while its sub-run runs", run=self._cancel("sleepy_parent"))
        self.playbook("slow_http", _http("slow_http", f"{u}/slow"))
        self.case("cancelled", "cancel-during-http", "cancelled during a slow HTTP request", run=self._cancel("slow_http"))
        self.case("cancelled", "cancel-flag", "cancelled through the store's flag (agenthub cancel)", run=self._cancel("sleepy", via_store=True))

    # --- scenario runners -------------------------------------------------------------------------

    @staticmethod
    def _named(name: str, args: dict[str, Any] | None = None) -> Run:
        async def run(hub: Hub) -> str:
            return (await hub.engine.run(name, args or {})).execution_id
        return run

    @staticmethod
    async def _capacity(hub: Hub) -> str:
        hub.engine.settings.max_concurrent = 1
        try:
            first = await hub.engine.start("slow_for_capacity")
            refused = await hub.engine.run("slow_for_capacity")
            await first.task
        finally:
            hub.engine.settings.max_concurrent = None
        return refused.execution_id

    @staticmethod
    async def _step_limit(hub: Hub) -> str:
        before = hub.engine.settings.max_activations
        hub.engine.settings.max_activations = 40
        try:
            return (await hub.engine.run("configuration_step_limit", {})).execution_id
        finally:
            hub.engine.settings.max_activations = before

    @staticmethod
    async def _process_died(hub: Hub) -> str:
        record = ExecutionRecord(
            id=hub.engine._ids.new(), playbook_path="reports/nightly_export", playbook_name="nightly_export",
            playbook_version=3, status=ExecutionStatus.RUNNING, created_at=time.time() - 42,
            owner=f"{socket.gethostname()}:999999:0",  # a pid that does not exist: the owner is dead
        )
        await hub.store.create(record)
        recovered = await hub.store.recover()
        assert record.id in recovered, recovered
        return record.id

    @staticmethod
    def _cancel(name: str, *, via_store: bool = False) -> Run:
        async def run(hub: Hub) -> str:
            handle = await hub.engine.start(name)
            await asyncio.sleep(0.3)
            if via_store:
                await hub.store.request_cancel(handle.execution_id)
            else:
                await hub.engine.cancel(handle.execution_id)
            await asyncio.wait([handle.task])
            return handle.execution_id
        return run

    async def run_all(self) -> list[dict[str, Any]]:
        config = HubConfig(catalog=self.catalog, db=self.root / "corpus.db", max_concurrent=None)
        out: list[dict[str, Any]] = []
        async with Hub(config) as hub:
            hub.engine.failure_hooks = []  # the corpus records failures; it does not diagnose them
            if hub.problems:
                raise SystemExit("corpus playbooks do not load:\n" + "\n".join(map(str, hub.problems)))
            for case_id, label, note, run in self.cases:
                execution_id = await run(hub)
                await hub.store.flush()
                record = await hub.store.get(execution_id)
                assert record is not None and record.envelope and record.envelope.get("error"), (case_id, record)
                signal = await collect_signal(hub.store, record, scrubber=Scrubber([TOKEN]))
                out.append({"id": case_id, "category": label, "origin": "run", "note": note,
                            "signal": _stable(signal, case_id, self.root)})
        return out


_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b")


def _stable(signal: FailureSignal, case_id: str, root: Path) -> dict[str, Any]:
    """The signal as JSON with what changes from build to build replaced, so a rebuild gives the
    same bytes: loopback ports, execution ids (renumbered per case), the temporary directory and
    the interpreter's paths."""
    text = json.dumps(signal.model_dump(mode="json", exclude_none=True, exclude_defaults=True))
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"'127\.0\.0\.1', \d+", "'127.0.0.1', PORT", text)
    text = re.sub(r"<inline python step [0-9a-f]+>", "<inline python step>", text)
    seen: dict[str, str] = {}
    digest = hashlib.sha256(case_id.encode()).hexdigest()[:12]

    def renumber(match: re.Match[str]) -> str:
        return seen.setdefault(match.group(0), f"0190c0de-{len(seen) + 1:04d}-7000-8000-{digest}")

    text = _UUID.sub(renumber, text)
    for path, name in ((str(root), "/tmp/agenthub-corpus"), (sys.prefix, "/venv"), (str(REPO), "/repo"),
                       (sys.base_prefix, "/python")):
        text = text.replace(json.dumps(path)[1:-1], name)
    return json.loads(text)


# --- recorded signals (failures impractical to cause here) ---------------------------------------


def _recorded(case_id: str, label: str, note: str, **signal: Any) -> dict[str, Any]:
    digest = hashlib.sha256(case_id.encode()).hexdigest()
    base = {"execution_id": f"0190c0de-0000-7000-8000-{digest[:12]}", "status": "failed",
            "error_kind": "agent.execution", "retryable": False}
    base.update(signal)
    return {"id": case_id, "category": label, "origin": "recorded", "note": note,
            "signal": FailureSignal.model_validate(base).model_dump(mode="json", exclude_none=True, exclude_defaults=True)}


RECORDED: list[dict[str, Any]] = [
    _recorded("transient_5xx/langchain-openai-500", "transient_5xx", "LangChain agent, OpenAI 500",
              playbook="agents/support_triage", failed_step="triage", tool_kind="agent", framework="langchain",
              error_code="AGENT_ERROR", exception_type="openai.InternalServerError",
              error_message="openai.InternalServerError: Error code: 500 - {'error': {'message': 'The server had an error while processing your request. Sorry about that!', 'type': 'server_error'}}"),
    _recorded("transient_5xx/anthropic-overloaded", "transient_5xx", "custom agent, Anthropic 529 overloaded",
              playbook="agents/summarise", failed_step="summarise", tool_kind="agent", framework="custom",
              error_code="AGENT_ERROR", exception_type="anthropic.InternalServerError",
              error_message="anthropic.InternalServerError: Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error', 'message': 'Overloaded'}}"),
    _recorded("auth/adk-permission-denied", "auth", "ADK agent, Gemini 403",
              playbook="agents/research", failed_step="research", tool_kind="agent", framework="adk",
              error_code="AGENT_ERROR", exception_type="google.genai.errors.ClientError",
              error_message="403 PERMISSION_DENIED. {'error': {'code': 403, 'message': 'Permission denied on resource project demo-project.', 'status': 'PERMISSION_DENIED'}}"),
    _recorded("rate_limit/langchain-openai-quota", "rate_limit", "LangChain agent, OpenAI quota",
              playbook="agents/support_triage", failed_step="triage", tool_kind="agent", framework="langchain",
              error_code="AGENT_ERROR", exception_type="openai.RateLimitError", retryable=True,
              error_message="openai.RateLimitError: Error code: 429 - {'error': {'message': 'You exceeded your current quota, please check your plan and billing details.', 'type': 'insufficient_quota'}}"),
    _recorded("bad_request/openai-context-length", "bad_request", "OpenAI 400 context length",
              playbook="agents/summarise", failed_step="summarise", tool_kind="agent", framework="langchain",
              error_code="AGENT_ERROR", exception_type="openai.BadRequestError",
              error_message="openai.BadRequestError: Error code: 400 - {'error': {'message': \"This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens.\", 'code': 'context_length_exceeded'}}"),
    _recorded("infra/disk-full", "infra", "export step, disk full",
              playbook="reports/nightly_export", failed_step="write_csv", tool_kind="python", framework="python",
              error_code="PYTHON_ERROR", exception_type="OSError",
              error_message="OSError: [Errno 28] No space left on device: '/var/lib/exports/2026-05-01.csv'",
              traceback_tail=['  File "/srv/exports/writer.py", line 41, in write_rows', "    handle.write(line)", "OSError: [Errno 28] No space left on device: '/var/lib/exports/2026-05-01.csv'"]),
    _recorded("infra/database-locked", "infra", "sqlite locked by another writer",
              playbook="ops/compact", failed_step="vacuum", tool_kind="python", framework="python",
              error_code="PYTHON_ERROR", exception_type="sqlite3.OperationalError",
              error_message="OperationalError: database is locked"),
    _recorded("infra/tls-verify", "infra", "TLS certificate verification failed",
              playbook="integrations/crm_sync", failed_step="pull", tool_kind="http", framework="http",
              error_code="HTTP_CONNECTION_ERROR", retryable=True,
              error_message="GET https://crm.internal.example/api/contacts: ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)"),
    _recorded("infra/mcp-server-down", "infra", "the remote MCP server is not running",
              playbook="integrations/search", failed_step="search", tool_kind="mcp", framework="mcp",
              error_code="MCP_CONNECTION_ERROR", retryable=True,
              error_message="MCP server 'search' at http://search-mcp.internal:8931/mcp: ConnectError: All connection attempts failed"),
    _recorded("timeout/mcp-tool-slow", "timeout", "a remote MCP tool does not answer in time",
              playbook="integrations/search", failed_step="search", tool_kind="mcp", framework="mcp",
              error_kind="agent.timeout", error_code="MCP_TIMEOUT", retryable=True,
              error_message="tool 'web_search' on MCP server 'search' did not answer within 30s"),
    _recorded("dependency/adk-not-installed", "dependency", "agent framework not installed",
              playbook="agents/research", failed_step="research", tool_kind="agent", framework="adk",
              error_kind="agent.dependency", error_code="FRAMEWORK_NOT_INSTALLED",
              error_message="framework 'adk' needs the package google-adk, which is not installed (pip install google-adk)"),
    _recorded("dependency/tiktoken", "dependency", "LangChain asks for tiktoken",
              playbook="agents/summarise", failed_step="count_tokens", tool_kind="agent", framework="langchain",
              error_code="AGENT_ERROR", exception_type="ImportError",
              error_message="ImportError: Could not import tiktoken python package. This is needed in order to calculate get_num_tokens. Please install it with `pip install tiktoken`."),
    _recorded("input_validation/mcp-tool-arguments", "input_validation", "a remote MCP tool rejects the arguments",
              playbook="integrations/search", failed_step="search", tool_kind="mcp", framework="mcp",
              error_code="MCP_TOOL_ERROR",
              error_message="tool 'web_search' answered isError: Input validation error: 'query' is a required property"),
    _recorded("tool_error/langchain-output-parser", "tool_error", "LangChain cannot parse the LLM output",
              playbook="agents/extract", failed_step="extract", tool_kind="agent", framework="langchain",
              error_code="AGENT_ERROR", exception_type="langchain_core.exceptions.OutputParserException",
              error_message="OutputParserException: Could not parse LLM output: `I think the answer is probably 42`"),
    _recorded("unknown/agent-opaque", "unknown", "an agent reports failure with no detail",
              playbook="agents/planner", failed_step="plan", tool_kind="agent", framework="custom",
              error_code="AGENT_ERROR", error_message="agent returned status error"),
    _recorded("unknown/exit-status", "unknown", "a wrapped tool exits non-zero, no output",
              playbook="ops/backup", failed_step="run_backup", tool_kind="agent", framework="custom",
              error_code="AGENT_ERROR", error_message="command failed: exit status 1"),
    _recorded("unknown/child-gone", "unknown", "a sub-run failed but its record was pruned",
              playbook="flows/onboarding", failed_step="provision", tool_kind="playbook", framework="playbook",
              error_code="PLAYBOOK_FAILED", error_message="sub-run provisioning/create_account failed"),
    _recorded("unknown/empty-message", "unknown", "an error with no message at all",
              playbook="flows/nightly", failed_step="finalize", tool_kind="agent", framework="custom",
              error_code="AGENT_ERROR", error_message=""),
    _recorded("cancelled/client-disconnected", "cancelled", "the MCP client went away mid-call",
              playbook="agents/research", failed_step="research", tool_kind="agent", framework="adk",
              status="cancelled", error_kind="agent.cancelled", error_code="CANCELLED",
              error_message="the execution was cancelled"),
]


async def build(out: Path = DEFAULT_OUT) -> list[dict[str, Any]]:
    """Run every scenario, add the recorded signals, write JSON lines to `out`."""
    server = FailingServer()
    os.environ[TOKEN_ENV] = TOKEN
    os.environ.pop("CORPUS_UNSET_TOKEN_VARIABLE", None)
    try:
        with tempfile.TemporaryDirectory(prefix="agenthub-corpus-") as tmp:
            builder = Builder(Path(tmp), server)
            sys.path.insert(0, str(builder.modules))
            try:
                builder.define()
                cases = await builder.run_all() + RECORDED
            finally:
                sys.path.remove(str(builder.modules))
    finally:
        server.stop()
    text = "".join(json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n" for c in cases)
    if TOKEN in text:
        raise AssertionError("the keychain token leaked into the corpus")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return cases


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else DEFAULT_OUT
    cases = asyncio.run(build(out))
    labels: dict[str, int] = {}
    for case in cases:
        labels[case["category"]] = labels.get(case["category"], 0) + 1
    print(f"wrote {len(cases)} cases to {out}: " + ", ".join(f"{k} {v}" for k, v in sorted(labels.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
