"""`nats` against the real NATS (JetStream) server of this machine, on subjects and buckets of its
own: publish reaches a subscriber, request gets a responder's reply, KV put/get/delete/keys, and the
failures (no such bucket, no responders, server down) as envelopes."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.kinds.kinds_support import run

nats = pytest.importorskip("nats")
URL = "nats://127.0.0.1:4222"


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    connection = await nats.connect(URL)
    yield connection
    await connection.close()


@pytest.fixture
async def bucket(client: Any) -> AsyncIterator[str]:
    name = f"ah_kinds_{secrets.token_hex(4)}"
    js = client.jetstream()
    await js.create_key_value(bucket=name)
    yield name
    await js.delete_key_value(name)


def _playbook(name: str, steps: str, workload: str = "{}") -> str:
    return f"""
        apiVersion: noetl.io/v2
        kind: Playbook
        metadata: {{name: {name}}}
        workload: {workload}
        keychain:
          - {{name: nats_cred, env: AH_TEST_NATS, required: false}}
        workflow:
{steps}
        """


async def test_publish_reaches_a_subscriber(hub, write_playbook, client, monkeypatch):
    monkeypatch.setenv("AH_TEST_NATS", URL)
    subject = f"ah.kinds.{secrets.token_hex(4)}"
    received: asyncio.Queue[Any] = asyncio.Queue()
    sub = await client.subscribe(subject, cb=received.put)
    await client.flush()
    write_playbook("pub", _playbook("pub", f"""
          - step: send
            tool: {{kind: nats, auth: nats_cred, operation: publish, subject: {subject},
                    data: {{order: "{{{{ workload.order }}}}", n: 3}}}}
        """, "{order: A-1}"))
    envelope = await run(hub, "pub", {"order": "B-2; $(id)"})
    assert envelope.status == "ok", envelope
    assert envelope.data == {"status": "success", "subject": subject}
    message = await asyncio.wait_for(received.get(), 5)
    assert json.loads(message.data) == {"order": "B-2; $(id)", "n": 3}
    await sub.unsubscribe()


async def test_request_gets_the_reply(hub, write_playbook, client):
    subject = f"ah.kinds.rpc.{secrets.token_hex(4)}"

    async def respond(message: Any) -> None:
        asked = json.loads(message.data)
        await message.respond(json.dumps({"echo": asked["q"], "len": len(asked["q"])}).encode())

    sub = await client.subscribe(subject, cb=respond)
    await client.flush()
    write_playbook("rpc", _playbook("rpc", f"""
          - step: ask
            tool: {{kind: nats, nats_url: "{URL}", operation: request, subject: {subject}, data: {{q: "{{{{ workload.q }}}}"}}}}
        """, "{q: hello}"))
    envelope = await run(hub, "rpc")
    assert envelope.status == "ok", envelope
    assert envelope.data["data"] == {"echo": "hello", "len": 5}
    await sub.unsubscribe()


async def test_key_value_put_get_keys_delete(hub, write_playbook, bucket, client, monkeypatch):
    monkeypatch.setenv("AH_TEST_NATS", json.dumps({"url": URL}))
    write_playbook("kv", _playbook("kv", f"""
          - step: put
            tool: {{kind: nats, auth: nats_cred, operation: kv_put, bucket: {bucket}, key: "{{{{ workload.key }}}}",
                    value: {{state: done, items: [1, 2]}}}}
            next: [{{step: get}}]
          - step: get
            tool: {{kind: nats, auth: nats_cred, operation: kv_get, bucket: {bucket}, key: "{{{{ workload.key }}}}"}}
            next: [{{step: keys}}]
          - step: keys
            tool: {{kind: nats, auth: nats_cred, operation: kv_keys, bucket: {bucket}}}
            next: [{{step: delete}}]
          - step: delete
            tool: {{kind: nats, auth: nats_cred, operation: kv_delete, bucket: {bucket}, key: "{{{{ workload.key }}}}"}}
            next: [{{step: again}}]
          - step: again
            tool: {{kind: nats, auth: nats_cred, operation: kv_get, bucket: {bucket}, key: "{{{{ workload.key }}}}"}}
            result:
              got: "{{{{ get.value }}}}"
              revision: "{{{{ put.revision }}}}"
              keys: "{{{{ keys.keys }}}}"
              after_delete: "{{{{ again.status }}}}"
        """, "{key: job1}"))
    envelope = await run(hub, "kv")
    assert envelope.status == "ok", envelope
    assert envelope.data == {"got": {"state": "done", "items": [1, 2]}, "revision": 1, "keys": ["job1"],
                             "after_delete": "not_found"}


async def test_failures(hub, write_playbook, monkeypatch):
    monkeypatch.setenv("AH_TEST_NATS", URL)
    missing = f"ah_missing_{secrets.token_hex(4)}"
    write_playbook("nobucket", _playbook("nobucket", f"""
          - step: s
            tool: {{kind: nats, auth: nats_cred, operation: kv_get, bucket: {missing}, key: k}}
        """))
    write_playbook("noone", _playbook("noone", f"""
          - step: s
            tool: {{kind: nats, auth: nats_cred, operation: request, subject: ah.nobody.{secrets.token_hex(4)}, timeout: 2}}
        """))
    write_playbook("down", _playbook("down", """
          - step: s
            tool: {kind: nats, nats_url: "nats://127.0.0.1:1", operation: publish, subject: x, timeout: 2}
        """))
    nobucket = await run(hub, "nobucket")
    assert (nobucket.error.kind, nobucket.error.code, nobucket.error.retryable) == ("agent.execution", "NATS_ERROR", False)
    assert "BucketNotFound" in nobucket.error.message
    noone = await run(hub, "noone")
    assert noone.error.code == "NATS_ERROR" and "NoResponders" in noone.error.message
    down = await run(hub, "down")
    assert (down.error.code, down.error.retryable) == ("NATS_CONNECTION_ERROR", True)
    assert "127.0.0.1:1" in down.error.message
