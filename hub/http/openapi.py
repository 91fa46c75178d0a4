"""The OpenAPI 3.1 document of the REST API, generated from the endpoint table and its pydantic models.

Why not Starlette's `SchemaGenerator`: it reads YAML out of docstrings, which drifts. Here every
endpoint is declared once (`Endpoint`), the router is built from the same table, and every schema
comes from the models the handlers parse and answer with. OpenAPI 3.1 schemas are JSON Schema
2020-12, which is what pydantic emits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from hub.http.rest_models import API_ERROR_CODES, ApiErrorBody, AuthErrorBody

REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class PathParam:
    name: str
    description: str
    catch_all: bool = False
    """Matches slashes too (`{path:path}` in Starlette), for catalog paths like `examples/hello`."""


@dataclass(frozen=True)
class Answer:
    """One documented response: its body model (None = no body) and when it happens."""

    description: str
    model: type[BaseModel] | tuple[type[BaseModel], ...] | None = None
    """A model, or several when the body may take either shape (documented as `oneOf`)."""
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def models(self) -> tuple[type[BaseModel], ...]:
        if self.model is None:
            return ()
        return self.model if isinstance(self.model, tuple) else (self.model,)


@dataclass(frozen=True)
class Endpoint:
    method: Literal["GET", "POST"]
    path: str
    """OpenAPI form, e.g. `/api/catalog/{path}`."""
    operation_id: str
    summary: str
    responses: Mapping[int, Answer]
    description: str = ""
    tag: str = "api"
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    path_params: tuple[PathParam, ...] = ()
    secured: bool = True

    @property
    def route_path(self) -> str:
        """The Starlette form of `path`."""
        path = self.path
        for param in self.path_params:
            if param.catch_all:
                path = path.replace("{" + param.name + "}", "{" + param.name + ":path}")
        return path


def _schemas(endpoints: Sequence[Endpoint]) -> tuple[dict[tuple[type[BaseModel], JsonSchemaMode], Any], dict[str, Any]]:
    pairs: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for endpoint in endpoints:
        for model in (endpoint.query, endpoint.body):
            if model is not None:
                pairs[(model, "validation")] = None
        for answer in endpoint.responses.values():
            for model in answer.models:
                pairs[(model, "serialization")] = None
    for model in (ApiErrorBody, AuthErrorBody):
        pairs[(model, "serialization")] = None
    refs, top = models_json_schema(list(pairs), ref_template=REF)
    return refs, top.get("$defs", {})


def _parameters(endpoint: Endpoint, components: dict[str, Any], refs: Mapping[Any, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": p.name, "in": "path", "required": True, "description": p.description, "schema": {"type": "string"}}
        for p in endpoint.path_params
    ]
    if endpoint.query is None:
        return params
    name = refs[(endpoint.query, "validation")]["$ref"].rsplit("/", 1)[-1]
    schema = components[name]
    required = set(schema.get("required", []))
    for prop, prop_schema in schema.get("properties", {}).items():
        param: dict[str, Any] = {
            "name": prop,
            "in": "query",
            "required": prop in required,
            "schema": {k: v for k, v in prop_schema.items() if k != "description"},
        }
        if "description" in prop_schema:
            param["description"] = prop_schema["description"]
        if prop_schema.get("type") == "array":
            param["style"], param["explode"] = "form", True
        params.append(param)
    return params


def _content(
    models: type[BaseModel] | tuple[type[BaseModel], ...], mode: JsonSchemaMode, refs: Mapping[Any, Any]
) -> dict[str, Any]:
    if isinstance(models, tuple):
        schema = refs[(models[0], mode)] if len(models) == 1 else {"oneOf": [refs[(m, mode)] for m in models]}
    else:
        schema = refs[(models, mode)]
    return {"application/json": {"schema": schema}}


def _responses(endpoint: Endpoint, refs: Mapping[Any, Any], auth_enabled: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, answer in sorted(endpoint.responses.items()):
        item: dict[str, Any] = {"description": answer.description}
        if answer.model is not None:
            item["content"] = _content(answer.model, "serialization", refs)
        if answer.headers:
            item["headers"] = {h: {"description": d, "schema": {"type": "string"}} for h, d in answer.headers.items()}
        out[str(status)] = item

    def add(status: int, description: str, model: type[BaseModel] = ApiErrorBody, **headers: str) -> None:
        if str(status) in out:
            return
        item: dict[str, Any] = {"description": description, "content": _content(model, "serialization", refs)}
        if headers:
            item["headers"] = {h: {"description": d, "schema": {"type": "string"}} for h, d in headers.items()}
        out[str(status)] = item

    if endpoint.secured and auth_enabled:
        add(401, "No bearer token, or one that is not valid (RFC 6750).", AuthErrorBody,
            **{"WWW-Authenticate": 'Bearer error="invalid_token", ... resource_metadata="..."'})
    if endpoint.query is not None or endpoint.body is not None:
        add(422, "The query or body does not match the schema (`REQUEST_INVALID`).")
    if endpoint.body is not None:
        add(400, "The body is not JSON (`REQUEST_MALFORMED`).")
        add(413, "The body is over the size limit (`PAYLOAD_TOO_LARGE`).")
        add(415, "The body is not `application/json` (`UNSUPPORTED_MEDIA_TYPE`).")
    if endpoint.secured:
        add(421, "DNS-rebinding protection: Host header not allowed (`HOST_NOT_ALLOWED`).")
    add(500, "A bug in the hub (`INTERNAL_ERROR`).")
    return dict(sorted(out.items()))


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _used(paths: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """The schemas the paths reach (query models are spelled out as parameters, not referenced)."""
    keep: set[str] = set()
    todo = _refs(paths)
    while todo:
        name = todo.pop()
        if name not in keep and name in components:
            keep.add(name)
            todo |= _refs(components[name]) - keep
    return {name: schema for name, schema in components.items() if name in keep}


def openapi_document(
    endpoints: Sequence[Endpoint],
    *,
    title: str,
    version: str,
    description: str,
    auth_enabled: bool,
) -> dict[str, Any]:
    """The whole document; `auth_enabled` adds the bearer security requirement where it applies."""
    refs, components = _schemas(endpoints)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operation: dict[str, Any] = {
            "operationId": endpoint.operation_id,
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "responses": _responses(endpoint, refs, auth_enabled),
        }
        if endpoint.description:
            operation["description"] = endpoint.description
        params = _parameters(endpoint, components, refs)
        if params:
            operation["parameters"] = params
        if endpoint.body is not None:
            operation["requestBody"] = {"required": True, "content": _content(endpoint.body, "validation", refs)}
        if auth_enabled:
            operation["security"] = [{"bearerAuth": []}] if endpoint.secured else []
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    components = _used(paths, components)
    error_table = "\n".join(f"- `{code}`: {text}" for code, text in API_ERROR_CODES.items())
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": title,
            "version": version,
            "description": f"{description}\n\nAPI error codes (`ApiErrorBody.error.code`):\n{error_table}",
        },
        "paths": paths,
        "components": {"schemas": components},
    }
    if auth_enabled:
        document["components"]["securitySchemes"] = {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from the hub's tokens file, or a JWT issued for this hub (audience checked).",
            }
        }
    return document
