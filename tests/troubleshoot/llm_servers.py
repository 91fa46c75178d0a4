"""Loopback servers that speak the Ollama and the OpenAI HTTP APIs, scripted per test.

Real HTTP servers on 127.0.0.1 (stdlib `ThreadingHTTPServer` in a thread), driven by the official
`ollama` and `openai` client libraries, so a test covers the real request and response encoding:
Ollama's `POST /api/chat` (non-streaming, `format` = a JSON Schema) and OpenAI's
`POST /v1/chat/completions` (`response_format` = strict `json_schema`). Every request body is
recorded, parsed, so tests can assert on exactly what left the process.

A server answers from `script(...)` (one reply per request, the last one repeating) or from a
`responder(body) -> Reply` function (for the evaluation, which answers per case).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal


@dataclass
class Reply:
    """One scripted answer: a diagnosis object (`answer`), or raw `content` text, or an error
    `status` with `error` text; `delay` seconds before answering; token counts to report."""

    answer: dict[str, Any] | None = None
    content: str | None = None
    status: int = 200
    error: str = "scripted failure"
    delay: float = 0.0
    tokens: tuple[int, int] = (120, 40)


def answer(category: str, confidence: float, root_cause: str = "scripted root cause",
           action: str = "scripted action", **reply: Any) -> Reply:
    return Reply(answer={"category": category, "confidence": confidence, "root_cause": root_cause,
                         "suggested_action": action}, **reply)


class LlmServer:
    """A scripted Ollama (`kind="ollama"`) or OpenAI (`kind="openai"`) server."""

    def __init__(self, kind: Literal["ollama", "openai"]) -> None:
        self.kind = kind
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._script: list[Reply] = [Reply(status=500, error="nothing scripted")]
        self.responder: Callable[[dict[str, Any]], Reply] | None = None
        self.refuse: set[str] = set()
        """Structured-output forms this server refuses: json_schema, json_object (with or without a
        schema), json_object_schema (only the `schema` field beside json_object; OpenAI's wording)."""
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.startswith("/api/version"):
                    self._json(200, {"version": "0.6.0-loopback"})
                elif self.path.startswith("/api/tags") or self.path.startswith("/v1/models"):
                    self._json(200, {"models": [], "data": [], "object": "list"})
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                expected = "/api/chat" if server.kind == "ollama" else "/v1/chat/completions"
                if self.path.split("?")[0] != expected:
                    self._json(404, {"error": f"no route {self.path}"})
                    return
                refusal = server._refusal(body)
                if refusal is not None:
                    with server._lock:
                        server.requests.append(body)
                        server.headers.append(dict(self.headers))
                    self._json(*refusal)
                    return
                reply = server._next(body, dict(self.headers))
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    error = {"error": reply.error} if server.kind == "ollama" else {
                        "error": {"message": reply.error, "type": "server_error", "code": None}}
                    self._json(reply.status, error)
                    return
                content = reply.content if reply.content is not None else json.dumps(reply.answer)
                self._json(200, server._completion(body, content, reply.tokens))

            def _json(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self.base_url = self.url + ("/v1" if kind == "openai" else "")
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _refusal(self, body: dict[str, Any]) -> tuple[int, Any] | None:
        """The error a server that does not take this structured-output form answers with: the
        words of llama-cpp-python's server (HTTP 500) and of an older Ollama (HTTP 400)."""
        if self.kind == "openai":
            response_format = body.get("response_format") or {}
            kind = response_format.get("type", "text")
            if kind == "json_object" and "schema" in response_format and "json_object_schema" in self.refuse:
                return 400, {"error": {"message": "Unknown parameter: 'response_format.schema'.",
                                       "type": "invalid_request_error", "code": "unknown_parameter"}}
            if kind in self.refuse:
                return 500, {"error": {"message": f"[{{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                                                  f"'msg': \"Input should be 'text' or 'json_object'\", 'input': '{kind}'}}]",
                                       "type": "internal_server_error", "code": None}}
            return None
        fmt = body.get("format")
        kind = "json_schema" if isinstance(fmt, dict) else ("json_object" if fmt == "json" else "text")
        return (400, {"error": f"invalid format: {kind} is not supported"}) if kind in self.refuse else None

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script = list(replies)

    def _next(self, body: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            if self.responder is not None:
                return self.responder(body)
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def _completion(self, body: dict[str, Any], content: str, tokens: tuple[int, int]) -> dict[str, Any]:
        model = body.get("model", "scripted")
        if self.kind == "ollama":
            return {
                "model": model, "created_at": "2026-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": content},
                "done": True, "done_reason": "stop", "total_duration": 1_000_000,
                "prompt_eval_count": tokens[0], "eval_count": tokens[1],
            }
        return {
            "id": "chatcmpl-loopback", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": content, "refusal": None}}],
            "usage": {"prompt_tokens": tokens[0], "completion_tokens": tokens[1], "total_tokens": sum(tokens)},
        }

    def bodies_text(self) -> str:
        """Every request body as one string, for "nothing secret was sent" assertions."""
        with self._lock:
            return "\n".join(json.dumps(b) for b in self.requests)

    def start(self) -> LlmServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused): a server that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def user_signal(body: dict[str, Any]) -> dict[str, Any]:
    """The failure signal a request carried (the user message's JSON)."""
    for message in body.get("messages", []):
        if message.get("role") == "user":
            return json.loads(message["content"].split("\n", 1)[1])
    raise AssertionError("no user message in the request")


def scripted_model(labels: dict[str, str], *, accuracy: float, confidence: float, wrong_confidence: float,
                   salt: str) -> Callable[[dict[str, Any]], Reply]:
    """A responder that plays a model of a given quality on a labelled corpus: for a fixed,
    hash-chosen `accuracy` share of the cases it answers the true category at `confidence`, for
    the rest a wrong one at `wrong_confidence` (models are most dangerous when confidently wrong).
    Deterministic, so the evaluation figures it yields are reproducible."""
    import hashlib

    categories = sorted(set(labels.values()) | {"transient_5xx", "auth", "rate_limit", "bad_request", "timeout",
                                                 "infra", "configuration", "dependency", "input_validation",
                                                 "tool_error", "cancelled", "unknown"})

    def respond(body: dict[str, Any]) -> Reply:
        execution_id = user_signal(body)["execution_id"]
        truth = labels[execution_id]
        roll = int(hashlib.sha256((salt + execution_id).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if roll < accuracy:
            return answer(truth, confidence, f"scripted: {truth}")
        wrong = categories[(categories.index(truth) + 1 + int(roll * 1000) % (len(categories) - 1)) % len(categories)]
        return answer(wrong, wrong_confidence, f"scripted: {wrong}")

    return respond


def trusted_profile(provider: str, base_url: str, model: str, trust: float, directory: Any) -> Any:
    """Write a calibration profile saying a model's observed accuracy is `trust` times its stated
    confidence, in every category alike (1000 answers per step, so smoothing is negligible): the
    scenario tests' way of saying "this scripted model is known to be that good". Real profiles
    come from `agenthub troubleshoot calibrate` (tested on its own)."""
    from troubleshoot.calibration import CalibrationProfile, Step, Tally, write_profile
    from troubleshoot.categories import Category

    n = 1000
    steps = [Step(low=level / 20, high=level / 20, n=n, right=round(trust * level / 20 * n)) for level in range(1, 21)]
    said = [c.value for c in Category if c is not Category.UNKNOWN]
    profile = CalibrationProfile(
        provider=provider, base_url=base_url.rstrip("/"), model=model, created_at="2026-01-01T00:00:00+00:00",
        corpus="synthetic", cases=n * 20, answered=n * 20, accuracy=round(trust * 0.525, 4),
        precision={c: Tally(n=n * 20, right=round(trust * 0.525 * n * 20)) for c in said},
        steps=steps, category_steps={c: steps for c in said},
    )
    return write_profile(profile, directory)


class RememberingProviders:
    """The real provider factory, asking each server once per distinct request and replaying the
    answer after: for runs that put the same corpus to a deterministic model several times (the
    acceptance rule's 18 evaluations, the real model's calibrated and uncalibrated reports)."""

    def __init__(self) -> None:
        from troubleshoot.providers import Providers

        self._real = Providers()
        self._seen: dict[Any, Any] = {}

    def __call__(self, spec: Any) -> Any:
        real, seen = self._real(spec), self._seen

        class Remembered:
            name, model = real.name, real.model

            async def complete(self, system: str, user: str, schema: dict[str, Any], *, timeout: float) -> Any:
                key = (spec.judge, user)
                if key not in seen:
                    seen[key] = await real.complete(system, user, schema, timeout=timeout)
                return seen[key]

            async def aclose(self) -> None:
                await real.aclose()

        return Remembered()
