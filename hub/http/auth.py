"""Bearer-token auth for the HTTP front door (MCP and REST alike).

The hub is an OAuth 2.1 *resource server* only: it verifies tokens, it never issues them. Each
verifier implements the SDK's `TokenVerifier` protocol (`verify_token(token) -> AccessToken | None`),
so the SDK's `BearerAuthBackend` / `RequireAuthMiddleware` answer 401 with `WWW-Authenticate: Bearer`,
and `get_access_token()` gives handlers the caller's scopes.

Two verifiers, combinable with `ChainVerifier` (the first that accepts a token wins):

* `TokensFileVerifier`: a YAML or JSON file of *hashed* tokens (sha256 hex of the raw token, never
  the token itself), each with a `subject` and `scopes`. Edits are picked up without a restart; a
  broken edit keeps the previous tokens and logs why.
* `JwtVerifier`: HS256/384/512 with a shared secret, or RS*/PS*/ES*/EdDSA with keys from a JWKS URL
  (fetched with httpx, cached, refetched on an unknown `kid` at most every `JWKS_MIN_REFETCH`
  seconds). `exp` is required, `aud` must name this hub, `iss` is checked when configured, scopes
  come from `scope` (space-separated) or `scp` (list or string). PyJWT (with `cryptography`) and
  httpx are imported by the JWT verifier itself: a hub without JWT auth starts ~130 ms sooner.

A verifier never raises: any doubt is a `None` (so: 401), with the reason logged at debug level.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from mcp.server.auth.provider import AccessToken, TokenVerifier
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

if TYPE_CHECKING:
    import jwt

log = logging.getLogger("agenthub.auth")

TOKEN_PREFIX = "ahub_"
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
KEY_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
JWKS_TTL = 300.0
JWKS_MIN_REFETCH = 30.0
TOKENS_FILE_CHECK_INTERVAL = 1.0


def hash_token(raw: str) -> str:
    """The sha256 hex digest under which a raw token is stored in a tokens file."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random bearer token (256 bits), prefixed so secret scanners can spot it."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def missing_scopes(granted: Sequence[str] | None, required: Sequence[str]) -> list[str]:
    """The required scopes a token lacks (all of `required` are needed)."""
    have = set(granted or ())
    return [scope for scope in required if scope not in have]


# -- tokens file -------------------------------------------------------------------------------


class TokenEntry(BaseModel):
    """One accepted token of a tokens file."""

    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(description="sha256 hex of the raw token (`agenthub token hash`).")
    subject: str = Field(min_length=1, description="Who holds the token (shown in logs and AccessToken.subject).")
    scopes: list[str] = Field(default_factory=list)
    client_id: str | None = Field(default=None, description="Defaults to the subject.")
    expires_at: int | None = Field(default=None, description="Unix seconds; the token is refused after it.")
    description: str | None = None

    @field_validator("sha256")
    @classmethod
    def _hex(cls, value: str) -> str:
        value = value.strip().lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("must be 64 hex characters (the sha256 of the token, not the token)")
        return value


class TokensFile(BaseModel):
    """`tokens:` list of a tokens file (a bare list is accepted too)."""

    model_config = ConfigDict(extra="forbid")

    tokens: list[TokenEntry] = Field(default_factory=list)


def load_tokens_file(path: Path) -> TokensFile:
    """Parse and check a tokens file; raises ValueError naming the file on any problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"tokens file {path}: {exc}") from None
    if raw is None:
        raw = {"tokens": []}
    elif isinstance(raw, list):
        raw = {"tokens": raw}
    try:
        parsed = TokensFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"tokens file {path}: {problems}") from None
    seen: set[str] = set()
    for entry in parsed.tokens:
        if entry.sha256 in seen:
            raise ValueError(f"tokens file {path}: the same token hash is listed twice ({entry.subject})")
        seen.add(entry.sha256)
    return parsed


def append_token(path: Path, entry: TokenEntry) -> None:
    """Add one entry to a tokens file (created if missing), keeping the others."""
    current = load_tokens_file(path) if path.exists() else TokensFile()
    current.tokens.append(entry)
    document = {"tokens": [t.model_dump(exclude_none=True) for t in current.tokens]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class TokensFileVerifier:
    """Accepts the tokens whose sha256 is listed in a file; reloads the file when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries = self._index(load_tokens_file(path))  # a broken file at start-up is fatal
        self._stamp = self._stat()
        self._checked = time.monotonic()

    @staticmethod
    def _index(parsed: TokensFile) -> dict[str, TokenEntry]:
        return {entry.sha256: entry for entry in parsed.tokens}

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _maybe_reload(self) -> None:
        now = time.monotonic()
        if now - self._checked < TOKENS_FILE_CHECK_INTERVAL:
            return
        self._checked = now
        stamp = self._stat()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            self._entries = self._index(load_tokens_file(self.path))
            log.info("tokens file %s reloaded (%d tokens)", self.path, len(self._entries))
        except ValueError as exc:
            log.warning("%s; keeping the previous tokens", exc)

    async def verify_token(self, token: str) -> AccessToken | None:
        self._maybe_reload()
        digest = hash_token(token)
        entry = self._entries.get(digest)
        # the dict look-up is on a hash of the secret; compare again in constant time anyway
        if entry is None or not hmac.compare_digest(entry.sha256, digest):
            return None
        if entry.expires_at is not None and entry.expires_at < time.time():
            log.debug("token of %s expired", entry.subject)
            return None
        return AccessToken(
            token=token,
            client_id=entry.client_id or entry.subject,
            scopes=list(entry.scopes),
            expires_at=entry.expires_at,
            subject=entry.subject,
            claims={"source": "tokens-file"},
        )


# -- JWT -----------------------------------------------------------------------------------------


class JwksCache:
    """Signing keys from a JWKS URL, cached for `ttl` seconds, refetched early on an unknown `kid`."""

    def __init__(self, url: str, *, ttl: float = JWKS_TTL, timeout: float = 5.0) -> None:
        self.url = url
        self.ttl = ttl
        self.timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._anonymous: list[jwt.PyJWK] = []
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        now = time.monotonic()
        stale = now - self._fetched > self.ttl
        unknown = kid is not None and kid not in self._keys and now - self._fetched > JWKS_MIN_REFETCH
        if stale or unknown:
            await self._refresh()
        if kid is not None:
            return self._keys.get(kid)
        candidates = [*self._keys.values(), *self._anonymous]
        return candidates[0] if len(candidates) == 1 else None

    async def _refresh(self) -> None:
        seen = self._fetched
        async with self._lock:
            if self._fetched != seen:  # another waiter fetched while this one waited
                return
            import httpx
            import jwt

            try:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.get(self.url, headers={"accept": "application/json"})
                    response.raise_for_status()
                    document = response.json()
                keyset = jwt.PyJWKSet.from_dict(document)
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                log.warning("fetching JWKS from %s failed: %s", self.url, exc)
                self._fetched = time.monotonic() - self.ttl + JWKS_MIN_REFETCH  # retry soon, not at once
                return
            self._keys = {k.key_id: k for k in keyset.keys if k.key_id}
            self._anonymous = [k for k in keyset.keys if not k.key_id]
            self._fetched = time.monotonic()


class JwtVerifier:
    """Verifies JWT bearer tokens: signature, `exp` (required), `nbf`, `aud` and optionally `iss`."""

    def __init__(
        self,
        *,
        audience: Sequence[str],
        secret: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        algorithms: Sequence[str] | None = None,
        leeway: float = 30.0,
    ) -> None:
        if (secret is None) == (jwks_url is None):
            raise ValueError("give exactly one of a JWT secret or a JWKS URL")
        if not audience:
            raise ValueError("a JWT audience is required (the tokens must be issued for this hub)")
        allowed = HMAC_ALGORITHMS if secret is not None else KEY_ALGORITHMS
        chosen = tuple(algorithms or allowed)
        wrong = [a for a in chosen if a not in allowed]
        if wrong:
            mode = "a shared secret" if secret is not None else "a JWKS URL"
            raise ValueError(f"algorithms {wrong} cannot be used with {mode} (allowed: {', '.join(allowed)})")
        self.audience = list(audience)
        self.issuer = issuer
        self.algorithms = list(chosen)
        self.leeway = leeway
        self._secret = secret
        self._jwks = JwksCache(jwks_url) if jwks_url is not None else None
        import jwt  # noqa: F401 - loaded when the verifier is built (start-up), not on the first request

    async def verify_token(self, token: str) -> AccessToken | None:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None  # not a JWT (maybe a tokens-file token): not ours
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            log.debug("JWT refused: algorithm %r not allowed", algorithm)
            return None
        key: Any
        if self._jwks is not None:
            jwk = await self._jwks.key(header.get("kid"))
            if jwk is None:
                log.debug("JWT refused: no signing key for kid %r", header.get("kid"))
                return None
            key = jwk.key
        else:
            key = self._secret
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "aud"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:  # a key of the wrong type, odd claims
            log.debug("JWT refused: %s", exc)
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or claims.get("sub") or "jwt"),
            scopes=_jwt_scopes(claims),
            expires_at=int(claims["exp"]),
            resource=_matched_audience(claims.get("aud"), self.audience),
            subject=str(claims["sub"]) if claims.get("sub") is not None else None,
            claims=claims,
        )


def _jwt_scopes(claims: dict[str, Any]) -> list[str]:
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _matched_audience(aud: Any, accepted: list[str]) -> str | None:
    values = [aud] if isinstance(aud, str) else list(aud or [])
    return next((v for v in values if v in accepted), None)


# -- composition ---------------------------------------------------------------------------------


class ChainVerifier:
    """Tries each verifier in turn; the first AccessToken wins."""

    def __init__(self, verifiers: Sequence[TokenVerifier]) -> None:
        self.verifiers = list(verifiers)

    async def verify_token(self, token: str) -> AccessToken | None:
        for verifier in self.verifiers:
            found = await verifier.verify_token(token)
            if found is not None:
                return found
        return None


class AuthConfig(BaseModel):
    """How HTTP callers authenticate; nothing set means no auth (loopback-only unless --insecure)."""

    tokens_file: Path | None = Field(default=None, description="AGENTHUB_TOKENS_FILE")
    jwt_secret: str | None = Field(default=None, repr=False, description="AGENTHUB_JWT_SECRET (HS256)")
    jwt_jwks_url: str | None = Field(default=None, description="AGENTHUB_JWT_JWKS_URL (RS256/ES256)")
    jwt_audience: list[str] = Field(
        default_factory=list, description="AGENTHUB_JWT_AUDIENCE (comma-separated); default: the hub's /mcp URL"
    )
    jwt_issuer: str | None = Field(default=None, description="AGENTHUB_JWT_ISSUER")
    jwt_algorithms: list[str] = Field(default_factory=list, description="AGENTHUB_JWT_ALGORITHMS")

    @property
    def enabled(self) -> bool:
        return self.tokens_file is not None or self.jwt_secret is not None or self.jwt_jwks_url is not None

    def verifier(self, default_audience: str) -> TokenVerifier | None:
        """The combined verifier, or None when auth is off. Raises ValueError on bad settings."""
        verifiers: list[TokenVerifier] = []
        if self.tokens_file is not None:
            verifiers.append(TokensFileVerifier(self.tokens_file))
        if self.jwt_secret is not None and self.jwt_jwks_url is not None:
            raise ValueError("give either a JWT secret or a JWKS URL, not both")
        if self.jwt_secret is not None or self.jwt_jwks_url is not None:
            verifiers.append(JwtVerifier(
                audience=self.jwt_audience or [default_audience],
                secret=self.jwt_secret,
                jwks_url=self.jwt_jwks_url,
                issuer=self.jwt_issuer,
                algorithms=self.jwt_algorithms or None,
            ))
        if not verifiers:
            return None
        return verifiers[0] if len(verifiers) == 1 else ChainVerifier(verifiers)
