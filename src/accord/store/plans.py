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

`accord.store.dialects.sqlite` renders the devices. PostgreSQL has no such devices; it plans
from statistics that autovacuum keeps, and a node with autovacuum off (or before it comes
round: right after a bulk load) plans a large table as if it were empty.
`accord.store.statistics` analyses the tables a large write grew, in that write's
transaction. On PostgreSQL these helpers render plain SQL (`accord.store.dialects.postgresql`).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, Table
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import FromClause, Join, TableClause

from accord.store.dialects.elements import Indexed, Ordered, Unindexed, Values


def ordered(left: FromClause, right: FromClause, onclause: ColumnElement[bool]) -> Join:
    """``left JOIN right ON onclause``, with ``left`` read first whatever the statistics."""
    return Ordered(left, right, onclause)


def indexed(table: Table, index: str, name: str | None = None) -> Table:
    """``table`` (as ``name``, by default its own name) read through ``index`` on SQLite.
    Use its columns (``.c``) in the statement, not the table's."""
    found = Indexed._construct(table, name=name or table.name)
    found.index = index
    return cast(Table, found)


def unindexed(wrapped: ColumnElement[Any]) -> ColumnElement[Any]:
    """``wrapped``, which on SQLite no index may serve in the term it is used in."""
    return Unindexed(wrapped)


def values_of(name: str, param: BindParameter[Any]) -> TableClause:
    """A list parameter (`accord.store.dialects.base.Backend.encode_list`) as a table
    ``name(value)``, to join from (`ordered`)."""
    return Values(name, param)
