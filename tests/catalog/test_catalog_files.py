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


@pytest.mark.parametrize("spelling", ["absolute", "relative", "dot", "through a link"])
def test_default_paths_of_a_scan_are_default_path_of_each_file(tmp_path: Path, monkeypatch, spelling: str) -> None:
    from catalog.files import default_path, default_paths, scan_catalog

    real = tmp_path / "real"
    for name in ("a.yaml", "sub/b.yml", "sub/deeper/c.d.yaml", "other/t.yaml"):
        (real / name).parent.mkdir(parents=True, exist_ok=True)
        (real / name).write_text("x")
    (real / "linked.yaml").symlink_to(real / "sub" / "b.yml")  # its path is its target's
    (tmp_path / "via").symlink_to(real)
    monkeypatch.chdir(tmp_path if spelling != "dot" else real)
    root = {"absolute": real, "relative": Path("real"), "dot": Path("."), "through a link": tmp_path / "via"}[spelling]
    files = scan_catalog(root)
    real_root = os.path.realpath(root)
    got = default_paths(files, root, real_root)
    assert got == {f: default_path(f, real_root) for f in files}
    assert sorted(got.values()) == ["a", "other/t", "sub/b", "sub/b", "sub/deeper/c.d"]
