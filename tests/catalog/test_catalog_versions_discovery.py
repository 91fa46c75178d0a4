"""The versioned catalog: directory loading, broken files, versions and pins, clashes, discovery."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from catalog.catalog import Catalog

from catalog.entries import CatalogEntry
from catalog.versions import MemoryLedger


def playbook_text(
    name: str,
    *,
    title: str = "A playbook",
    description: str = "",
    agent: bool = False,
    capabilities: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    path: str | None = None,
    step: str = "only",
) -> str:
    lines = [
        "apiVersion: agenthub/v1",
        "kind: Playbook",
        "metadata:",
        f"  name: {name}",
        f"  title: {title}",
        f"  description: '{description}'",
        f"  agent: {'true' if agent else 'false'}",
        f"  capabilities: [{', '.join(capabilities)}]",
        f"  tags: [{', '.join(tags)}]",
    ]
    if path:
        lines.append(f"  path: {path}")
    lines += ["input:", "  who: {type: string, default: world}", "workflow:", f"  - step: {step}",
              "    tool: {kind: noop}"]
    return "\n".join(lines) + "\n"


def write(root: Path, relative: str, text: str) -> Path:
    file = root / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")
    return file


def test_one_broken_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, "a/good_one.yaml", playbook_text("good_one"))
    broken = write(tmp_path, "b/broken.yaml", "apiVersion: agenthub/v1\nkind: Playbook\nmetadata: {name: x\n")
    write(tmp_path, "c/good_two.yml", playbook_text("good_two"))
    catalog = Catalog(tmp_path)
    problems = catalog.load()
    assert [e.path for e in catalog.entries()] == ["a/good_one", "c/good_two"]
    assert list(catalog.problems) == [str(broken)]
    assert len(problems) == 1
    assert problems[0].file == str(broken)
    assert problems[0].line == 4
    assert "YAML syntax error" in problems[0].message


def test_hidden_files_and_other_suffixes_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "visible.yaml", playbook_text("visible"))
    write(tmp_path, ".hidden.yaml", playbook_text("hidden_file"))
    write(tmp_path, ".git/x.yaml", playbook_text("hidden_dir"))
    write(tmp_path, "notes.txt", "not yaml")
    catalog = Catalog(tmp_path)
    assert catalog.load() == []
    assert [e.name for e in catalog.entries()] == ["visible"]


def test_entry_fields_and_schemas(tmp_path: Path) -> None:
    source = playbook_text("hello", title="Hello", description="Says hello", agent=True,
                           capabilities=("greeting",), tags=("demo",))
    file = write(tmp_path, "examples/hello.yaml", source)
    catalog = Catalog(tmp_path)
    catalog.load()
    entry = catalog.get("examples/hello")
    assert isinstance(entry, CatalogEntry)
    assert (entry.path, entry.version, entry.name, entry.kind) == ("examples/hello", 1, "hello", "Playbook")
    assert entry.ref == "examples/hello@1"
    assert entry.file == str(file)
    assert entry.source == source
    assert len(entry.digest) == 64
    assert (entry.title, entry.description, entry.agent) == ("Hello", "Says hello", True)
    assert (entry.capabilities, entry.tags) == (["greeting"], ["demo"])
    assert entry.input_schema["properties"]["who"] == {"type": "string", "default": "world"}
    assert entry.output_schema is None


def test_metadata_path_overrides_the_file_path(tmp_path: Path) -> None:
    write(tmp_path, "x/y.yaml", playbook_text("named", path="tools/named"))
    catalog = Catalog(tmp_path)
    catalog.load()
    assert [e.path for e in catalog.entries()] == ["tools/named"]


def test_versions_follow_content(tmp_path: Path) -> None:
    file = write(tmp_path, "flows/hello.yaml", playbook_text("hello", title="First"))
    catalog = Catalog(tmp_path, ledger=MemoryLedger())
    catalog.load()
    assert catalog.get("flows/hello").version == 1
    generation = catalog.generation

    file.write_text(playbook_text("hello", title="Second"), encoding="utf-8")
    catalog.load()
    current = catalog.get("hello")
    assert (current.version, current.title) == (2, "Second")
    assert catalog.generation > generation
    assert catalog.versions("flows/hello") == [1, 2]

    old = catalog.get("flows/hello@1")
    assert old is not None
    assert (old.version, old.title, old.path) == (1, "First", "flows/hello")
    assert catalog.get("flows/hello", version=1) is old  # cached
    assert catalog.get("hello@2") is current
    assert catalog.get("flows/hello@latest") is current
    assert catalog.get("flows/hello@9") is None

    file.write_text(playbook_text("hello", title="First"), encoding="utf-8")
    catalog.load()
    assert (catalog.get("flows/hello").version, catalog.get("flows/hello").title) == (1, "First")


def test_unchanged_reload_keeps_generation(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", playbook_text("a"))
    catalog = Catalog(tmp_path)
    catalog.load()
    generation = catalog.generation
    before = catalog.get("a")
    catalog.load()
    assert catalog.generation == generation
    assert catalog.get("a") is before


def test_broken_edit_keeps_serving_the_previous_version(tmp_path: Path) -> None:
    file = write(tmp_path, "a.yaml", playbook_text("a", title="Good"))
    catalog = Catalog(tmp_path)
    catalog.load()
    file.write_text(playbook_text("a", title="Good").replace("step: only", "step: 1-bad"), encoding="utf-8")
    problems = catalog.load()
    assert [(p.file, p.line, p.field) for p in problems] == [(str(file), 13, "workflow[0].step")]
    entry = catalog.get("a")
    assert (entry.version, entry.title) == (1, "Good")
    assert catalog.problems[str(file)] == problems

    file.write_text(playbook_text("a", title="Fixed"), encoding="utf-8")
    assert catalog.load() == []
    assert catalog.problems == {}
    assert catalog.get("a").title == "Fixed"


def test_removed_file_disappears(tmp_path: Path) -> None:
    file = write(tmp_path, "gone.yaml", playbook_text("gone"))
    write(tmp_path, "stays.yaml", playbook_text("stays"))
    catalog = Catalog(tmp_path)
    catalog.load()
    generation = catalog.generation
    file.unlink()
    catalog.load()
    assert [e.name for e in catalog.entries()] == ["stays"]
    assert catalog.get("gone") is None
    assert catalog.generation == generation + 1


def test_name_and_path_clashes_are_reported_on_the_later_file(tmp_path: Path) -> None:
    write(tmp_path, "a/first.yaml", playbook_text("same"))
    second = write(tmp_path, "b/second.yaml", playbook_text("same"))
    write(tmp_path, "c/third.yaml", playbook_text("third", path="a/first"))
    catalog = Catalog(tmp_path)
    problems = catalog.load()
    assert [e.path for e in catalog.entries()] == ["a/first"]
    assert [(p.file, p.line, p.field) for p in problems] == [
        (str(second), 4, "metadata.name"),
        (str(tmp_path / "c/third.yaml"), 10, "metadata.path"),
    ]
    assert problems[0].message == f"tool name 'same' is already used by {tmp_path / 'a/first.yaml'}"
    assert "catalog path 'a/first' is already used by" in problems[1].message
    assert str(second) in catalog.problems


def test_get_by_name_and_unknown(tmp_path: Path) -> None:
    write(tmp_path, "deep/dir/tool.yaml", playbook_text("my_tool"))
    catalog = Catalog(tmp_path)
    catalog.load()
    assert catalog.get("my_tool").path == "deep/dir/tool"
    assert catalog.get("deep/dir/tool").name == "my_tool"
    assert catalog.get("nope") is None
    assert catalog.get("deep/dir/tool@x") is None


def test_add_a_playbook_from_outside_root(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    write(root, "a.yaml", playbook_text("a"))
    outside = write(tmp_path / "elsewhere", "one_off.yaml", playbook_text("one_off"))
    catalog = Catalog(root)
    catalog.load()
    entry, problems = catalog.add(outside.read_text(encoding="utf-8"), str(outside))
    assert problems == []
    assert (entry.path, entry.version, entry.file) == ("one_off", 1, str(outside))
    assert catalog.get("one_off") is entry
    catalog.load()  # a reload of root keeps it
    assert [e.path for e in catalog.entries()] == ["a", "one_off"]

    clash, problems = catalog.add(playbook_text("a"), None, path="other")
    assert clash is None
    assert problems[0].field == "metadata.name" and "already used" in problems[0].message

    bad, problems = catalog.add("kind: Playbook\n", "bad.yaml")
    assert bad is None
    assert {p.field for p in problems} == {"apiVersion", "metadata", "workflow"}


def test_find_filters(tmp_path: Path) -> None:
    write(tmp_path, "agents/triage.yaml", playbook_text(
        "triage", title="Failure triage", description="Diagnoses failed runs", agent=True,
        capabilities=("Diagnose", "summarize"), tags=("ops", "llm")))
    write(tmp_path, "agents/writer.yaml", playbook_text(
        "writer", title="Writer", description="Writes release notes", agent=True,
        capabilities=("summarize", "write"), tags=("docs", "llm")))
    write(tmp_path, "tools/fetch.yaml", playbook_text(
        "fetch", title="Fetch a URL", description="HTTP GET", capabilities=("http",), tags=("ops",)))
    catalog = Catalog(tmp_path)
    assert catalog.load() == []

    def names(entries: list[CatalogEntry]) -> list[str]:
        return [e.name for e in entries]

    assert names(catalog.find()) == ["triage", "writer", "fetch"]
    assert names(catalog.find(kind="playbook")) == ["triage", "writer", "fetch"]
    assert names(catalog.find(kind="McpServer")) == []
    assert names(catalog.find(agent=True)) == ["triage", "writer"]
    assert names(catalog.find(agent=False)) == ["fetch"]
    assert names(catalog.find(capabilities_any=["diagnose", "HTTP"])) == ["triage", "fetch"]
    assert names(catalog.find(capabilities_all=["SUMMARIZE", "write"])) == ["writer"]
    assert names(catalog.find(tags=["ops"])) == ["triage", "fetch"]
    assert names(catalog.find(tags=["ops", "llm"])) == ["triage"]
    assert names(catalog.find(text="release NOTES")) == ["writer"]
    assert names(catalog.find(text="tools/")) == ["fetch"]
    assert names(catalog.find(text="failed llm")) == ["triage"]
    assert names(catalog.find(text="failed write")) == []
    assert names(catalog.find(agent=True, tags=["llm"], text="summarize")) == ["triage", "writer"]


def test_missing_root_is_a_problem(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "absent")
    problems = catalog.load()
    assert len(problems) == 1 and "not found" in problems[0].message
    assert catalog.entries() == []
