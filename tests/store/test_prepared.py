"""Prepared statements on SQLite bind a parameter used in several places once."""

from __future__ import annotations

import sqlite3

from accord.store.dialects.sqlite import numbered


def test_a_parameter_named_twice_gets_one_number() -> None:
    sql, names = numbered("SELECT ? + ? + ?", ("a", "b", "a"))
    assert (sql, names) == ("SELECT ?1 + ?2 + ?1", ("a", "b"))
    assert sqlite3.connect(":memory:").execute(sql, [10, 1]).fetchone() == (21,)


def test_a_question_mark_that_is_not_a_placeholder_is_left_alone() -> None:
    sql = "SELECT '?' || ?"
    assert numbered(sql, ("a",)) == (sql, ("a",))
