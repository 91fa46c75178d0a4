"""The command's event loop: uvloop where the `speed` extra is installed, asyncio when turned off."""

from __future__ import annotations

import asyncio

import pytest
import uvloop  # the test venv installs the `speed` extra, as a production install would

from hub.cli import loop


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_runs_on_uvloop_where_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTHUB_LOOP", raising=False)
    assert loop.run(_loop_type()) is uvloop.Loop


def test_agenthub_loop_asyncio_turns_uvloop_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTHUB_LOOP", "asyncio")
    kind = loop.run(_loop_type())
    assert kind is not uvloop.Loop and issubclass(kind, asyncio.BaseEventLoop)
