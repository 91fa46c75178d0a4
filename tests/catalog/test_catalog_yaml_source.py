"""Strict YAML reading: positions of every value, and the documents it refuses."""

from __future__ import annotations

import textwrap

from catalog.problems import Problem, format_field
from catalog.yaml_source import parse_yaml


def parse(text: str):
    return parse_yaml(textwrap.dedent(text), "pb.yaml")


def test_positions_are_one_based_for_keys_items_and_values() -> None:
    doc, problems = parse(
        """\
        apiVersion: agenthub/v1
        workflow:
          - step: first
            tool:
              kind: http
              url: https://example.org
          - step: second
        """
    )
    assert problems == []
    assert doc is not None
    assert doc.data["workflow"][0]["tool"]["url"] == "https://example.org"
    assert doc.positions[("apiVersion",)] == (1, 1)
    assert doc.positions[("workflow", 0)] == (3, 5)
    assert doc.positions[("workflow", 0, "tool", "url")] == (6, 7)
    assert doc.value_positions[("workflow", 0, "tool", "url")] == (6, 12)
    assert doc.positions[("workflow", 1, "step")] == (7, 5)
    assert doc.nearest(("workflow", 1, "tool", "kind")) == (("workflow", 1), (7, 5))


def test_yaml12_booleans_and_no_timestamps() -> None:
    doc, problems = parse(
        """\
        retry: {on: [retryable]}
        flag: yes
        real: true
        day: 2024-01-31
        """
    )
    assert problems == []
    assert doc is not None
    assert doc.data == {"retry": {"on": ["retryable"]}, "flag": "yes", "real": True, "day": "2024-01-31"}


def test_block_scalar_style_is_recorded() -> None:
    doc, _ = parse(
        """\
        code: |
          one
          two
        """
    )
    assert doc is not None
    assert doc.styles[("code",)] == "|"
    assert doc.data["code"] == "one\ntwo\n"


def test_syntax_error_has_the_marker_line() -> None:
    doc, problems = parse(
        """\
        metadata:
          name: [unclosed
        workflow: []
        """
    )
    assert doc is None
    assert len(problems) == 1
    assert problems[0].file == "pb.yaml"
    assert problems[0].line == 3
    assert problems[0].message.startswith("YAML syntax error:")


def test_duplicate_keys_are_refused_at_the_second_key() -> None:
    doc, problems = parse(
        """\
        metadata:
          name: a
          title: t
          name: b
        kind: Playbook
        kind: Playbook
        """
    )
    assert doc is None
    assert [(p.line, p.column, p.field) for p in problems] == [(4, 3, "metadata.name"), (6, 1, "kind")]
    assert "duplicate key 'name' (first defined at line 2)" in problems[0].message


def test_more_than_one_document_is_refused() -> None:
    doc, problems = parse(
        """\
        a: 1
        ---
        b: 2
        """
    )
    assert doc is None
    assert problems[0].line == 2
    assert "exactly one YAML document" in problems[0].message


def test_top_level_must_be_a_mapping() -> None:
    doc, problems = parse("- step: a\n- step: b\n")
    assert doc is None
    assert (problems[0].line, problems[0].field) == (1, "")
    assert "must be a mapping" in problems[0].message and "a list" in problems[0].message


def test_empty_file_is_a_problem() -> None:
    doc, problems = parse("# only a comment\n")
    assert doc is None
    assert "empty" in problems[0].message


def test_non_string_keys_are_refused() -> None:
    doc, problems = parse("codes:\n  200: ok\n")
    assert doc is None
    assert (problems[0].line, problems[0].field) == (2, "codes")
    assert "keys must be strings" in problems[0].message


def test_recursive_alias_is_refused() -> None:
    doc, problems = parse("a: &x [1, *x]\n")
    assert doc is None
    assert "recursive alias" in problems[0].message


def test_an_alias_bomb_and_a_huge_document_are_refused_by_their_node_count() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6))
    doc, problems = parse(bomb)
    assert doc is None and "more than" in problems[0].message
    huge = "a: [" + ", ".join(["1"] * 201_000) + "]\n"  # no alias, but over the count by itself
    doc, problems = parse(huge)
    assert doc is None and "more than" in problems[0].message


def test_merge_keys_resolve_and_explicit_keys_win() -> None:
    doc, problems = parse(
        """\
        base: &base {host: localhost, port: 1}
        db:
          <<: *base
          port: 2
        """
    )
    assert problems == []
    assert doc is not None
    assert doc.data["db"] == {"host": "localhost", "port": 2}
    assert doc.positions[("db", "port")] == (4, 3)


def test_problem_str_and_field_rendering() -> None:
    problem = Problem("dir/pb.yaml", 7, 3, "workflow[2].tool.url", "Field required")
    assert str(problem) == "dir/pb.yaml:7:3: workflow[2].tool.url: Field required"
    assert str(Problem("pb.yaml", None, None, "", "cannot read")) == "pb.yaml: cannot read"
    assert format_field(("workflow", 2, "tool", "url")) == "workflow[2].tool.url"
    assert format_field(("input", "a.b")) == 'input["a.b"]'
    assert format_field((0, "x"), "input") == "input[0].x"
