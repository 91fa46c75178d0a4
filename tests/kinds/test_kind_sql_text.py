"""How `{{ ... }}` in SQL becomes bound parameters: by where the value stands (bare, a whole
literal, part of a literal), statements split on top-level `;`, and the spots no value may take."""

from __future__ import annotations

import pytest

from bridges.sql_text import render_sql
from hub.contract.envelope import Failure

CTX = {"n": 5, "s": "it's; --", "d": {"a": 1}}


def test_values_by_where_they_stand():
    [one] = render_sql("SELECT {{ n }}, '{{ s }}', 'x{{ n }}y%', {{ d }}", CTX, "w")
    assert one.text == "SELECT %s, %s, ('x' || %s || 'y%%'), %s"
    assert one.params == [5, "it's; --", "5", {"a": 1}]


def test_statements_split_outside_quotes_and_comments():
    statements = render_sql("SELECT 'a;b'; -- c;d\nSELECT $$e;f$$; /* g;h */ SELECT ?", CTX, "w", placeholder="?")
    assert [s.text.strip() for s in statements] == ["SELECT 'a;b'", "-- c;d\nSELECT $$e;f$$", "/* g;h */ SELECT ?"]


def test_loops_make_one_value_per_iteration():
    [one] = render_sql("INSERT INTO t VALUES {% for r in rows %}({{ r }}){% if not loop.last %},{% endif %}{% endfor %}",
                       {"rows": [1, 2, 3]}, "w")
    assert one.text == "INSERT INTO t VALUES (%s),(%s),(%s)"
    assert one.params == [1, 2, 3]


def test_an_expression_without_value_adds_nothing_and_an_undefined_name_fails():
    [one] = render_sql("SELECT 1 {{ 'x' if n > 10 }}", CTX, "w")
    assert (one.text, one.params) == ("SELECT 1 ", [])
    with pytest.raises(Failure) as caught:
        render_sql("SELECT {{ missing }}", CTX, "w")
    assert caught.value.error.code == "TEMPLATE_ERROR"


@pytest.mark.parametrize(("sql", "why"), [
    ('SELECT * FROM "{{ s }}"', "quoted identifier"),
    ("SELECT $$ {{ s }} $$", "dollar-quoted body"),
    ("SELECT 1 -- {{ s }}", "comment"),
    ("SELECT '{{ s }}", "unterminated"),
    ("{{ s }}", "only a template value"),
])
def test_spots_no_value_may_take(sql, why):
    with pytest.raises(Failure) as caught:
        render_sql(sql, CTX, "step.tool.command")
    assert caught.value.error.code == "STEP_CONFIG_INVALID"
    assert why in caught.value.error.message and caught.value.error.message.startswith("step.tool.command: ")
