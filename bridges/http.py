"""`tool.kind: http`: one HTTP request with httpx, answered as {status, headers, body}, plus
NoETL's names for the same values, `status_code` and `data`.

NoETL's forms are read too: `params` (the query), `body:` as a mapping (sent as JSON; `data` and
`payload` are other names for it), `endpoint` for `url`, `timeout_seconds`, `verify_ssl`. A query
string written in `url` is kept, and `query`/`params` are added to it.

Statuses >= 400 fail the step with `HTTP_STATUS_<n>` (retryable for 408, 425, 429 and 5xx);
connection failures are HTTP_CONNECTION_ERROR and client timeouts HTTP_TIMEOUT, both retryable.
By default an http step is tried up to 3 times with exponential backoff and jitter; a
`Retry-After` header is honoured (the engine reads `details.retry_after`). One pooled client is
shared by all http steps of a hub. httpx is imported by the first http step, not at start-up
(~80 ms a hub serving no http step never pays).
"""

from __future__ import annotations

import base64
import json
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalog.model import RetryPolicy
from hub.contract.envelope import ErrorInfo, Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall

if TYPE_CHECKING:
    import httpx

_EXCERPT = 300


class HttpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = "GET"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    form: dict[str, Any] | None = None
    timeout: float = Field(default=30.0, gt=0, description="Per request, seconds.")
    follow_redirects: bool = True
    verify_ssl: bool = Field(default=True, description="Check the server's TLS certificate.")
    auth: dict[str, Any] | None = Field(
        default=None,
        description="`{type: bearer, token}` or `{type: basic, username, password}`; NoETL's credential "
        "sources (`source: adc`, `provider: ...`) load but answer a clear error when run.",
    )
    response: Literal["auto", "json", "text"] = "auto"
    idempotency_key: bool = Field(
        default=False,
        description="Send an `Idempotency-Key` header, stable per step attempt: a run resumed after its "
        "worker died repeats the interrupted request with the same key.",
    )

    @model_validator(mode="before")
    @classmethod
    def _upper_method(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("method"), str):
            value = {**value, "method": value["method"].upper()}
        return value

    @model_validator(mode="before")
    @classmethod
    def _noetl_names(cls, value: Any) -> Any:
        """NoETL's spellings: params, endpoint, timeout_seconds, body/data/payload as a mapping."""
        if not isinstance(value, dict):
            return value
        value = dict(value)
        for alias, name in (("params", "query"), ("endpoint", "url"), ("timeout_seconds", "timeout")):
            if alias in value and name not in value:
                value[name] = value.pop(alias)
        for alias in ("body", "data", "payload"):
            if alias in value and not isinstance(value[alias], str) and "json" not in value:
                value["json"] = value.pop(alias)
        return value

    @model_validator(mode="after")
    def _one_body(self) -> HttpConfig:
        given = [n for n in ("json", "body", "form") if self._given(n)]
        if len(given) > 1:
            raise ValueError(f"give at most one of json, body, form (got {', '.join(given)})")
        return self

    def _given(self, name: str) -> bool:
        field = "json_body" if name == "json" else name
        return field in self.model_fields_set


class HttpKind:
    name = "http"
    config_model = HttpConfig
    raw_fields: frozenset[str] = frozenset()
    default_retry = RetryPolicy(attempts=3, backoff=0.5, multiplier=2.0, max_delay=10.0, jitter=0.5)
    deadline_aware = False

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._unverified: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(headers={"user-agent": "agenthub"})
        return self._client

    def _insecure_http(self) -> httpx.AsyncClient:
        import httpx

        if self._unverified is None:
            self._unverified = httpx.AsyncClient(headers={"user-agent": "agenthub"}, verify=False)
        return self._unverified

    async def aclose(self) -> None:
        for client in (self._client, self._unverified):
            if client is not None:
                await client.aclose()
        self._client = self._unverified = None

    async def run(self, call: StepCall) -> Any:
        import httpx

        config = call.config
        assert isinstance(config, HttpConfig)
        timeout = config.timeout
        remaining = call.context.remaining()
        if remaining is not None:
            timeout = max(min(timeout, remaining), 0.001)
        query = {k: _query_value(v) for k, v in config.query.items() if v is not None}
        headers = {**config.headers, **_auth_headers(config.auth)} if config.auth else config.headers
        target = f"{config.method} {_display_url(config.url)}"
        if config.idempotency_key and not any(k.lower() == "idempotency-key" for k in headers):
            headers = {**headers, "Idempotency-Key": call.idempotency_key}
        try:
            client = self._http() if config.verify_ssl else self._insecure_http()
            response = await client.request(
                config.method,
                httpx.URL(config.url).copy_merge_params(query) if query else config.url,
                headers=headers,
                json=config.json_body if config._given("json") else None,
                content=config.body,
                data=config.form,
                timeout=timeout,
                follow_redirects=config.follow_redirects,
            )
        except httpx.TimeoutException as exc:
            raise Failure.of(ErrorCode.HTTP_TIMEOUT, f"{target}: {type(exc).__name__} after {timeout:g}s") from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise Failure.of(ErrorCode.STEP_CONFIG_INVALID, f"{target}: {exc}") from None
        except httpx.TransportError as exc:
            raise Failure.of(
                ErrorCode.HTTP_CONNECTION_ERROR, f"{target}: {type(exc).__name__}: {exc}"
            ) from None
        body = _decode(response, config.response)
        if response.status_code >= 400:
            raise Failure(_status_error(target, response, body), data=body)
        return {
            "status": response.status_code, "headers": dict(response.headers), "body": body,
            "status_code": response.status_code, "data": body,
        }


def _auth_headers(auth: dict[str, Any]) -> dict[str, str]:
    """The Authorization header of `auth`; a credential source the hub cannot use is refused."""
    kind = str(auth.get("type", "")).lower()
    if kind == "bearer" and isinstance(auth.get("token"), str):
        return {"Authorization": f"Bearer {auth['token']}"}
    if kind == "basic" and isinstance(auth.get("username"), str):
        pair = f"{auth['username']}:{auth.get('password') or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    source = auth.get("source") or auth.get("provider") or kind or "unknown"
    raise Failure.of(
        ErrorCode.STEP_CONFIG_INVALID,
        f"http auth from {source!r} is not available in this hub; write `auth: {{type: bearer, token: "
        "\"{{ keychain.name }}\"}` (or a `headers: {Authorization: ...}`) with a keychain entry read from env or file",
    )


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)) and not (isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value)):
        return json.dumps(value)
    return value


def _display_url(url: str) -> str:
    """The URL without its query string (where tokens like to hide)."""
    return url.split("?", 1)[0]


def _decode(response: httpx.Response, mode: str) -> Any:
    if mode == "text":
        return response.text
    is_json = "json" in response.headers.get("content-type", "")
    if mode == "json" or is_json:
        try:
            return response.json()
        except ValueError:
            if mode == "json":
                raise Failure.of(
                    ErrorCode.HTTP_RESPONSE_INVALID,
                    f"{response.request.method} {_display_url(str(response.request.url))}: "
                    f"response is not valid JSON: {response.text[:_EXCERPT]!r}",
                ) from None
    return response.text


def _status_error(target: str, response: httpx.Response, body: Any) -> ErrorInfo:
    excerpt = body if isinstance(body, str) else json.dumps(body, default=str)
    excerpt = excerpt[:_EXCERPT]
    details: dict[str, Any] = {"body_excerpt": excerpt}
    retry_after = _retry_after(response.headers.get("retry-after"))
    if retry_after is not None:
        details["retry_after"] = retry_after
    return ErrorInfo.http_status(
        response.status_code,
        f"{target} -> {response.status_code} {response.reason_phrase}: {excerpt}".rstrip(": "),
        details=details,
    )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None
