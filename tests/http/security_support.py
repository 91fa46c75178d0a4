"""Shared pieces of the security tests: a catalog with scoped, secret-holding and failing playbooks,
a tokens file with several subjects, and a real `agenthub serve` on them."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
from http_support import REPO, Served, start_server, wait_for
from mcp import Client

from hub.http.auth import TokenEntry, append_token, hash_token

KEYCHAIN_VALUE = "kc-Tok3n-Value-77"
SECRET_PIN = "pin-4242-secret"
TOKENS: dict[str, tuple[str, list[str]]] = {
    "reader": ("sec-reader-token-0123456789", []),
    "biller": ("sec-biller-token-0123456789", ["billing"]),
    "biller2": ("sec-biller2-token-0123456789", ["billing"]),
    "admin": ("sec-admin-token-0123456789", ["agenthub:admin"]),
}
TOKEN = {subject: raw for subject, (raw, _) in TOKENS.items()}

PLAYBOOKS: dict[str, str] = {
    "vault": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: vault, description: Passes its secrets to an unscoped sub-run., scopes: [billing]}
        keychain:
          - {name: tok, env: SEC_KEYCHAIN_TOKEN}
        input:
          pin: {type: string, secret: true}
        workflow:
          - step: call
            tool: {kind: playbook, path: relay}
            input:
              token: "{{ keychain.tok }}"
              pin: "{{ input.pin }}"
              basic: "Basic {{ ('svc:' ~ keychain.tok) | b64encode }}"
              loud: "{{ keychain.tok | upper }}"
              quiet: "{{ keychain.tok | lower }}"
              b64: "{{ keychain.tok | b64encode }}"
            result: "{{ output }}"
    """,
    "relay": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: relay, description: Echoes what it is given (no scopes of its own).}
        input:
          token: {type: string}
          pin: {type: string}
          basic: {type: string}
          loud: {type: string}
          quiet: {type: string}
          b64: {type: string}
        workflow:
          - step: echo
            tool: {kind: noop}
            input: {got: "{{ input }}"}
            result: "{{ output.got }}"
    """,
    "ledger": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: ledger, description: Scoped and quick., scopes: [billing]}
        workflow:
          - step: s
            tool: {kind: noop}
            result: {booked: true}
    """,
    "evolve": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: evolve, description: Version 1 needs no scope.}
        workflow:
          - step: s
            tool: {kind: noop}
            result: {version: 1}
    """,
    "bill_fail": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: bill_fail, description: A scoped playbook that fails., scopes: [billing]}
        workflow:
          - step: explode
            tool:
              kind: python
              code: |
                def main():
                    raise ValueError("card declined for account 77")
    """,
    "bill_slow": """
        apiVersion: agenthub/v1
        kind: Playbook
        metadata: {name: bill_slow, description: A scoped playbook that sleeps., scopes: [billing]}
        workflow:
          - step: nap
            tool:
              kind: python
              code: |
                import asyncio
                async def main():
                    await asyncio.sleep(30)
    """,
}

EVOLVE_V2 = """
apiVersion: agenthub/v1
kind: Playbook
metadata: {name: evolve, description: Version 2 needs billing., scopes: [billing]}
workflow:
  - step: s
    tool: {kind: noop}
    result: {version: 2}
"""


def write_security_catalog(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PLAYBOOKS.items():
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    bundled = REPO / "playbooks" / "troubleshoot" / "diagnose_execution.yaml"
    (folder / "troubleshoot").mkdir(exist_ok=True)
    (folder / "troubleshoot" / "diagnose_execution.yaml").write_text(bundled.read_text(encoding="utf-8"))
    return folder


def start_secure_server(tmp: Path, *flags: str) -> Served:
    """A server on the security catalog with the `TOKENS` tokens file."""
    tmp.mkdir(parents=True, exist_ok=True)
    tokens = tmp / "tokens.yaml"
    for subject, (raw, scopes) in TOKENS.items():
        append_token(tokens, TokenEntry(sha256=hash_token(raw), subject=subject, scopes=scopes))
    env = {"SEC_KEYCHAIN_TOKEN": KEYCHAIN_VALUE, "AGENTHUB_TROUBLESHOOT_CONFIG": '{"escalate_to": "none"}',
           "OLLAMA_HOST": "http://127.0.0.1:9"}
    return start_server(tmp, write_security_catalog(tmp / "catalog"), "--tokens-file", str(tokens), *flags, env=env)


@asynccontextmanager
async def mcp_client(served: Served, token: str, era: str) -> AsyncIterator[Client]:
    """The official MCP client on the server's /mcp with a bearer token, in `era`."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        from mcp.client.streamable_http import streamable_http_client

        async with Client(streamable_http_client(served.mcp_url, http_client=http), mode=era) as client:
            yield client


def run_as(served: Served, subject: str, playbook: str, **body: Any) -> dict[str, Any]:
    with served.client(TOKEN[subject]) as client:
        response = client.post("/api/executions", json={"playbook": playbook, **body})
        assert response.status_code in (200, 202), response.text
        return response.json()


def wait_catalog(served: Served, predicate: Any) -> None:
    """Wait until the admin-visible catalog listing satisfies `predicate(paths_with_versions)`."""
    with served.client(TOKEN["biller"]) as client:
        wait_for(lambda: predicate({i["path"]: i["version"] for i in client.get("/api/catalog").json()["items"]}),
                 timeout=20)
