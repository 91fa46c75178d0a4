"""The token verifiers on their own: JWKS (RS256, ES256) from a real loopback HTTP server, HS256,
tokens files; and how `serve` reads its settings."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hub.http.auth import (
    AuthConfig,
    ChainVerifier,
    JwtVerifier,
    TokenEntry,
    TokensFileVerifier,
    append_token,
    hash_token,
)
from hub.http.app import HttpSettings, is_loopback, transport_security
from hub.http.serve import settings_from
from hub.http.serve_flags import add_arguments

AUD = "https://hub.example/mcp"


def _jwk(private_key: object, kid: str, alg: str) -> dict:
    algorithm = jwt.get_algorithm_by_name(alg)
    public = json.loads(algorithm.to_jwk(private_key.public_key()))  # type: ignore[attr-defined]
    return {**public, "kid": kid, "alg": alg, "use": "sig"}


@pytest.fixture
def keys():
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1())}


def _claims(**extra: object) -> dict:
    return {"sub": "svc", "aud": AUD, "exp": int(time.time()) + 300, "scope": "run billing", **extra}


async def test_jwks_rs256_and_es256(http_server, keys):
    http_server.script("/jwks", (200, {"keys": [_jwk(keys["rsa"], "r1", "RS256"), _jwk(keys["ec"], "e1", "ES256")]}))
    verifier = JwtVerifier(audience=[AUD], jwks_url=f"{http_server.url}/jwks", issuer="https://idp.example")
    for key, kid, alg in ((keys["rsa"], "r1", "RS256"), (keys["ec"], "e1", "ES256")):
        token = jwt.encode(_claims(iss="https://idp.example", client_id="app"), key, algorithm=alg,
                           headers={"kid": kid})
        access = await verifier.verify_token(token)
        assert access is not None
        assert access.subject == "svc" and access.client_id == "app" and access.scopes == ["run", "billing"]
        assert access.resource == AUD and access.claims["iss"] == "https://idp.example"
    assert len(http_server.hits("/jwks")) == 1  # cached

    wrong_issuer = jwt.encode(_claims(iss="https://evil.example"), keys["rsa"], algorithm="RS256", headers={"kid": "r1"})
    assert await verifier.verify_token(wrong_issuer) is None
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(iss="https://idp.example"), other_key, algorithm="RS256", headers={"kid": "r1"})
    assert await verifier.verify_token(forged) is None


async def test_jwks_refetches_on_an_unknown_kid_but_not_in_a_loop(http_server, keys, monkeypatch):
    import hub.http.auth

    monkeypatch.setattr(hub.http.auth, "JWKS_MIN_REFETCH", 0.0)
    http_server.script("/jwks", (200, {"keys": [_jwk(keys["rsa"], "old", "RS256")]}),
                       (200, {"keys": [_jwk(keys["rsa"], "old", "RS256"), _jwk(keys["ec"], "new", "ES256")]}))
    verifier = JwtVerifier(audience=[AUD], jwks_url=f"{http_server.url}/jwks")
    assert await verifier.verify_token(jwt.encode(_claims(), keys["rsa"], "RS256", headers={"kid": "old"}))
    rotated = jwt.encode(_claims(), keys["ec"], "ES256", headers={"kid": "new"})
    assert await verifier.verify_token(rotated) is not None
    assert len(http_server.hits("/jwks")) == 2
    monkeypatch.setattr(hub.http.auth, "JWKS_MIN_REFETCH", 30.0)
    for _ in range(3):  # unknown kids do not make the hub hammer the JWKS endpoint
        assert await verifier.verify_token(jwt.encode(_claims(), keys["ec"], "ES256", headers={"kid": "ghost"})) is None
    assert len(http_server.hits("/jwks")) == 2


async def test_algorithm_confusion_is_refused(http_server, keys):
    http_server.script("/jwks", (200, {"keys": [_jwk(keys["rsa"], "r1", "RS256")]}))
    verifier = JwtVerifier(audience=[AUD], jwks_url=f"{http_server.url}/jwks")
    unsigned = jwt.encode(_claims(), None, algorithm="none")
    assert await verifier.verify_token(unsigned) is None
    hmac_signed = jwt.encode(_claims(), "a-shared-secret-that-is-long-enough!!", algorithm="HS256",
                             headers={"kid": "r1"})
    assert await verifier.verify_token(hmac_signed) is None
    with pytest.raises(ValueError, match="cannot be used"):
        JwtVerifier(audience=[AUD], secret="s" * 32, algorithms=["RS256"])
    with pytest.raises(ValueError, match="audience"):
        JwtVerifier(audience=[], secret="s" * 32)


async def test_an_unreachable_jwks_refuses_tokens_without_raising(keys):
    verifier = JwtVerifier(audience=[AUD], jwks_url="http://127.0.0.1:9/jwks")
    token = jwt.encode(_claims(), keys["rsa"], "RS256", headers={"kid": "r1"})
    assert await verifier.verify_token(token) is None


async def test_tokens_file_hashes_expiry_and_reload(tmp_path: Path, monkeypatch):
    import hub.http.auth

    monkeypatch.setattr(hub.http.auth, "TOKENS_FILE_CHECK_INTERVAL", 0.0)
    file = tmp_path / "tokens.yaml"
    append_token(file, TokenEntry(sha256=hash_token("alpha"), subject="a", scopes=["x"]))
    append_token(file, TokenEntry(sha256=hash_token("old"), subject="o", expires_at=int(time.time()) - 1))
    assert "alpha" not in file.read_text() and oct(file.stat().st_mode & 0o777) == "0o600"
    verifier = TokensFileVerifier(file)
    access = await verifier.verify_token("alpha")
    assert access is not None and access.subject == "a" and access.client_id == "a" and access.scopes == ["x"]
    assert await verifier.verify_token("old") is None
    assert await verifier.verify_token("beta") is None
    file.write_text(json.dumps({"tokens": [{"sha256": hash_token("beta"), "subject": "b"}]}))  # JSON works too
    assert (await verifier.verify_token("beta")) is not None
    assert await verifier.verify_token("alpha") is None
    file.write_text("tokens: [{sha256: nothex, subject: c}]")  # a broken edit keeps the last good tokens
    assert (await verifier.verify_token("beta")) is not None


async def test_chain_tries_each_verifier(tmp_path: Path):
    file = tmp_path / "t.yaml"
    append_token(file, TokenEntry(sha256=hash_token("plain"), subject="p"))
    config = AuthConfig(tokens_file=file, jwt_secret="k" * 32)
    verifier = config.verifier(default_audience=AUD)
    assert isinstance(verifier, ChainVerifier)
    assert (await verifier.verify_token("plain")).subject == "p"
    assert (await verifier.verify_token(jwt.encode(_claims(), "k" * 32, "HS256"))).subject == "svc"
    other_audience = jwt.encode(_claims(aud="https://other/mcp"), "k" * 32, "HS256")
    assert await verifier.verify_token(other_audience) is None  # the default audience is this hub's /mcp URL
    assert AuthConfig().verifier(default_audience=AUD) is None


def test_loopback_and_dns_rebinding_settings():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("hub.example.com")
    local = transport_security(HttpSettings())
    assert local.enable_dns_rebinding_protection and "127.0.0.1:*" in local.allowed_hosts
    public = transport_security(HttpSettings(host="0.0.0.0", public_url="https://hub.example.com"))
    assert public.enable_dns_rebinding_protection
    assert public.allowed_hosts == ["hub.example.com"] and public.allowed_origins == ["https://hub.example.com"]
    assert not transport_security(HttpSettings(host="0.0.0.0")).enable_dns_rebinding_protection
    assert HttpSettings(host="::", port=9).mcp_url == "http://127.0.0.1:9/mcp"
    assert HttpSettings(host="::1", port=9).mcp_url == "http://[::1]:9/mcp"


def test_serve_settings_flags_over_environment():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    env = {"AGENTHUB_PORT": "9000", "AGENTHUB_ALLOWED_HOSTS": "a.example, b.example",
           "AGENTHUB_JWT_SECRET": "from-env", "AGENTHUB_JWT_AUDIENCE": "x,y", "AGENTHUB_HOST": "127.0.0.1"}
    settings = settings_from(parser.parse_args(["--port", "0", "--allowed-host", "c.example"]), env)
    assert settings.port == 0 and settings.host == "127.0.0.1"
    assert settings.allowed_hosts == ["c.example"]
    assert settings.auth.jwt_secret == "from-env" and settings.auth.jwt_audience == ["x", "y"]
    assert settings.auth.enabled
    defaults = settings_from(parser.parse_args([]), {})
    assert (defaults.host, defaults.port, defaults.auth.enabled) == ("127.0.0.1", 8765, False)
    assert "from-env" not in repr(settings.auth)  # the secret stays out of logs
