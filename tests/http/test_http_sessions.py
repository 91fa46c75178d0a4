"""2025-era MCP sessions on a real `agenthub serve` (issue 14, item 9): a session is forgotten by
the hub when the client DELETEs it or it idles past `--session-idle-timeout`, so `--max-sessions`
only ever counts live sessions."""

from __future__ import annotations

import httpx
from http_support import Served, wait_for

HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream",
           "mcp-protocol-version": "2025-11-25"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "sessions-test", "version": "1"}}}
CAP = 5


def open_session(api: httpx.Client) -> httpx.Response:
    """initialize + notifications/initialized; the response of initialize."""
    answer = api.post("/mcp", json=INITIALIZE, headers=HEADERS)
    if answer.status_code == 200:
        session = {**HEADERS, "mcp-session-id": answer.headers["mcp-session-id"]}
        done = api.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
        assert done.status_code == 202
    return answer


def tracked(api: httpx.Client) -> int:
    return api.get("/readyz").json()["sessions"]


def test_sessions_are_released_on_delete_and_idle_expiry(serve):
    served: Served = serve("--max-sessions", str(CAP), "--session-idle-timeout", "3")
    with served.client() as api:
        ids = [open_session(api).headers["mcp-session-id"] for _ in range(CAP)]
        wait_for(lambda: tracked(api) == CAP)  # `initialized` is handled after its 202
        refused = open_session(api)
        assert refused.status_code == 503  # the cap holds while they live
        for session_id in ids:
            assert api.delete("/mcp", headers={**HEADERS, "mcp-session-id": session_id}).status_code == 200
        assert tracked(api) == 0  # forgotten at once
        again = [open_session(api) for _ in range(CAP)]
        assert [a.status_code for a in again] == [200] * CAP
        wait_for(lambda: tracked(api) > 0)  # (some may already have idled out on a slow machine)
        # abandoned without DELETE: gone after the idle timeout, on the SDK's side and the hub's
        wait_for(lambda: tracked(api) == 0, timeout=20)
        wait_for(lambda: open_session(api).status_code == 200, timeout=20)


def test_bad_session_flags_exit_2(serve):
    for flags in (("--max-sessions", "0"), ("--session-idle-timeout", "-1")):
        served = serve(*flags, wait=False)
        assert served.proc.wait(timeout=60) == 2
        assert "bad configuration" in served.log()
