"""Prepared statements on SQLite bind a parameter used in several places once; on PostgreSQL
they are sent with the ``$n`` placeholders psycopg itself would send, numbered once."""

from __future__ import annotations

import sqlite3

import pytest
from psycopg._queries import _query2pg_nocache
from sqlalchemy import String, bindparam, literal_column, select
from sqlalchemy.dialects import postgresql

from accord.store.dialects.postgresql import numbered_pyformat
from accord.store.dialects.sqlite import numbered
from accord.store.node import Store
from accord.store.observables import _SEARCH_WITH_CONTEXT
from accord.store.prepared import Prepared


def test_a_parameter_named_twice_gets_one_number() -> None:
    sql, names = numbered("SELECT ? + ? + ?", ("a", "b", "a"))
    assert (sql, names) == ("SELECT ?1 + ?2 + ?1", ("a", "b"))
    assert sqlite3.connect(":memory:").execute(sql, [10, 1]).fetchone() == (21,)


def test_a_question_mark_that_is_not_a_placeholder_is_left_alone() -> None:
    sql = "SELECT '?' || ?"
    assert numbered(sql, ("a",)) == (sql, ("a",))


def test_postgresql_placeholders_are_the_ones_psycopg_would_send() -> None:
    # The look-up's search (7.5 KB, which psycopg would parse at every execution), compared
    # with psycopg's own conversion: the same bytes reach the server, the same names by number.
    compiled = _SEARCH_WITH_CONTEXT._statement.compile(dialect=postgresql.psycopg.dialect())
    assert len(compiled.string) > 4096
    sql, names = numbered_pyformat(compiled.string)
    theirs, _, order, _ = _query2pg_nocache(compiled.string.encode(), "utf-8")
    assert sql.encode() == theirs
    assert names is not None and list(names) == order


def test_postgresql_placeholders_leave_what_they_do_not_know_to_psycopg() -> None:
    assert numbered_pyformat("SELECT 'a%%' || %(x)s || %(y)s || %(x)s") == (
        "SELECT 'a%' || $1 || $2 || $1",
        ("x", "y"),
    )
    assert numbered_pyformat("SELECT %s") == ("SELECT %s", None)  # positional: psycopg's
    assert numbered_pyformat("SELECT 1") == ("SELECT 1", None)


@pytest.mark.postgres
def test_a_prepared_statement_runs_on_postgresql_with_its_parameters(
    pg_schema_url: str,
) -> None:
    store = Store.open(pg_schema_url)
    try:
        text = bindparam("text", type_=String())
        statement = select(
            (text + literal_column("'%'") + bindparam("other", type_=String()) + text).label(
                "joined"
            ),
            (literal_column("'50%'").like(bindparam("pattern", type_=String()))).label("like"),
        )
        prepared = Prepared(statement)
        with store.engine.connect() as conn:
            for _ in range(7):  # past psycopg's prepare threshold: server-side prepared too
                rows = prepared.rows(conn, {"text": "a", "other": "b", "pattern": "5%"})
                assert rows == [("a%ba", True)]
    finally:
        store.close()
