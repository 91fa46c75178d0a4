"""The forms a secret takes after the transforms the hub itself offers, so redaction finds them.

Redaction is exact string matching, which a secret passed through a filter would slip past. This
module lists, for one secret, the strings that would still reveal it after the hub's own
transforms: `upper` and `lower` (Jinja's), and base64 (the `b64encode` filter, and the
`Authorization: Basic base64(user:secret)` header, where the secret sits at an offset inside a
longer base64 text, standard or URL-safe alphabet).

Base64 at an unknown offset: base64 turns 3 bytes into 4 characters, so a secret that starts at
byte offset 0, 1 or 2 (mod 3) of the encoded text gives one of three "cores" (the characters
encoding only bytes of the secret); masking the core hides every whole group of the secret. For a
secret at the end of the encoded text (Basic auth), the tail with its padding is listed too, so
nothing of it stays visible. A few bits of the first and last partial groups may stay visible
when the secret sits in the middle of a longer base64 text: they cannot reveal the secret.

Not covered (docs/security.md): other encodings (hex, URL-encoding, JSON escapes of non-ASCII),
slices, reversals, hashes, or anything a Python step computes from a secret.
"""

from __future__ import annotations

import base64

_MIN_CORE = 6
"""Base64 cores shorter than this (secrets of under 5 bytes) would mask unrelated text."""


def derived_forms(secret: str) -> set[str]:
    """Every string to mask for `secret`, the secret itself included.

    >>> {"Tok3n-value", "TOK3N-VALUE", "tok3n-value", "VG9rM24tdmFsdWU="} <= derived_forms("Tok3n-value")
    True
    """
    forms = {secret, secret.upper(), secret.lower()}
    raw = secret.encode("utf-8")
    for offset in range(3):
        padded = base64.b64encode(b"\0" * offset + raw).decode()
        start = 4 * -(-offset // 3)  # the first group holding only bytes of the secret
        whole = 4 * ((offset + len(raw)) // 3)  # characters of the groups fully inside
        for encoded in (padded, padded.replace("+", "-").replace("/", "_")):
            core = encoded[start:whole]
            if len(core) >= _MIN_CORE:
                forms.add(core)
            tail = encoded[start:]
            if len(tail) >= _MIN_CORE:
                forms.add(tail)
                forms.add(tail.rstrip("="))
    return forms
