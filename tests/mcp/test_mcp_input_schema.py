"""JSON Schema 2020-12 in a playbook's `input:`: a whole schema document (`$defs`, `$ref`,
`$anchor`, `allOf`/`anyOf`, `if`/`then`/`else`) published as the tool's inputSchema and enforced
on calls; `x-mcp-header` parameters checked against their `Mcp-Param-*` header (2026-07-28); and
`mcp-*` header values read without their optional whitespace. Through the official client and raw
HTTP against a real `agenthub serve`."""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client

from catalog.loader import check_playbook
from tests.http.http_support import Served, start_server

CONTACT = """
    apiVersion: agenthub/v1
    kind: Playbook
    metadata: {name: contact, description: Stores a contact.}
    input:
      $schema: https://json-schema.org/draft/2020-12/schema
      type: object
      $defs:
        address:
          $anchor: addressDef
          type: object
          properties: {street: {type: string}, city: {type: string}}
          required: [city]
      properties:
        name: {type: string}
        address: {$ref: "#/$defs/address"}
        contactMethod: {type: string, enum: [phone, email], default: email}
        phone: {type: string}
        email: {type: string}
        pin: {type: string, writeOnly: true, default: "0000"}
      allOf: [{anyOf: [{required: [phone]}, {required: [email]}]}]
      if: {properties: {contactMethod: {const: phone}}, required: [contactMethod]}
      then: {required: [phone]}
      else: {required: [email]}
      additionalProperties: false
    workflow:
      - {step: store, tool: {kind: noop}, result: "{{ input }}"}
"""
ROUTED = """
    apiVersion: agenthub/v1
    kind: Playbook
    metadata: {name: routed, description: Answers with its region.}
    input:
      region: {type: string, x-mcp-header: Region}
    workflow:
      - {step: answer, tool: {kind: noop}, result: "{{ input.region }}"}
"""
META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("input-schema")
    catalog = tmp / "catalog"
    catalog.mkdir()
    for name, text in (("contact", CONTACT), ("routed", ROUTED)):
        (catalog / f"{name}.yaml").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    server = start_server(tmp / "serve", catalog)
    yield server
    server.stop()


@pytest.mark.parametrize("era", ["legacy", "auto"])
async def test_an_input_document_survives_into_the_input_schema_and_is_enforced(served: Served, era: str):
    async with Client(served.mcp_url, mode=era) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        schema = tools["contact"].input_schema
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$defs"]["address"]["$anchor"] == "addressDef"
        assert schema["properties"]["address"] == {"$ref": "#/$defs/address"}
        assert schema["allOf"][0]["anyOf"] == [{"required": ["phone"]}, {"required": ["email"]}]
        assert schema["then"] == {"required": ["phone"]} and schema["else"] == {"required": ["email"]}
        assert schema["additionalProperties"] is False
        assert "default" not in schema["properties"]["pin"]  # a writeOnly property is a secret

        ok = await client.call_tool("contact", {"name": "Ada", "email": "ada@example.org",
                                                "address": {"city": "London"}})
        assert ok.is_error is False
        assert ok.structured_content["data"]["contactMethod"] == "email"  # the document's default
        bad_ref = await client.call_tool("contact", {"email": "a@b.c", "address": {"street": "x"}})
        assert bad_ref.is_error is True  # the $ref'd definition requires a city
        assert bad_ref.structured_content["error"]["kind"] == "input.validation"
        assert "city" in bad_ref.structured_content["error"]["message"]
        bad_if = await client.call_tool("contact", {"contactMethod": "phone", "email": "a@b.c"})
        assert bad_if.structured_content["error"]["kind"] == "input.validation"
        assert "phone" in bad_if.structured_content["error"]["message"]
    with served.client() as api:  # the secret's value never reaches the record
        executions = api.get("/api/executions", params={"limit": 20}).json()["items"]
        assert executions and all("0000" not in json.dumps(e) for e in executions)


def test_an_input_document_must_be_a_valid_object_schema():
    source = textwrap.dedent(CONTACT).replace("type: object\n  $defs", "type: array\n  $defs")
    source = source.replace("additionalProperties: false", "additionalProperties: nope")
    loaded = check_playbook(source, "contact.yaml")
    assert loaded.playbook is None
    messages = {(p.field, p.line): p.message for p in loaded.problems}
    assert any(field == "input.type" and "type: object" in m for (field, _), m in messages.items())
    assert any(field == "input.additionalProperties" and "not a valid JSON Schema" in m
               for (field, _), m in messages.items())


def _post(served: Served, body: dict, **headers: str) -> httpx.Response:
    base = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28"}
    with httpx.Client(timeout=30) as http:
        return http.post(served.mcp_url, json=body, headers={**base, **headers})


def test_an_x_mcp_header_parameter_must_match_its_header(served: Served):
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "routed", "arguments": {"region": "eu-west"}, "_meta": META}}
    routed = {"Mcp-Method": "tools/call", "Mcp-Name": "routed"}
    tools = _post(served, {"jsonrpc": "2.0", "id": 0, "method": "tools/list", "params": {"_meta": META}},
                  **{"Mcp-Method": "tools/list"})
    listed = {t["name"]: t for t in tools.json()["result"]["tools"]}
    assert listed["routed"]["inputSchema"]["properties"]["region"]["x-mcp-header"] == "Region"
    good = _post(served, call, **routed, **{"Mcp-Param-Region": "eu-west"})
    assert good.status_code == 200 and good.json()["result"]["structuredContent"]["data"] == "eu-west"
    wrong = _post(served, call, **routed, **{"Mcp-Param-Region": "us-east"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == -32020
    missing = _post(served, call, **routed)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == -32020


async def test_mcp_header_values_are_read_without_surrounding_whitespace(served: Served):
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                       "params": {"name": "routed", "arguments": {"region": "eu"}, "_meta": META}}).encode()
    url = httpx.URL(served.mcp_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    head = (f"POST {url.path} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nContent-Type: application/json\r\n"
            "Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2026-07-28\r\n"
            "Mcp-Method:  tools/call \r\nMcp-Name: \t routed  \r\nMcp-Param-Region:  eu\t\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    writer.write(head.encode() + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status = answer.split(b"\r\n", 1)[0]
    assert b" 200 " in status, answer[:400]
    assert b'"data":"eu"' in answer.replace(b" ", b"")
