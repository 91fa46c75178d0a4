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


def test_plain_scalars_read_as_pyyaml_reads_them_except_yaml12_booleans_and_timestamps() -> None:
    doc, problems = parse(
        """\
        hex: 0x1F
        grouped: 1_000
        octal: 017
        not_octal: 0o17
        binary: 0b101
        sexagesimal: 1:30
        signed: +12
        inf: .inf
        minus_inf: -.Inf
        exponent: 1.5e+3
        no_dot: 1e3
        trailing_dot: 6.
        tilde: ~
        null_word: null
        empty:
        plain_true: true
        upper_false: FALSE
        quoted_true: 'true'
        yes_word: yes
        day: 2024-01-31
        quoted_number: '12'
        """
    )
    assert problems == []
    assert doc is not None
    expected = {
        "hex": 31, "grouped": 1000, "octal": 15, "not_octal": "0o17", "binary": 5, "sexagesimal": 90,
        "signed": 12, "inf": float("inf"), "minus_inf": float("-inf"), "exponent": 1500.0, "no_dot": "1e3",
        "trailing_dot": 6.0, "tilde": None, "null_word": None, "empty": None, "plain_true": True,
        "upper_false": False, "quoted_true": "true", "yes_word": "yes", "day": "2024-01-31", "quoted_number": "12",
    }
    assert doc.data == expected
    assert {k: type(v) for k, v in doc.data.items()} == {k: type(v) for k, v in expected.items()}


def test_explicit_tags_are_built_by_pyyaml_and_unknown_ones_refused() -> None:
    doc, problems = parse(
        """\
        bool_yes: !!bool yes
        str_true: !!str true
        float_twelve: !!float 12
        int_quoted: !!int '0x1F'
        bytes: !!binary aGk=
        a_set: !!set {x: null}
        """
    )
    assert problems == []
    assert doc is not None
    assert doc.data == {"bool_yes": True, "str_true": "true", "float_twelve": 12.0, "int_quoted": 31,
                        "bytes": b"hi", "a_set": {"x"}}
    assert isinstance(doc.data["float_twelve"], float)
    doc, problems = parse("a: !local bar\n")
    assert doc is None
    assert (problems[0].line, problems[0].column) == (1, 4)
    assert "could not determine a constructor for the tag '!local'" in problems[0].message


def test_an_alias_is_the_anchors_value_placed_at_the_alias_key() -> None:
    doc, problems = parse(
        """\
        base: &b {x: 1, y: [1, 2]}
        copy: *b
        list: &l [a]
        nested: [*l]
        """
    )
    assert problems == []
    assert doc is not None
    assert doc.data["copy"] is doc.data["base"] and doc.data["nested"][0] is doc.data["list"]
    assert doc.positions[("copy",)] == (2, 1)
    assert doc.value_positions[("copy",)] == (1, 7)  # the anchored mapping
    assert ("copy", "x") not in doc.positions  # what is inside is placed at the anchor only
    assert doc.positions[("base", "y", 1)] == (1, 24)


def test_merge_lists_resolve_in_order_and_merged_values_keep_their_own_positions() -> None:
    doc, problems = parse(
        """\
        one: &one {a: 1, b: 1}
        two: &two {b: 2, c: 2}
        both:
          <<: [*one, *two]
          c: 3
        inline: {<<: {d: 4}}
        """
    )
    assert problems == []
    assert doc is not None
    assert doc.data["both"] == {"a": 1, "b": 1, "c": 3}
    assert doc.data["inline"] == {"d": 4}
    assert doc.positions[("both", "a")] == (1, 12)
    assert doc.positions[("both", "c")] == (5, 3)
    doc, problems = parse("a: {<<: [1]}\n")
    assert doc is None and "expected a mapping for merging" in problems[0].message


SCALARS = ["0x1F", "1_000", ".inf", ".NaN", "~", "true", "'true'", "yes", "1:30", "017", "-.5", "null", "''",
           "!!str 1", "!!int '1'", "!!float 1", "!!bool true", "!!binary aGk=", "2024-01-01", "\"q\"", "x y",
           "|\n    block"]


def test_the_data_is_what_pyyaml_builds_from_the_same_tags() -> None:
    """The reader builds the common tags itself; PyYAML's constructor on the same nodes is the
    reference (including merges, aliases, and every scalar spelling above)."""
    import yaml

    from catalog.yaml_source import _StrictLoader

    texts = [f"k{i}: {s}\n" for i, s in enumerate(SCALARS)] + [
        "".join(f"k{i}: {s}\n" for i, s in enumerate(SCALARS)),
        "a: &a [x, {y: 1}]\nb: {<<: {p: *a}, q: *a}\nc: [*a, *a]\n",
        "l: [1, [2, [3, {4a: ~}]]]\nm: {n: {o: {p: .5}}}\n",
    ]
    for text in texts:
        doc, problems = parse_yaml(text, "pb.yaml")
        assert problems == [], text
        assert doc is not None
        reference = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - the strict safe loader
        assert repr(doc.data) == repr(reference), text
