"""docs/errors.md lists exactly the codes of hub/contract/errors.py, with the same kind and retryability."""

from __future__ import annotations

import re
from pathlib import Path

from hub.contract.errors import ErrorCode, http_status_code

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
ROW = re.compile(r"^\| `(?P<code>[A-Z_<>n0-9]+)` \| `(?P<kind>[a-z.]+)` \| (?P<retry>[^|]+) \| (?P<when>[^|]+) \|$")


def _rows() -> dict[str, dict[str, str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.strip())
        if match:
            rows[match["code"]] = match.groupdict()
    return rows


def test_every_code_is_documented_and_nothing_else():
    documented = _rows()
    in_code = {"HTTP_STATUS_<n>" if c.name == "HTTP_STATUS" else c.name: c for c in ErrorCode}
    assert set(documented) == set(in_code)
    for name, code in in_code.items():
        row = documented[name]
        assert row["kind"] == code.kind, name
        assert row["when"].strip(), name
        if name not in ("HTTP_STATUS_<n>", "PLAYBOOK_FAILED"):
            assert row["retry"].strip() == ("yes" if code.retryable else "no"), name


def test_http_status_family_matches_the_table():
    row = _rows()["HTTP_STATUS_<n>"]
    for status in (408, 425, 429, 500, 502, 503, 504):
        assert http_status_code(status)[1], status
    for status in (400, 401, 403, 404, 409, 422):
        assert not http_status_code(status)[1], status
    assert "429" in row["retry"] and "5xx" in row["retry"]


def test_every_kind_is_explained():
    text = DOC.read_text(encoding="utf-8")
    for kind in {c.kind for c in ErrorCode}:
        assert f"| `{kind}` | " in text, kind
