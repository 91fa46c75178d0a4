"""Shared fixtures: a hub on a temporary catalog and database, and a scripted loopback HTTP server."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from hub.app import Hub
from hub.config import HubConfig

REPO = Path(__file__).resolve().parent.parent
AGENTHUB = [sys.executable, "-m", "hub.cli.main"]


@pytest.fixture(autouse=True, scope="session")
def _private_data_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Commands started without --db use the per-user data directory: during tests that is a
    temporary one (XDG_DATA_HOME), inherited by every subprocess, never the real home."""
    previous = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    yield
    if previous is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = previous


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    path = tmp_path / "catalog"
    path.mkdir()
    return path


@pytest.fixture
def write_playbook(catalog_dir: Path) -> Callable[[str, str], Path]:
    """write_playbook("name", yaml_text) -> the file (dedented; nested dirs allowed in name)."""

    def write(name: str, text: str) -> Path:
        file = catalog_dir / f"{name}.yaml"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return file

    return write


@pytest.fixture
async def hub(tmp_path: Path, catalog_dir: Path) -> AsyncIterator[Callable[..., Any]]:
    """An async factory: `await hub()` opens a Hub on the test catalog (reloads on each call)."""
    opened: list[Hub] = []

    async def make(**overrides: Any) -> Hub:
        if opened:
            await opened[-1].reload()
            return opened[-1]
        config = HubConfig(catalog=catalog_dir, db=tmp_path / "hub.db", **overrides)
        instance = await Hub(config).open()
        opened.append(instance)
        return instance

    yield make
    for instance in opened:
        await instance.aclose()


class ScriptedServer:
    """A real HTTP server on 127.0.0.1 answering from a per-path script of responses.

    `script("/status", (503, {"error": "busy"}), (200, {"state": "up"}))` answers the first request
    with 503 and every later one with the last response. Each response is (status, body) or
    (status, body, headers). Every request is logged in `requests`.
    """

    def __init__(self) -> None:
        self.scripts: dict[str, list[tuple[Any, ...]]] = {}
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with server.lock:
                    server.requests.append({
                        "method": self.command, "path": self.path, "headers": dict(self.headers),
                        "body": body.decode("utf-8", "replace"),
                    })
                    script = server.scripts.get(path)
                    response = (script.pop(0) if len(script) > 1 else script[0]) if script else (404, {"error": "no script"})
                status, payload, *rest = response
                headers = rest[0] if rest else {}
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", headers.pop("content-type", "application/json"))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def script(self, path: str, *responses: tuple[Any, ...]) -> None:
        with self.lock:
            self.scripts[path] = [tuple(r) for r in responses]

    def hits(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"].split("?", 1)[0] == path]


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
