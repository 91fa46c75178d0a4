"""Keychain resolution and redaction: secret values are used by steps and shown nowhere.

`resolve_keychain` reads each entry from its environment variable or file when a run starts.
`Redactor` replaces every known secret value (and the values of `secret: true` inputs) with
`***` in anything about to leave the engine: events, envelopes, log lines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from catalog.model import KeychainEntry
from hub.contract.envelope import Failure
from hub.contract.errors import ErrorCode
from hub.contract.secret_forms import derived_forms

MASK = "***"
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary text everywhere


class Keychain(dict[str, str]):
    """The resolved values. An entry from a provider the hub cannot read (NoETL's `secret_manager`,
    `oauth2`, ...) is absent, and reading it fails with KEYCHAIN_MISSING saying what to write."""

    def __init__(self, values: Mapping[str, str], unavailable: Mapping[str, str]) -> None:
        super().__init__(values)
        self.unavailable = dict(unavailable)

    def __missing__(self, key: str) -> str:
        provider = self.unavailable.get(key)
        if provider is None:
            raise KeyError(key)
        raise Failure.of(
            ErrorCode.KEYCHAIN_MISSING,
            f"keychain entry {key!r} comes from provider {provider!r}, which this hub cannot read; "
            "give the entry `env: VARIABLE` or `file: PATH` instead",
        )


def resolve_keychain(
    entries: Iterable[KeychainEntry], environ: Mapping[str, str] | None = None
) -> Keychain:
    """Read every keychain entry; a missing required one is a KEYCHAIN_MISSING failure. Provider
    entries are left unresolved until a template reads them (see `Keychain`)."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    unavailable: dict[str, str] = {}
    for entry in entries:
        value: str | None
        if entry.provider is not None:
            unavailable[entry.name] = entry.provider
            continue
        if entry.env is not None:
            value = env.get(entry.env)
            source = f"environment variable {entry.env}"
        else:
            path = Path(os.path.expanduser(str(entry.file)))
            value = path.read_text().strip() if path.is_file() else None
            source = f"file {path}"
        if value is None:
            if entry.required:
                raise Failure.of(
                    ErrorCode.KEYCHAIN_MISSING, f"keychain entry {entry.name!r}: {source} is not set"
                )
            continue
        values[entry.name] = value
    return Keychain(values, unavailable)


class Redactor:
    """Masks known secret strings inside nested data. With no secrets it returns data as is.

    Besides each value as written it masks the forms the hub's own templates and bridges can make
    of it (`hub.contract.secret_forms`): upper and lower case, and base64 (the `b64encode` filter,
    an HTTP Basic-auth header built from a secret) at any position inside a longer base64 text.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._raw = frozenset(s for s in secrets if isinstance(s, str) and len(s) >= _MIN_SECRET_LENGTH)
        if not self._raw:  # most runs have no secrets
            self._secrets: list[str] = []
            return
        found = {form for s in self._raw for form in derived_forms(s)}
        self._secrets = sorted(found, key=len, reverse=True)  # longest first: no partial leftovers

    def __bool__(self) -> bool:
        return bool(self._raw)

    def with_secrets(self, more: Iterable[str]) -> Redactor:
        """This redactor's secrets and `more` (a sub-run's redactor extends its parent's)."""
        return Redactor([*self._raw, *more])

    def learn(self, secret: str) -> None:
        """Mask `secret` from now on, everywhere this redactor is used (a value a step read at run
        time, e.g. a `secrets` step: the run's events, envelope and diagnosis share this object)."""
        if isinstance(secret, str) and len(secret) >= _MIN_SECRET_LENGTH and secret not in self._raw:
            self._raw = self._raw | {secret}
            self._secrets = sorted({*self._secrets, *derived_forms(secret)}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def __call__(self, value: Any) -> Any:
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self(k): self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        return value
