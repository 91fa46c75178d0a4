"""A bounded, seeded hypothesis run of catalog files: mutated playbooks and raw text. Loading
never raises and never hangs (every bad file is a problem naming it), and a real server whose
catalog receives the same files keeps serving."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml
from http_support import PLAYBOOKS, Served, wait_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.catalog import Catalog
from hub.engine.kinds.registry import StepKinds

CASES = 100
BASE = yaml.safe_load(textwrap.dedent(PLAYBOOKS["echo"]))
KEYS = ["apiVersion", "kind", "metadata", "input", "output", "workflow", "keychain", "timeout", "result",
        "name", "path", "scopes", "step", "tool", "next", "when", "loop", "retry", "set", "type", "default"]

leaves = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                   st.floats(allow_nan=False), st.text(max_size=20),
                   st.sampled_from(["{{ input.text }}", "{{ ''.__class__ }}", "{{ 'x' * 10**9 }}", "*", "&a", "!!python/object"]))
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=3)),
    max_leaves=12)


@st.composite
def mutated_playbook(draw: st.DrawFn) -> str:
    document: Any = yaml.safe_load(yaml.safe_dump(BASE))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        target = document
        path = draw(st.lists(st.sampled_from(KEYS + ["0", "echo"]), min_size=0, max_size=3))
        for key in path[:-1]:
            nxt = target.get(key) if isinstance(target, dict) else None
            if not isinstance(nxt, dict):
                break
            target = nxt
        if isinstance(target, dict):
            target[path[-1] if path else draw(st.sampled_from(KEYS))] = draw(values)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


raw_text = st.one_of(
    st.text(max_size=200),
    st.sampled_from(["a: &a [*a]", "x: !!python/name:os.system", "- - - -", "{{", "apiVersion: agenthub/v1\nkind: [",
                     "a: " + "[" * 200 + "]" * 200, "\ufeffkind: Playbook", "key: 1\nkey: 2"]),
)
documents = st.one_of(mutated_playbook(), raw_text)


def test_fuzzed_catalog_files_load_as_problems_never_errors(tmp_path: Path):
    folder = tmp_path / "catalog"
    folder.mkdir()
    catalog = Catalog(folder, tool_kinds=StepKinds.builtin().tool_specs())
    seen = {"files": 0}

    @settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(text=documents)
    def one(text: str) -> None:
        file = folder / "fuzzed.yaml"
        file.write_text(text, encoding="utf-8")
        problems = catalog.load()  # never raises
        for problem in problems:
            assert problem.file == str(file) and problem.message
        assert catalog.entries() or problems or not text.strip() or text.strip().startswith("#")
        seen["files"] += 1

    one()
    assert seen["files"] >= CASES


def test_a_serving_hub_survives_fuzzed_catalog_files(fuzz_server: Served):
    examples: list[str] = []

    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(text=documents)
    def collect(text: str) -> None:
        examples.append(text)

    collect()
    for index, text in enumerate(examples):
        (fuzz_server.catalog / f"fuzz_{index}.yaml").write_text(text, encoding="utf-8")
    with fuzz_server.client() as api:
        wait_for(lambda: api.get("/readyz").json()["problems"] > 0)
        assert api.get("/healthz").status_code == 200
        ran = api.post("/api/executions", json={"playbook": "echo", "arguments": {"text": "still"}})
        assert ran.status_code == 200 and ran.json()["status"] == "ok"
