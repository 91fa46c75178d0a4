"""Bearer auth on a real `agenthub serve`: tokens file and HS256 JWT, 401/403, scope filtering."""

from __future__ import annotations

import subprocess
import sys

import pytest
from http_support import JWT_AUDIENCE, REPO, TOKENS, Served, make_jwt, wait_for

READER, BILLER = TOKENS["reader"][0], TOKENS["biller"][0]
MCP_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream",
               "mcp-protocol-version": "2025-11-25"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "t", "version": "1"}}}


def test_no_token_is_401_on_rest_and_mcp_with_resource_metadata(auth_server: Served):
    with auth_server.client() as anonymous:
        for response in (anonymous.get("/api/catalog"), anonymous.post("/api/executions", json={"playbook": "echo"}),
                         anonymous.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)):
            assert response.status_code == 401
            challenge = response.headers["www-authenticate"]
            assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
            assert f'resource_metadata="{auth_server.base}/.well-known/oauth-protected-resource/mcp"' in challenge
            assert response.json()["error"] == "invalid_token"
        # public: health, readiness, the API description, the resource metadata
        assert anonymous.get("/healthz").status_code == 200
        assert anonymous.get("/readyz").status_code == 200
        document = anonymous.get("/api/openapi.json").json()
        assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
        assert document["paths"]["/api/catalog"]["get"]["security"] == [{"bearerAuth": []}]
        assert "401" in document["paths"]["/api/catalog"]["get"]["responses"]
        metadata = anonymous.get("/.well-known/oauth-protected-resource/mcp").json()
        assert metadata["resource"] == auth_server.mcp_url
        assert metadata["bearer_methods_supported"] == ["header"]
        assert metadata["scopes_supported"] == ["billing"]


@pytest.mark.parametrize("token", [
    "not-a-known-token",
    make_jwt(audience="someone-else"),
    make_jwt(expires_in=-120),
    make_jwt(secret="another-secret-with-enough-bytes-for-hs256"),
    make_jwt(scopes="billing", exp=None),
])
def test_bad_tokens_are_401(auth_server: Served, token: str):
    with auth_server.client(token) as client:
        assert client.get("/api/catalog").status_code == 401
        assert client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS).status_code == 401


def test_tokens_file_and_jwt_tokens_are_accepted(auth_server: Served):
    for token in (READER, BILLER, make_jwt(), make_jwt(audience=[JWT_AUDIENCE, "other"], scopes="billing")):
        with auth_server.client(token) as client:
            assert client.get("/api/catalog").status_code == 200
            ran = client.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "hi"}})
            assert ran.status_code == 200 and ran.json()["status"] == "ok"
            assert client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS).status_code == 200


@pytest.mark.parametrize("token", [READER, make_jwt(scopes="other")])
def test_a_scoped_playbook_is_hidden_and_forbidden_without_its_scope(auth_server: Served, token: str):
    with auth_server.client(token) as client:
        listed = [i["path"] for i in client.get("/api/catalog").json()["items"]]
        assert "billing/charge" not in listed and "echo" in listed
        assert client.get("/api/catalog?tag=money").json() == {"items": [], "next_cursor": None, "total": 0}
        for response in (client.get("/api/catalog/billing/charge"),
                         client.post("/api/executions", json={"playbook": "charge"})):
            assert response.status_code == 403
            assert response.json() == {"error": "insufficient_scope", "error_description": "Required scope: billing",
                                       "scope": "billing"}
            challenge = response.headers["www-authenticate"]
            assert 'error="insufficient_scope"' in challenge and 'scope="billing"' in challenge
        executions = client.get("/api/executions", params={"limit": 500}).json()["items"]
        assert "billing/charge" not in {e["playbook_path"] for e in executions}


@pytest.mark.parametrize("token", [BILLER, make_jwt(scopes="billing other"), make_jwt(scp=["billing"])])
def test_the_scope_opens_the_scoped_playbook(auth_server: Served, token: str):
    with auth_server.client(token) as client:
        listed = [i["path"] for i in client.get("/api/catalog").json()["items"]]
        assert "billing/charge" in listed
        assert client.get("/api/catalog/billing/charge").json()["scopes"] == ["billing"]
        ran = client.post("/api/executions", json={"playbook": "charge"})
        assert ran.status_code == 200 and ran.json()["data"] == {"charged": True}
        execution_id = ran.json()["execution_id"]
        assert client.get(f"/api/executions/{execution_id}").status_code == 200
    with auth_server.client(READER) as reader:  # someone without the scope cannot read the run
        assert reader.get(f"/api/executions/{execution_id}").status_code == 403
        assert reader.get(f"/api/executions/{execution_id}/events").status_code == 403


def test_a_token_added_to_the_file_while_serving_works(auth_server: Served):
    tokens_file = auth_server.tmp / "tokens.yaml"
    made = subprocess.run(
        [sys.executable, "-m", "hub.cli.main", "token", "new", "--subject", "late", "--scope", "billing",
         "--tokens-file", str(tokens_file)],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("ahub_") and token not in tokens_file.read_text()
    hashed = subprocess.run([sys.executable, "-m", "hub.cli.main", "token", "hash"], input=token + "\n",
                            cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert hashed.stdout.strip() in tokens_file.read_text()
    with auth_server.client(token) as client:
        wait_for(lambda: client.get("/api/catalog").status_code == 200, timeout=10)
        assert "billing/charge" in [i["path"] for i in client.get("/api/catalog").json()["items"]]


def test_executions_record_who_started_them(auth_server: Served):
    """REST runs and their sub-runs keep the token's subject (audit); `twice` runs `echo` twice."""
    with auth_server.client(BILLER) as client:
        ran = client.post("/api/executions", json={"playbook": "twice"}).json()
        detail = client.get(f"/api/executions/{ran['execution_id']}").json()
        assert detail["started_by"] == "biller"
        children = client.get("/api/executions", params={"parent_id": ran["execution_id"]}).json()["items"]
        assert len(children) == 2 and {c["started_by"] for c in children} == {"biller"}
    with auth_server.client(make_jwt(subject="jwt-alice")) as client:
        ran = client.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "a"}}).json()
        assert client.get(f"/api/executions/{ran['execution_id']}").json()["started_by"] == "jwt-alice"
