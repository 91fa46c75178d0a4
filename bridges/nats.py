"""`tool.kind: nats`: publish, request and key-value operations on NATS with nats-py (the `nats` extra).

NoETL's fields: `operation` (`publish`, `request`, `js_publish`, `kv_get`, `kv_put`, `kv_delete`,
`kv_keys`), `subject` and `data` for messages (`value` for `kv_put`), `bucket` and `key` for the
key-value store, and the server from `auth:` (a keychain entry holding the URL, or a JSON object
with `url`, `user`, `password`, `token`) or inline `nats_url` (`url`, `servers`) with `nats_user`,
`nats_password`, `nats_token`. A mapping or list is sent as JSON; replies and values that parse as
JSON come back parsed. `kv_get` of a missing key answers `{status: not_found, value: null}` as in
NoETL. One connection per step attempt, closed after.

Errors: cannot connect -> NATS_CONNECTION_ERROR (retryable); no reply in `timeout` -> NATS_TIMEOUT;
the server refusing (no responders, no such bucket, JetStream off) -> NATS_ERROR.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridges.connections import resolve_connection
from bridges.extras import require_extra
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.steps import StepCall

ALIASES = {
    "nats_url": "url", "url": "url", "server": "url", "servers": "url", "dsn": "url",
    "nats_user": "user", "user": "user", "nats_password": "password", "password": "password",
    "nats_token": "token", "token": "token",
}
Operation = Literal["publish", "request", "js_publish", "kv_get", "kv_put", "kv_delete", "kv_keys"]
NEEDS = {
    "publish": ("subject",), "request": ("subject",), "js_publish": ("subject",),
    "kv_get": ("bucket", "key"), "kv_put": ("bucket", "key"), "kv_delete": ("bucket", "key"), "kv_keys": ("bucket",),
}


class NatsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Operation
    subject: str | None = None
    data: Any = None
    value: Any = None
    headers: dict[str, str] | None = None
    bucket: str | None = None
    key: str | None = None
    stream: str | None = None
    timeout: float = Field(default=5.0, gt=0, description="Seconds to connect, and to wait for a reply or an ack.")
    auth: str | dict[str, Any] | None = None
    nats_url: str | None = None
    url: str | None = None
    servers: str | None = None
    nats_user: str | None = None
    nats_password: str | None = None
    nats_token: str | None = None

    @model_validator(mode="after")
    def _fields_of_operation(self) -> NatsConfig:
        missing = [f for f in NEEDS[self.operation] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"operation {self.operation!r} needs {', '.join(missing)}")
        return self

    def inline_fields(self) -> dict[str, Any]:
        names = ("nats_url", "url", "servers", "nats_user", "nats_password", "nats_token")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    @property
    def body(self) -> Any:
        return self.data if self.data is not None else self.value


def _encode(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (dict, list, bool, int, float)):
        return json.dumps(value).encode()
    return str(value).encode()


def _decode(raw: bytes | None) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


class NatsKind:
    name = "nats"
    config_model = NatsConfig
    raw_fields: frozenset[str] = frozenset()
    default_retry = None
    deadline_aware = False

    async def run(self, call: StepCall) -> Any:
        config = call.config
        assert isinstance(config, NatsConfig)
        nats = await require_extra(self.name, "nats", "nats-py", "nats")
        from nats import errors as core_errors
        from nats.js import errors as js_errors
        fields = resolve_connection(config.auth, config.inline_fields(), call.context.keychain,
                                    f"{call.step}.tool", aliases=ALIASES)
        if not fields.get("url"):
            raise Failure.of(ErrorCode.STEP_CONFIG_INVALID,
                             f"{call.step}: give the server in `nats_url` (or `auth:` naming a keychain entry)")
        client = await _connect(nats, fields, config.timeout, call.step)
        try:
            return await _operate(client, config, call.step)
        except Failure:
            raise
        except TimeoutError:
            raise Failure.of(ErrorCode.NATS_TIMEOUT,
                             f"{call.step}: {config.operation} got no answer within {config.timeout:g}s") from None
        except Exception as exc:
            if not isinstance(exc, (core_errors.Error, js_errors.Error)):
                raise
            if isinstance(exc, (core_errors.ConnectionClosedError, core_errors.UnexpectedEOF)):
                raise Failure.of(ErrorCode.NATS_CONNECTION_ERROR,
                                 f"{call.step}: the connection closed during {config.operation}") from None
            raise Failure.of(ErrorCode.NATS_ERROR,
                             f"{call.step}: {config.operation} refused: {type(exc).__name__}: {exc}".rstrip(": ")) from None
        finally:
            await client.close()


async def _connect(nats: Any, fields: dict[str, Any], timeout: float, step: str) -> Any:
    options: dict[str, Any] = {k: fields[k] for k in ("user", "password", "token") if fields.get(k)}
    url = str(fields["url"])
    shown = url.split("@")[-1]  # never the credentials a URL may carry


    async def quiet(error: Exception) -> None:
        """nats-py logs every failed attempt with a traceback; the envelope reports the failure."""

    try:
        # max_reconnect_attempts must be > 0 for nats-py to give up on the first connect at all
        return await asyncio.wait_for(
            nats.connect(servers=[s.strip() for s in url.split(",")], connect_timeout=timeout,
                         allow_reconnect=False, max_reconnect_attempts=1, reconnect_time_wait=0.1,
                         error_cb=quiet, **options),
            timeout * 2 + 1,
        )
    except Exception as exc:
        raise Failure.of(ErrorCode.NATS_CONNECTION_ERROR,
                         f"{step}: cannot connect to NATS at {shown}: {type(exc).__name__}: {exc}".rstrip(": ")) from None


async def _operate(client: Any, config: NatsConfig, step: str) -> dict[str, Any]:
    op = config.operation
    if op == "publish":
        await client.publish(config.subject, _encode(config.body), headers=config.headers)
        await client.flush(timeout=config.timeout)
        return {"status": "success", "subject": config.subject}
    if op == "request":
        reply = await client.request(config.subject, _encode(config.body), timeout=config.timeout,
                                     headers=config.headers)
        return {"status": "success", "subject": config.subject, "data": _decode(reply.data),
                "headers": dict(reply.headers or {})}
    js = client.jetstream(timeout=config.timeout)
    if op == "js_publish":
        ack = await js.publish(config.subject, _encode(config.body), stream=config.stream, headers=config.headers)
        return {"status": "success", "subject": config.subject, "stream": ack.stream, "seq": ack.seq}
    kv = await js.key_value(config.bucket)
    if op == "kv_get":
        from nats.js.errors import KeyNotFoundError

        try:
            entry = await kv.get(config.key)
        except KeyNotFoundError:
            return {"status": "not_found", "bucket": config.bucket, "key": config.key, "value": None}
        return {"status": "success", "bucket": config.bucket, "key": config.key,
                "value": _decode(entry.value), "revision": entry.revision}
    if op == "kv_put":
        revision = await kv.put(config.key, _encode(config.body))
        return {"status": "success", "bucket": config.bucket, "key": config.key, "revision": revision}
    if op == "kv_delete":
        await kv.delete(config.key)
        return {"status": "success", "bucket": config.bucket, "key": config.key}
    from nats.js.errors import NoKeysError

    try:
        keys = await kv.keys()
    except NoKeysError:
        keys = []
    return {"status": "success", "bucket": config.bucket, "keys": sorted(keys)}
