"""HTTP plumbing of the REST API: errors as JSON bodies, query and body parsing into pydantic
models, the guard that turns failures into answers, and the status code of an envelope."""

from __future__ import annotations

import json
import logging
import typing
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from hub.contract.envelope import Envelope
from hub.contract.errors import ErrorCode
from hub.http.rest_models import MAX_VERSION

log = logging.getLogger("agenthub.rest")

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]
JSON_TYPES = ("application/json",)


class ApiProblem(Exception):
    """A refusal of the API itself, answered as `ApiErrorBody`."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def response(self) -> JSONResponse:
        return api_error(self.status, self.code, self.message, self.details)


def api_error(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status)


def _validation_details(exc: ValidationError, where: str) -> dict[str, Any]:
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return {"errors": [{"loc": [where, *e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]}


def parse_query(request: Request, model: type[M]) -> M:
    """The query string as `model`; list fields take repeated and comma-separated values."""
    params = request.query_params
    unknown = sorted(set(params.keys()) - set(model.model_fields))
    if unknown:
        raise ApiProblem(422, "REQUEST_INVALID", f"unknown query parameter(s): {', '.join(unknown)}",
                         {"errors": [{"loc": ["query", k], "msg": "unknown parameter", "type": "extra_forbidden"}
                                     for k in unknown]})
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name not in params:
            continue
        if typing.get_origin(field.annotation) is list:
            values[name] = [part.strip() for raw in params.getlist(name) for part in raw.split(",") if part.strip()]
        else:
            values[name] = params[name]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise ApiProblem(422, "REQUEST_INVALID", "the query does not match the schema",
                         _validation_details(exc, "query")) from None


async def parse_body(request: Request, model: type[M]) -> M:
    """The JSON body as `model`: 415 without a JSON content type, 400 when not JSON, 422 when wrong.

    Requiring `application/json` also keeps browsers from posting here with a "simple" (no
    preflight) cross-site form request.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in JSON_TYPES and not content_type.endswith("+json"):
        raise ApiProblem(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")
    try:
        data = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiProblem(400, "REQUEST_MALFORMED", f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise ApiProblem(400, "REQUEST_MALFORMED", "the body is nested too deeply to read") from None
    try:
        return model.model_validate(data)
    except RecursionError:
        raise ApiProblem(422, "REQUEST_INVALID", "the body is nested too deeply") from None
    except ValidationError as exc:
        raise ApiProblem(422, "REQUEST_INVALID", "the body does not match the schema",
                         _validation_details(exc, "body")) from None


def guarded(handler: Handler) -> Handler:
    """Turns ApiProblem into its body and any other exception into a logged 500 body."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiProblem as problem:
            return problem.response()
        except ClientDisconnect:  # gone (or cut off by the body limit): nobody reads the answer
            return Response(status_code=400)
        except Exception as exc:
            log.exception("REST %s %s failed", request.method, request.url.path)
            # the exception's text stays in the log: it can carry paths, values or SQL
            return api_error(500, "INTERNAL_ERROR", f"{type(exc).__name__} (details in the server log)")

    return run


def envelope_status(envelope: Envelope) -> int:
    """The HTTP status of an execute or cancel answer (see the module docstring)."""
    if envelope.status == "running":
        return 202
    code = envelope.error.code if envelope.error is not None else None
    return {
        ErrorCode.PLAYBOOK_NOT_FOUND.name: 404,
        ErrorCode.INPUT_INVALID.name: 422,
        ErrorCode.TOO_MANY_EXECUTIONS.name: 429,
    }.get(code or "", 200)


class MethodDispatch:
    """The app of each method of one path (the route has checked the method already; HEAD is GET).
    A class, not a function: Starlette would take a function for a request handler."""

    def __init__(self, apps: dict[str, ASGIApp]) -> None:
        self.apps = apps

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        method = scope["method"]
        app = self.apps.get(method) or self.apps["GET"]  # only HEAD reaches here without its own app
        await app(scope, receive, send)


def check_pinned_ref(ref: str) -> None:
    """A `path@N` whose N is over `MAX_VERSION` is a 422 naming it (as `version=N` is)."""
    tail = ref.rpartition("@")[2] if "@" in ref else ""
    if tail.isascii() and tail.isdigit() and (len(tail) > 18 or int(tail) > MAX_VERSION):
        raise ApiProblem(422, "REQUEST_INVALID", f"version {tail[:20]} of {ref.rpartition('@')[0]!r} is over "
                         f"the limit of {MAX_VERSION}",
                         {"errors": [{"loc": ["path"], "msg": f"version over {MAX_VERSION}", "type": "value_error"}]})
