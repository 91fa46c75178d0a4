"""The REST API end to end against a real `agenthub serve` (no auth), with httpx."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from http_support import Served, wait_for
from referencing import Registry, Resource

ALL_PATHS = ["billing/charge", "echo", "failing", "slow", "team/searcher", "team/summarizer", "twice"]


def paths(body: dict[str, Any]) -> list[str]:
    return [item["path"] for item in body["items"]]


@pytest.fixture(scope="module")
def api(plain_server: Served):
    with plain_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def openapi(api) -> dict[str, Any]:
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def check(openapi: dict[str, Any], response: Any, path: str, method: str = "get") -> Any:
    """Validate a live response against the schema the OpenAPI document gives for its status."""
    body = response.json()
    documented = openapi["paths"][path][method]["responses"][str(response.status_code)]
    schema = documented["content"]["application/json"]["schema"]
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(
        {**openapi, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
    wrapper = {"$schema": "https://json-schema.org/draft/2020-12/schema",
               **{k: (f"urn:openapi{v}" if k == "$ref" else v) for k, v in schema.items()}}
    if "oneOf" in wrapper:
        wrapper["oneOf"] = [{"$ref": f"urn:openapi{s['$ref']}"} for s in schema["oneOf"]]
    jsonschema.Draft202012Validator(wrapper, registry=registry).validate(body)
    return body


def test_health_and_readiness(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "playbooks": len(ALL_PATHS), "problems": 0, "running": 0, "sessions": 0}


def test_catalog_lists_everything_sorted_with_the_summary_fields(api, openapi):
    response = api.get("/api/catalog")
    body = check(openapi, response, "/api/catalog")
    assert paths(body) == ALL_PATHS and body["total"] == len(ALL_PATHS) and body["next_cursor"] is None
    echo = body["items"][1]
    assert echo == {"path": "echo", "version": 1, "name": "echo", "kind": "Playbook", "title": "Echo",
                    "description": "Echoes a text with its length.", "agent": False,
                    "capabilities": ["echo", "text"], "tags": ["test"], "scopes": [], "expose": True}


@pytest.mark.parametrize(("query", "expected"), [
    ("agent=true", ["slow", "team/searcher", "team/summarizer"]),
    ("agent=false&tag=test", ["echo", "failing"]),
    ("kind=Playbook&tag=research", ["team/searcher", "team/summarizer"]),
    ("kind=Workflow", []),
    ("capability=search&capability=echo", ["echo", "team/searcher"]),
    ("capability=search,summarize", ["team/searcher", "team/summarizer"]),
    ("capabilities_all=text&capabilities_all=summarize", ["team/summarizer"]),
    ("capabilities_all=text,echo", ["echo"]),
    ("q=pages topic", ["team/searcher"]),
    ("q=SUMMARIZES", ["team/summarizer"]),
    ("tag=test&q=sleeps", ["slow"]),
])
def test_catalog_discovery_filters(api, query, expected):
    response = api.get(f"/api/catalog?{query}")
    assert response.status_code == 200, response.text
    assert paths(response.json()) == expected


def test_catalog_pages_with_a_cursor(api):
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        response = api.get("/api/catalog", params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        body = response.json()
        assert body["total"] == len(ALL_PATHS)
        assert len(body["items"]) <= 3
        seen += paths(body)
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ALL_PATHS and pages == 3
    filtered = api.get("/api/catalog", params={"tag": "test", "limit": 1}).json()
    assert paths(filtered) == ["echo"] and filtered["total"] == 3 and filtered["next_cursor"]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "cursor=nonsense", "agent=maybe", "colour=red"])
def test_catalog_refuses_a_bad_query_with_422(api, openapi, query):
    response = api.get(f"/api/catalog?{query}")
    assert response.status_code == 422
    body = check(openapi, response, "/api/catalog")
    assert body["error"]["code"] == "REQUEST_INVALID"
    assert body["error"]["details"]["errors"][0]["loc"][0] == "query"


def test_one_catalog_entry_with_schemas_and_versions(api, openapi):
    response = api.get("/api/catalog/echo")
    body = check(openapi, response, "/api/catalog/{path}")
    assert body["versions"] == [1]
    assert body["input_schema"]["required"] == ["text"]
    assert body["input_schema"]["properties"]["times"]["minimum"] == 1
    assert body["output_schema"]["required"] == ["text", "length"]
    assert body["steps"] == [{"step": "echo", "kind": "python"}]
    nested = api.get("/api/catalog/team/searcher").json()  # slashes in the catalog path
    assert nested["name"] == "searcher" and nested["agent"] is True
    assert api.get("/api/catalog/searcher").json()["path"] == "team/searcher"  # by tool name
    assert api.get("/api/catalog/echo", params={"version": 1}).json()["version"] == 1
    assert api.get("/api/catalog/echo@1").json()["version"] == 1


def test_unknown_catalog_entry_or_version_is_404(api, openapi):
    for url in ("/api/catalog/nope", "/api/catalog/echo?version=9"):
        response = api.get(url)
        assert response.status_code == 404
        assert check(openapi, response, "/api/catalog/{path}")["error"]["code"] == "NOT_FOUND"


def test_agents_are_the_agent_entries_with_capability_filters(api, openapi):
    body = check(openapi, api.get("/api/agents"), "/api/agents")
    assert paths(body) == ["slow", "team/searcher", "team/summarizer"]
    assert paths(api.get("/api/agents?capability=text").json()) == ["team/summarizer"]
    assert paths(api.get("/api/agents?capability=web,waiting").json()) == ["slow", "team/searcher"]
    assert paths(api.get("/api/agents?q=web searcher").json()) == ["team/searcher"]
    assert api.get("/api/agents?agent=false").status_code == 422  # not a filter of this endpoint


def test_execute_and_wait_answers_the_envelope(api, openapi):
    response = api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "ab", "times": 2}})
    body = check(openapi, response, "/api/executions", "post")
    assert response.status_code == 200
    assert body["status"] == "ok" and body["data"] == {"text": "abab", "length": 4}
    assert body["framework"] == "noetl" and body["entrypoint"] == "echo" and "error" not in body
    detail = check(openapi, api.get(f"/api/executions/{body['execution_id']}"), "/api/executions/{execution_id}")
    assert detail["status"] == "succeeded" and detail["envelope"] == body
    assert detail["arguments"] == {"text": "ab", "times": 2}


def test_a_failing_playbook_is_200_with_an_error_envelope(api, openapi):
    response = api.post("/api/executions", json={"playbook": "failing"})
    assert response.status_code == 200
    body = check(openapi, response, "/api/executions", "post")
    assert body["status"] == "error"
    assert body["error"]["code"] == "PYTHON_ERROR" and "boom" in body["error"]["message"]
    assert body["error"]["step"] == {"name": "explode", "kind": "python"}


def test_unknown_playbook_is_404_with_an_envelope(api, openapi):
    response = api.post("/api/executions", json={"playbook": "nope"})
    assert response.status_code == 404
    body = check(openapi, response, "/api/executions", "post")
    assert body["status"] == "error" and body["error"]["code"] == "PLAYBOOK_NOT_FOUND"
    assert api.post("/api/executions", json={"playbook": "echo", "version": 7}).status_code == 404


def test_invalid_arguments_are_422_with_an_input_validation_envelope(api, openapi):
    response = api.post("/api/executions", json={"playbook": "echo", "arguments": {"times": 0}})
    assert response.status_code == 422
    body = check(openapi, response, "/api/executions", "post")
    assert body["error"]["kind"] == "input.validation" and body["error"]["code"] == "INPUT_INVALID"
    problems = {p["path"] for p in body["error"]["details"]["errors"]}
    assert any("times" in p for p in problems) and any("text" in p or p in ("", "$") for p in problems)
    recorded = api.get(f"/api/executions/{body['execution_id']}").json()
    assert recorded["status"] == "failed"  # recorded, but no step ran
    events = api.get(f"/api/executions/{body['execution_id']}/events").json()
    assert not [e for e in events["items"] if e["type"].startswith("step.")]


@pytest.mark.parametrize(("body", "headers", "status", "code"), [
    ({"arguments": {}}, None, 422, "REQUEST_INVALID"),
    ({"playbook": "echo", "wait": "soon"}, None, 422, "REQUEST_INVALID"),
    ({"playbook": "echo", "surprise": 1}, None, 422, "REQUEST_INVALID"),
    (b"{not json", {"content-type": "application/json"}, 400, "REQUEST_MALFORMED"),
    (b'{"playbook": "echo"}', {"content-type": "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE"),
])
def test_a_bad_request_body_is_refused_and_nothing_runs(api, openapi, body, headers, status, code):
    before = len(api.get("/api/executions", params={"limit": 500}).json()["items"])
    if isinstance(body, bytes):
        response = api.post("/api/executions", content=body, headers=headers)
    else:
        response = api.post("/api/executions", json=body)
    assert response.status_code == status
    assert check(openapi, response, "/api/executions", "post")["error"]["code"] == code
    assert len(api.get("/api/executions", params={"limit": 500}).json()["items"]) == before


def test_execute_without_waiting_is_202_then_poll(api, openapi):
    response = api.post("/api/executions", json={"playbook": "slow", "arguments": {"seconds": 0.5}, "wait": False})
    assert response.status_code == 202
    body = check(openapi, response, "/api/executions", "post")
    assert body["status"] == "running"
    assert response.headers["location"] == f"/api/executions/{body['execution_id']}"

    def finished() -> Any:
        detail = api.get(response.headers["location"]).json()
        return detail if detail["status"] != "running" else None

    detail = wait_for(finished)
    assert detail["status"] == "succeeded" and detail["envelope"]["data"] == {"slept": 0.5}


def test_wait_timeout_then_cancel(api, openapi):
    response = api.post("/api/executions", json={"playbook": "slow", "wait_timeout": 0.3})
    assert response.status_code == 202
    execution_id = response.json()["execution_id"]
    running = check(openapi, api.get(f"/api/executions/{execution_id}"), "/api/executions/{execution_id}")
    assert running["status"] == "running" and running["envelope"]["status"] == "running"
    cancelled = api.post(f"/api/executions/{execution_id[:13]}/cancel")  # a unique prefix will do
    assert cancelled.status_code == 200
    body = check(openapi, cancelled, "/api/executions/{execution_id}/cancel", "post")
    assert body["status"] == "error" and body["error"]["code"] == "CANCELLED"
    assert api.get(f"/api/executions/{execution_id}").json()["status"] == "cancelled"
    again = api.post(f"/api/executions/{execution_id}/cancel")
    assert again.status_code == 409
    error = check(openapi, again, "/api/executions/{execution_id}/cancel", "post")["error"]
    assert error["code"] == "ALREADY_FINISHED" and error["details"] == {"status": "cancelled"}


def test_executions_list_filters_and_pages(api, openapi):
    parent = api.post("/api/executions", json={"playbook": "twice"}).json()
    assert parent["status"] == "ok"
    children = check(openapi, api.get("/api/executions", params={"parent_id": parent["execution_id"]}),
                     "/api/executions")
    assert len(children["items"]) == 2 and children["next_before"] is None
    assert {c["playbook_path"] for c in children["items"]} == {"echo"}
    assert all(c["depth"] == 1 and c["parent_id"] == parent["execution_id"] for c in children["items"])

    for _ in range(3):
        api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "x"}})
    succeeded = api.get("/api/executions", params={"status": "succeeded", "limit": 500}).json()["items"]
    assert succeeded and all(e["status"] == "succeeded" for e in succeeded)
    ids = [e["id"] for e in succeeded]
    assert ids == sorted(ids, reverse=True)  # newest first

    walked: list[str] = []
    before = None
    while True:
        params: dict[str, Any] = {"status": "succeeded", "limit": 2}
        if before:
            params["before"] = before
        page = api.get("/api/executions", params=params).json()
        walked += [e["id"] for e in page["items"]]
        before = page["next_before"]
        if before is None:
            break
    assert walked == ids
    assert api.get("/api/executions?status=exploded").status_code == 422


def test_events_follow_an_execution(api, openapi):
    done = api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "hi"}}).json()
    url = f"/api/executions/{done['execution_id']}/events"
    everything = check(openapi, api.get(url), "/api/executions/{execution_id}/events")
    types = [e["type"] for e in everything["items"]]
    assert types[0] == "execution.started" and types[-1] == "execution.finished"
    assert "step.started" in types and "step.finished" in types
    seqs = [e["seq"] for e in everything["items"]]
    assert seqs == list(range(1, len(seqs) + 1))
    assert everything["finished"] is True and everything["next_after_seq"] == seqs[-1]

    first = api.get(url, params={"limit": 2}).json()
    assert [e["seq"] for e in first["items"]] == [1, 2] and first["finished"] is False
    rest = api.get(url, params={"after_seq": first["next_after_seq"]}).json()
    assert [e["seq"] for e in rest["items"]] == seqs[2:] and rest["finished"] is True


def test_unknown_executions_and_routes_are_json_404s(api, openapi):
    for method, url, documented in (
        ("get", "/api/executions/ffffffff-0000", "/api/executions/{execution_id}"),
        ("get", "/api/executions/ffffffff-0000/events", "/api/executions/{execution_id}/events"),
        ("post", "/api/executions/ffffffff-0000/cancel", "/api/executions/{execution_id}/cancel"),
    ):
        response = api.request(method.upper(), url)
        assert response.status_code == 404
        assert check(openapi, response, documented, method)["error"]["code"] == "NOT_FOUND"
    missing = api.get("/api/nothing/here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    wrong_method = api.delete("/api/executions")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_openapi_document_is_openapi_3_1_with_every_path(openapi):
    assert openapi["openapi"] == "3.1.0"
    assert set(openapi["paths"]) == {
        "/api/catalog", "/api/catalog/{path}", "/api/agents", "/api/executions", "/api/executions/{execution_id}",
        "/api/executions/{execution_id}/events", "/api/executions/{execution_id}/cancel", "/api/openapi.json",
        "/api/executions/{execution_id}/diagnose",
    }
    assert set(openapi["paths"]["/api/executions"]) == {"get", "post"}
    execute = openapi["paths"]["/api/executions"]["post"]
    assert {"200", "202", "403", "404", "422", "429", "413", "415"} <= set(execute["responses"])
    assert execute["requestBody"]["content"]["application/json"]["schema"]["$ref"].startswith("#/components/schemas/")
    params = {p["name"]: p for p in openapi["paths"]["/api/catalog"]["get"]["parameters"]}
    assert set(params) == {"kind", "agent", "capability", "capabilities_all", "tag", "q", "limit", "cursor"}
    assert params["capability"]["explode"] is True and params["capability"]["schema"]["type"] == "array"
    assert params["limit"]["schema"]["maximum"] == 500
    operation_ids = [op["operationId"] for item in openapi["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
    assert "securitySchemes" not in openapi["components"]  # this server runs without auth

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    schemas = openapi["components"]["schemas"]
    for ref in refs(openapi):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_request_body_over_the_limit_is_413(api):
    big = b'{"playbook": "echo", "arguments": {"text": "' + b"x" * (5 * 1024 * 1024) + b'"}}'
    response = api.post("/api/executions", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

    def chunks():
        for _ in range(6):
            yield b"x" * (1024 * 1024)

    chunked = api.post("/api/executions", content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    mcp = api.post("/mcp", content=big, headers={"content-type": "application/json",
                                                   "accept": "application/json, text/event-stream"})
    assert mcp.status_code == 413


def test_dns_rebinding_protection_on_api_and_mcp(api, plain_server):
    mcp_headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    evil_host = {"host": "evil.example:80"}
    assert api.get("/api/catalog", headers=evil_host).status_code == 421
    assert api.get("/api/catalog", headers=evil_host).json()["error"]["code"] == "HOST_NOT_ALLOWED"
    assert api.post("/mcp", json={}, headers={**mcp_headers, **evil_host}).status_code == 421
    evil_origin = {"origin": "http://evil.example"}
    refused = api.get("/api/catalog", headers=evil_origin)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    assert api.post("/mcp", json={}, headers={**mcp_headers, **evil_origin}).status_code == 403
    assert api.get("/api/catalog", headers={"origin": plain_server.base}).status_code == 200
    for public in ("/healthz", "/readyz", "/api/openapi.json"):  # no token needed, but Host/Origin checked
        assert api.get(public).status_code == 200
        assert api.get(public, headers=evil_host).json()["error"]["code"] == "HOST_NOT_ALLOWED"
        assert api.get(public, headers=evil_origin).status_code == 403
