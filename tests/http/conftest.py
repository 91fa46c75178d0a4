"""HTTP fixtures: real `agenthub serve` subprocesses on ephemeral ports, with and without auth.

The plain and the auth servers are shared by a test module (starting one costs about a second);
tests that stop or reconfigure a server start their own with `serve`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from http_support import (
    JWT_AUDIENCE,
    JWT_SECRET,
    TOKENS,
    Served,
    start_server,
    write_catalog,
)

from hub.http.auth import TokenEntry, append_token, hash_token


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server without auth on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("plain")
    served = start_server(tmp, write_catalog(tmp / "catalog"), "--call-timeout", "20")
    yield served
    served.stop()


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server with a tokens file (`TOKENS`) and HS256 JWTs (audience `JWT_AUDIENCE`)."""
    tmp = tmp_path_factory.mktemp("auth")
    tokens = tmp / "tokens.yaml"
    for subject, (raw, scopes) in TOKENS.items():
        append_token(tokens, TokenEntry(sha256=hash_token(raw), subject=subject, scopes=scopes))
    served = start_server(
        tmp, write_catalog(tmp / "catalog"), "--tokens-file", str(tokens),
        "--jwt-audience", JWT_AUDIENCE, env={"AGENTHUB_JWT_SECRET": JWT_SECRET},
    )
    yield served
    served.stop()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """serve(*flags, env=None, wait=True) -> a fresh server of this test's own (stopped at the end)."""
    started: list[Served] = []

    def make(*flags: str, env: dict[str, str] | None = None, wait: bool = True, **kwargs: Any) -> Served:
        tmp = tmp_path / f"server{len(started)}"
        served = start_server(tmp, write_catalog(tmp / "catalog"), *flags, env=env, wait=wait, **kwargs)
        started.append(served)
        return served

    yield make
    for served in started:
        if not served.closed:
            served.stop()
