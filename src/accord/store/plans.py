"""Plans that do not depend on the planner's statistics.

SQLite plans without statistics until someone runs ``ANALYZE`` (or ``PRAGMA optimize``, which
runs it when it judges a table changed), and then plans from what it sampled. The look-up,
search, TAXII and correlation statements were written for the plans SQLite picks without
statistics; with them it could pick others: after ``ANALYZE`` the search scanned the whole
observable index and probed its list of values once per row, and a table with few distinct
``is_latest`` values becomes a candidate for a skip-scan. So on SQLite those statements say
their plan themselves, in the SQL, with the three devices SQLite documents for it
(https://sqlite.org/optoverview.html#manual_control_of_query_plans_using_cross_join,
https://sqlite.org/lang_indexedby.html):

- `ordered`: ``CROSS JOIN`` instead of ``JOIN``: the left table is always the outer loop, so the
  join order is the one written (list of values, then the index rows, then their objects);
- `indexed`: ``INDEXED BY``: the table is read through that index or the statement fails with
  an error (a schema change that dropped the index is found by the tests, never by a slow
  node);
- `unindexed`: the unary ``+``, which keeps a term from driving an index (``is_latest``, true
  for most rows, and ``type`` on a TAXII page, which follows the primary key).

Accord itself never runs ``ANALYZE`` on SQLite, and need not: the statements above leave the
planner no choice that statistics could change, so a store analysed by an operator's tool
plans them exactly as one never analysed. (Fixed ``sqlite_stat1`` rows would be the other
way, and the weaker one: the next ``ANALYZE`` replaces them.)

PostgreSQL has no such devices; it plans from statistics that autovacuum keeps, and a node
with autovacuum off (or before it comes round: right after a bulk load) plans a large table
as if it were empty. `accord.store.statistics` analyses the tables a large write grew, in
that write's transaction. On PostgreSQL these helpers render plain SQL.
"""

from __future__ import annotations

import itertools
from typing import Any, cast

from sqlalchemy import ColumnElement, String, Table, column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import Alias, FromClause, Join, TableClause
from sqlalchemy.sql.visitors import InternalTraversal


class _Ordered(Join):
    """A join whose left side is the outer loop on SQLite (``CROSS JOIN ... ON``)."""

    inherit_cache = True


@compiles(_Ordered, "sqlite")
def _ordered_sqlite(
    join: _Ordered, compiler: SQLCompiler, asfrom: bool = False, from_linter: Any = None, **kw: Any
) -> str:
    if from_linter:
        from_linter.edges.update(
            itertools.product(join.left._from_objects, join.right._from_objects)
        )
    left = join.left._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
    right = join.right._compiler_dispatch(compiler, asfrom=True, from_linter=from_linter, **kw)
    assert join.onclause is not None
    onclause = join.onclause._compiler_dispatch(compiler, from_linter=from_linter, **kw)
    return f"{left} CROSS JOIN {right} ON {onclause}"


def ordered(left: FromClause, right: FromClause, onclause: ColumnElement[bool]) -> Join:
    """``left JOIN right ON onclause``, with ``left`` read first whatever the statistics."""
    return _Ordered(left, right, onclause)


class _Indexed(Alias):
    """A table read through one named index on SQLite (``INDEXED BY``)."""

    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012
        *Alias._traverse_internals,
        ("index", InternalTraversal.dp_string),
    ]
    index: str


@compiles(_Indexed, "sqlite")
def _indexed_sqlite(element: _Indexed, compiler: SQLCompiler, **kw: Any) -> str:
    found = str(compiler.visit_alias(element, **kw))  # type: ignore[no-untyped-call]
    if kw.get("asfrom"):
        found += f" INDEXED BY {element.index}"
    return found


def indexed(table: Table, index: str, name: str | None = None) -> Table:
    """``table`` (as ``name``, by default its own name) read through ``index`` on SQLite.
    Use its columns (``.c``) in the statement, not the table's."""
    found = _Indexed._construct(table, name=name or table.name)
    found.index = index
    return cast(Table, found)


class _Unindexed(ColumnElement[Any]):
    """A column that no index may serve in this term, on SQLite (unary ``+``)."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, wrapped: ColumnElement[Any]) -> None:
        self.column = wrapped
        self.type = wrapped.type


@compiles(_Unindexed, "sqlite")
def _unindexed_sqlite(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.column, **kw)}"


@compiles(_Unindexed)
def _unindexed_default(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


def unindexed(wrapped: ColumnElement[Any]) -> ColumnElement[Any]:
    """``wrapped``, which on SQLite no index may serve in the term it is used in."""
    return _Unindexed(wrapped)


class _Values(TableClause):
    """The values of one list parameter (`accord.store.prepared.encode_list`) as a table with
    one column, ``value``: ``json_each`` on SQLite, ``unnest`` on PostgreSQL."""

    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012
        *TableClause._traverse_internals,
        ("param", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, name: str, param: BindParameter[Any]) -> None:
        super().__init__(name, column("value", String()))
        self.param = param


@compiles(_Values, "sqlite")
def _values_sqlite(element: _Values, compiler: SQLCompiler, **kw: Any) -> str:
    if not kw.get("asfrom"):
        return element.name
    return f"json_each({compiler.process(element.param, **kw)}) AS {element.name}"


@compiles(_Values, "postgresql")
def _values_postgresql(element: _Values, compiler: SQLCompiler, **kw: Any) -> str:
    if not kw.get("asfrom"):
        return element.name
    param = compiler.process(element.param, **kw)
    return f"unnest(string_to_array({param}, E'\\x1f')) AS {element.name}(value)"


def values_of(name: str, param: BindParameter[Any]) -> TableClause:
    """A list parameter as a table ``name(value)``, to join from (`ordered`)."""
    return _Values(name, param)
