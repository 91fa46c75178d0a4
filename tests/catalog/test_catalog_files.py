"""Reading catalog files: a link is followed only while it stays inside the catalog directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from catalog.files import UnreadableFile, read_catalog_file


def test_links_inside_the_catalog_are_read_and_links_out_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "catalog", tmp_path / "secret.yaml"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "real.yaml").write_text("a: 1\n")
    outside.write_text("token: hunter2\n")
    os.symlink(root / "sub" / "real.yaml", root / "inside.yaml")
    os.symlink(outside, root / "out.yaml")
    assert read_catalog_file(root / "sub" / "real.yaml", root) == "a: 1\n"
    assert read_catalog_file(root / "inside.yaml", root) == "a: 1\n"
    with pytest.raises(UnreadableFile, match="outside the catalog directory"):
        read_catalog_file(root / "out.yaml", root)
    assert read_catalog_file(root / "out.yaml", None) == "token: hunter2\n"  # no root: no fence
