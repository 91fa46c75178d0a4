"""Scrubbing secrets out of a failure signal before it leaves the process.

Two layers, because either alone leaks. The engine's `Redactor` masks the values it knows (the
run's keychain values and `secret: true` inputs), but a token the run never declared (a bearer
header echoed in an error body, a key in a traceback, a password in a connection string) is not
known to it; the patterns here catch those by shape. The patterns are deliberately greedy: a
masked harmless string costs a model a little context, a leaked key costs a rotation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
_MIN_SECRET_LENGTH = 4

# (name, pattern, replacement): the name documents what it catches; order matters (specific first)
_PATTERNS: list[tuple[str, re.Pattern[str], str]] = [
    ("pem private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S), MASK),
    ("authorization header", re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9\-._~+/]{8,}=*"), r"\1 " + MASK),
    ("url credentials", re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1" + MASK + "@"),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"), MASK),
    ("openai/anthropic key", re.compile(r"\b(sk|rk|pk)-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{16,}"), MASK),
    ("github token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), MASK),
    ("slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), MASK),
    ("google api key", re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), MASK),
    ("aws access key id", re.compile(r"\b(AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"), MASK),
    (
        "key=value secret",
        re.compile(
            r"(?i)(\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
            r"auth(?:orization)?|credentials?|private[_-]?key|session[_-]?id|cookie)[\w.-]*"
            r"(?<!Error)(?<!Exception)(?<!Warning)(?<!Failure)"  # `AuthenticationError: ...` names a type, not a key
            r"[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|digest|token)\s+)?)([^\s\"',;&}\]]{3,})"
        ),
        r"\1" + MASK,
    ),
    ("long hex", re.compile(r"\b[0-9a-fA-F]{32,}\b"), MASK),
]
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{32,}={0,2}")


def _looks_random(run: str) -> bool:
    """A long run of base64 characters that mixes upper, lower and digits and is not a path:
    how keys look, and how words, paths and UUIDs (which have dashes every few characters) do not."""
    body = run.rstrip("=")
    if body.count("/") >= 2 or body.count("-") >= 3 or body.count("_") >= 3:
        return False
    classes = sum((any(c.islower() for c in body), any(c.isupper() for c in body), any(c.isdigit() for c in body)))
    digits = sum(c.isdigit() for c in body)
    return classes == 3 and digits >= 3


class Scrubber:
    """Masks known secret values, then anything shaped like a credential, inside nested data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        found = {s for s in secrets if isinstance(s, str) and len(s) >= _MIN_SECRET_LENGTH}
        self._secrets = sorted(found, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        for _name, pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return _BASE64_RUN.sub(lambda m: MASK if _looks_random(m.group(0)) else m.group(0), value)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k if not isinstance(k, str) else self.text(k): self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        return value


def pattern_names() -> list[str]:
    """What the shape-based layer catches (for docs and tests)."""
    return [name for name, _, _ in _PATTERNS] + ["long random base64 run"]
