"""`kind: Prompt` and `kind: Resource` files: what loading checks, with file:line, and how the
catalog serves them beside playbooks (a broken edit keeps the last good version)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from catalog.catalog import Catalog
from catalog.loader import check_document
from catalog.prompts import Prompt
from catalog.resources import Resource

PROMPT = """\
apiVersion: agenthub/v1
kind: Prompt
metadata: {name: greet, description: Greets someone}
arguments:
  who: {description: Whom to greet, enum: [Ada, Alan]}
messages:
  - {role: user, content: "Say hello to {{ who }}."}
"""
RESOURCE = """\
apiVersion: agenthub/v1
kind: Resource
metadata: {name: order}
uriTemplate: shop://orders/{id}/lines/{+rest}
text: "order {{ id }} {{ rest }}"
"""


def test_prompts_and_resources_load_as_their_own_kinds():
    assert isinstance(check_document(PROMPT, "greet.yaml").model, Prompt)
    resource = check_document(RESOURCE, "order.yaml").model
    assert isinstance(resource, Resource)
    assert resource.match("shop://orders/7/lines/a/b") == {"id": "7", "rest": "a/b"}
    assert resource.match("shop://orders/7/8/lines/x") is None  # {id} is one segment


def test_a_template_may_use_only_declared_names_and_problems_have_lines():
    loaded = check_document(PROMPT.replace("{{ who }}", "{{ whom }}"), "greet.yaml")
    assert loaded.model is None
    [problem] = loaded.problems
    assert (problem.line, problem.field) == (7, "messages[0].content")
    assert "whom" in problem.message and "not a declared argument" in problem.message
    loaded = check_document(RESOURCE.replace("{{ rest }}", "{{ secret }}"), "order.yaml")
    assert "secret" in loaded.problems[0].message and "variable of the URI template" in loaded.problems[0].message


def test_shape_errors_name_the_field():
    both = check_document(RESOURCE.replace("uriTemplate:", "uri: shop://x\nuriTemplate:"), "r.yaml")
    assert any("exactly one of `uri` and `uriTemplate`" in p.message for p in both.problems)
    bad_blob = check_document(RESOURCE.replace('text: "order {{ id }} {{ rest }}"', "blob: '***'"), "r.yaml")
    assert any(p.field == "blob" and "base64" in p.message for p in bad_blob.problems)
    bad_default = check_document(PROMPT.replace("enum: [Ada, Alan]}", "enum: [Ada, Alan], default: Bob}"), "p.yaml")
    assert any("not one of enum" in p.message for p in bad_default.problems)
    image = check_document(PROMPT.replace('content: "Say hello to {{ who }}."', "content: {type: image}"), "p.yaml")
    assert any("image content needs data, mimeType" in p.message for p in image.problems)


def test_the_catalog_serves_them_and_keeps_the_last_good_version(tmp_path: Path):
    (tmp_path / "greet.yaml").write_text(PROMPT)
    (tmp_path / "order.yaml").write_text(RESOURCE)
    (tmp_path / "twin.yaml").write_text(PROMPT)
    catalog = Catalog(tmp_path)
    problems = catalog.load()
    assert [p.name for p in catalog.prompts()] == ["greet"] and catalog.prompt("greet") is not None
    assert [r.name for r in catalog.resources()] == ["shop://orders/{id}/lines/{+rest}"]
    assert len(problems) == 1 and "prompt name 'greet' is already used by" in problems[0].message
    generation = catalog.generation
    (tmp_path / "twin.yaml").unlink()
    (tmp_path / "greet.yaml").write_text(textwrap.dedent(PROMPT).replace("kind: Prompt", "kind: Prompt\nbogus: 1"))
    assert catalog.load()  # the broken edit is reported ...
    assert catalog.prompt("greet") is not None  # ... and the last good version still served
    (tmp_path / "greet.yaml").write_text(PROMPT.replace("Say hello", "Wave"))
    assert catalog.load() == [] and catalog.generation > generation  # a changed prompt is a change
    assert "Wave" in catalog.prompt("greet").source
