"""Where a data step's connection comes from: `auth:` (NoETL's name; `connection:` is the same)
naming a keychain entry, or written inline.

NoETL writes `auth: pg_local` (a credential by name), `auth: "{{ workload.pg_auth }}"` (a name
chosen by the caller), or a mapping (`{type: postgres, key: pg_local}`, or the fields themselves).
Here a name refers to the run's keychain; the entry's value is either a connection string (a DSN or
URL) or a JSON object of fields (`{"host": ..., "port": ..., "user": ..., "password": ...,
"database": ...}`). The fields a kind reads are normalized from NoETL's aliases (`db_host`, `dbname`,
`username`, ...). Secret values reach the kind only: the keychain's values are already known to the
run's redactor, so they are masked in every event and envelope.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode

ALIASES = {
    "host": "host", "db_host": "host", "hostname": "host",
    "port": "port", "db_port": "port",
    "user": "user", "username": "user", "db_user": "user",
    "password": "password", "db_password": "password",
    "database": "database", "dbname": "database", "db_name": "database",
    "dsn": "dsn", "url": "dsn", "connection_string": "dsn", "db_conn_string": "dsn", "conninfo": "dsn",
    "sslmode": "sslmode",
}
"""NoETL's connection field names (and common ones) -> the hub's."""

REFERENCE_KEYS = ("key", "credential", "name", "secret")
"""Keys of an `auth:` mapping that name a keychain entry."""


def _fields(value: Mapping[str, Any], aliases: Mapping[str, str]) -> dict[str, Any]:
    return {aliases[k]: v for k, v in value.items() if k in aliases and v is not None and v != ""}


def _entry(name: str, keychain: Mapping[str, Any], where: str) -> Any:
    if name not in keychain:
        declared = ", ".join(sorted(keychain)) or "none"
        raise Failure.of(
            ErrorCode.SECRET_NOT_FOUND,
            f"{where}: no keychain entry {name!r} (declared entries: {declared}); add it under "
            "`keychain:` with `env:` or `file:`",
        )
    return keychain[name]


def _from_value(value: Any, aliases: Mapping[str, str], where: str) -> dict[str, Any]:
    """A keychain value: a mapping of fields, a JSON object of fields, or a connection string."""
    if isinstance(value, Mapping):
        return _fields(value, aliases)
    text = str(value).strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise Failure.of(
                ErrorCode.STEP_CONFIG_INVALID, f"{where}: the keychain value looks like JSON but does not parse"
            ) from None
        if isinstance(parsed, dict):
            return _fields(parsed, aliases)
    return {aliases.get("dsn", "dsn"): text}


def resolve_connection(
    auth: str | Mapping[str, Any] | None,
    inline: Mapping[str, Any],
    keychain: Mapping[str, Any],
    where: str,
    *,
    aliases: Mapping[str, str] = ALIASES,
) -> dict[str, Any]:
    """The connection fields of a step: those of `auth` (a keychain name, a connection string, or
    a mapping), overridden by fields written inline on the tool block."""
    found: dict[str, Any] = {}
    if isinstance(auth, str) and auth.strip():
        name = auth.strip()
        if name in keychain:
            found = _from_value(keychain[name], aliases, where)
        elif "://" in name or "=" in name:
            found = {aliases.get("dsn", "dsn"): name}
        else:
            _entry(name, keychain, f"{where}.auth")
    elif isinstance(auth, Mapping):
        ref = next((auth[k] for k in REFERENCE_KEYS if isinstance(auth.get(k), str)), None)
        if ref is not None:
            found = _from_value(_entry(ref, keychain, f"{where}.auth"), aliases, where)
        found.update(_fields(auth, aliases))
    found.update(_fields(inline, aliases))
    return found
