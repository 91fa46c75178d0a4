"""Secrets and execution authorisation on a real `agenthub serve` (issue 14, items 1-5): REST, the
official MCP client (tools, resources, `hub_` tools) and the bundled troubleshoot playbook all
apply one rule, from the scopes an execution stored when it started."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_support import Served, wait_for
from mcp.shared.exceptions import MCPError
from security_support import (
    EVOLVE_V2,
    KEYCHAIN_VALUE,
    SECRET_PIN,
    TOKEN,
    mcp_client,
    run_as,
    start_secure_server,
    wait_catalog,
)

ERAS = ["legacy", "auto"]  # 2025-11-25 with a session; 2026-07-28 stateless
LEAKS = [
    KEYCHAIN_VALUE, SECRET_PIN, KEYCHAIN_VALUE.upper(), KEYCHAIN_VALUE.lower(),
    base64.b64encode(KEYCHAIN_VALUE.encode()).decode(),
    base64.b64encode(f"svc:{KEYCHAIN_VALUE}".encode()).decode(),
]


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start_secure_server(tmp_path_factory.mktemp("secure"))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = start_secure_server(tmp_path_factory.mktemp("isolated"), "--isolate-subjects")
    yield served
    served.stop()


def _stored_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def _assert_no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} leaked"


async def test_parent_secrets_stay_redacted_in_sub_runs_everywhere(secure: Served):
    """Item 1: the unscoped child of a scoped parent gets the keychain value, a secret input and
    the hub's own transforms of them; none of it is stored or shown in clear, and the child is as
    private as its parent."""
    envelope = run_as(secure, "biller", "vault", arguments={"pin": SECRET_PIN})
    assert envelope["status"] == "ok", envelope
    assert envelope["data"]["token"] == "***" and envelope["data"]["pin"] == "***"
    assert envelope["data"]["loud"] == "***" and envelope["data"]["quiet"] == "***"
    assert envelope["data"]["b64"] == "***" and envelope["data"]["basic"].startswith("Basic ")
    _assert_no_leak(json.dumps(envelope))
    with secure.client(TOKEN["biller"]) as biller:
        [child] = biller.get("/api/executions", params={"parent_id": envelope["execution_id"]}).json()["items"]
        shown = biller.get(f"/api/executions/{child['id']}").json()
        assert shown["arguments"]["token"] == "***" and shown["arguments"]["pin"] == "***"
        events = biller.get(f"/api/executions/{child['id']}/events").json()["items"]
        assert any(e["type"] == "execution.started" for e in events)
        _assert_no_leak(json.dumps(shown) + json.dumps(events))
    async with mcp_client(secure, TOKEN["biller"], ERAS[1]) as client:
        for uri in (f"agenthub://executions/{child['id']}", f"agenthub://executions/{child['id']}/json"):
            text = (await client.read_resource(uri)).contents[0].text
            assert child["id"] in text
            _assert_no_leak(text)
    with secure.client(TOKEN["reader"]) as reader:  # the child needs the parent's scope
        assert reader.get(f"/api/executions/{child['id']}").status_code == 403
    stored = _stored_bytes(secure.db)
    assert child["id"].encode() in stored
    for leak in LEAKS:
        assert leak.encode() not in stored


async def test_execution_scopes_outlive_the_playbook_in_the_catalog(secure: Served):
    """Item 2: authorisation reads the scopes stored at start, not the current catalog."""
    (secure.catalog / "gone.yaml").write_text((secure.catalog / "ledger.yaml").read_text().replace(
        "name: ledger", "name: gone"), encoding="utf-8")
    wait_catalog(secure, lambda paths: "gone" in paths)
    ran = run_as(secure, "biller", "gone")
    assert ran["status"] == "ok"
    (secure.catalog / "gone.yaml").unlink()
    wait_catalog(secure, lambda paths: "gone" not in paths)
    with secure.client(TOKEN["reader"]) as reader:
        assert reader.get(f"/api/executions/{ran['execution_id']}").status_code == 403
        assert reader.get(f"/api/executions/{ran['execution_id']}/events").status_code == 403
        listed = {e["id"] for e in reader.get("/api/executions", params={"limit": 500}).json()["items"]}
        assert ran["execution_id"] not in listed
        unknown = reader.post("/api/executions", json={"playbook": "no-such-playbook", "arguments": {"a": 1}})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "PLAYBOOK_NOT_FOUND"
        assert reader.get(f"/api/executions/{unknown.json()['execution_id']}").status_code == 200  # its starter
    with secure.client(TOKEN["biller"]) as biller:
        assert biller.get(f"/api/executions/{ran['execution_id']}").status_code == 200
        assert biller.get(f"/api/executions/{unknown.json()['execution_id']}").status_code == 404
    for era in ERAS:
        async with mcp_client(secure, TOKEN["reader"], era) as client:
            with pytest.raises(MCPError):
                await client.read_resource(f"agenthub://executions/{ran['execution_id']}/json")
            status = await client.call_tool("hub_execution_status", {"execution_id": ran["execution_id"]})
            assert status.is_error and "no execution matches" in status.content[0].text


async def test_a_pinned_old_version_needs_the_current_versions_scopes(secure: Served):
    """Item 3: the strictest of the pinned and the current version applies, for REST runs and
    reads and for MCP resources."""
    (secure.catalog / "evolve.yaml").write_text(EVOLVE_V2.lstrip(), encoding="utf-8")
    wait_catalog(secure, lambda paths: paths.get("evolve") == 2)
    with secure.client(TOKEN["reader"]) as reader:
        for response in (reader.post("/api/executions", json={"playbook": "evolve", "version": 1}),
                         reader.post("/api/executions", json={"playbook": "evolve@1"}),
                         reader.get("/api/catalog/evolve", params={"version": 1}),
                         reader.get("/api/catalog/evolve@1")):
            assert response.status_code == 403, response.text
            assert response.json()["scope"] == "billing"
    for era in ERAS:
        async with mcp_client(secure, TOKEN["reader"], era) as client:
            with pytest.raises(MCPError):
                await client.read_resource("agenthub://playbooks/evolve@1")
        async with mcp_client(secure, TOKEN["biller"], era) as client:
            source = (await client.read_resource("agenthub://playbooks/evolve@1")).contents[0].text
            assert "Version 1 needs no scope." in source
    ran = run_as(secure, "biller", "evolve", version=1)
    assert ran["data"] == {"version": 1}
    with secure.client(TOKEN["reader"]) as reader:
        assert reader.get(f"/api/executions/{ran['execution_id']}").status_code == 403


async def test_the_troubleshoot_playbook_and_hub_tool_check_execution_access(secure: Served):
    """Item 4: diagnosing an execution needs the same access as reading it, through the bundled
    playbook (REST and MCP tools/call) and `hub_diagnose_execution`; nothing is recorded on it."""
    failed = run_as(secure, "biller", "bill_fail")
    assert failed["error"]["code"] == "PYTHON_ERROR"
    target = {"execution_id": failed["execution_id"], "escalate_to": "none", "budget": 2}
    refused = run_as(secure, "reader", "diagnose_execution", arguments=target)
    assert refused["status"] == "error" and "no execution" in refused["error"]["message"]
    assert "card declined" not in json.dumps(refused)
    for era in ERAS:
        async with mcp_client(secure, TOKEN["reader"], era) as client:
            result = await client.call_tool("diagnose_execution", target)
            assert result.is_error and "card declined" not in json.dumps(result.structured_content)
            hub_tool = await client.call_tool("hub_diagnose_execution", {"execution_id": failed["execution_id"]})
            assert hub_tool.is_error and "no execution matches" in hub_tool.content[0].text
    with secure.client(TOKEN["biller"]) as biller:
        events = biller.get(f"/api/executions/{failed['execution_id']}/events").json()["items"]
        assert not [e for e in events if e["type"] == "diagnosis.finished"]
    allowed = run_as(secure, "biller", "diagnose_execution", arguments=target)
    assert allowed["status"] == "ok", allowed
    assert allowed["data"]["execution_id"] == failed["execution_id"]


async def test_subject_isolation_keeps_executions_to_their_starter(isolated: Served):
    """Item 5: with --isolate-subjects another subject with the same scopes sees nothing of an
    execution; its starter and an admin token do."""
    slow = run_as(isolated, "biller", "bill_slow", wait=False)
    failed = run_as(isolated, "biller", "bill_fail")
    with isolated.client(TOKEN["biller2"]) as other:
        for execution_id in (slow["execution_id"], failed["execution_id"]):
            assert other.get(f"/api/executions/{execution_id}").status_code == 404
            assert other.get(f"/api/executions/{execution_id}/events").status_code == 404
        assert other.post(f"/api/executions/{slow['execution_id']}/cancel").status_code == 404
        assert other.post(f"/api/executions/{failed['execution_id']}/diagnose").status_code == 404
        listed = {e["id"] for e in other.get("/api/executions", params={"limit": 500}).json()["items"]}
        assert not listed & {slow["execution_id"], failed["execution_id"]}
    refused = run_as(isolated, "biller2", "diagnose_execution",
                     arguments={"execution_id": failed["execution_id"], "budget": 2})
    assert refused["status"] == "error" and "no execution" in refused["error"]["message"]
    for era in ERAS:
        async with mcp_client(isolated, TOKEN["biller2"], era) as client:
            for tool in ("hub_execution_status", "hub_cancel_execution"):
                result = await client.call_tool(tool, {"execution_id": slow["execution_id"]})
                assert result.is_error, tool
            with pytest.raises(MCPError):
                await client.read_resource(f"agenthub://executions/{slow['execution_id']}")
    with isolated.client(TOKEN["biller"]) as own:
        assert own.get(f"/api/executions/{slow['execution_id']}").json()["status"] == "running"
    with isolated.client(TOKEN["admin"]) as admin:
        assert admin.get(f"/api/executions/{failed['execution_id']}").status_code == 200
        cancelled = admin.post(f"/api/executions/{slow['execution_id']}/cancel", params={"wait": 10})
        assert cancelled.json()["status"] == "error" and cancelled.json()["error"]["code"] == "CANCELLED"
    with isolated.client(TOKEN["biller"]) as own:
        wait_for(lambda: own.get(f"/api/executions/{slow['execution_id']}").json()["status"] == "cancelled")
