"""SQL constructs whose text differs by database. Each backend module registers its rendering
(`accord.store.dialects.sqlite`, `accord.store.dialects.postgresql`); the renderings here are
the portable ones, used where a backend registers none (and by ``str(statement)``).

What each is for: `accord.store.plans` (the planner hints), `accord.store.prepared` (list
parameters), `accord.store.visibility` (`LikelyTrue`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, Boolean, ColumnElement, String, column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Alias, Join, TableClause
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType


class InList(ColumnElement[bool]):
    """``column IN (the values of one list parameter)`` (`Backend.encode_list`)."""

    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012
        ("column", InternalTraversal.dp_clauseelement),
        ("param", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], param: BindParameter[Any]) -> None:
        self.column = column
        self.param = param
        # Not Boolean: SQLAlchemy would write "(x IN (...)) = 1" for SQLite, which no index
        # can serve.
        self.type = NullType()  # type: ignore[assignment]


class InIntList(InList):
    """``column IN (the integers of one list parameter)`` (`Backend.encode_ints`): object
    sequence numbers."""

    inherit_cache = True


class Values(TableClause):
    """The values of one list parameter (`Backend.encode_list`) as a table with one column,
    ``value``."""

    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012
        *TableClause._traverse_internals,
        ("param", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, name: str, param: BindParameter[Any]) -> None:
        super().__init__(name, column("value", String()))
        self.param = param


class Ordered(Join):
    """A join whose left side is the outer loop, whatever the planner's statistics."""

    inherit_cache = True


class Indexed(Alias):
    """A table read through one named index."""

    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012
        *Alias._traverse_internals,
        ("index", InternalTraversal.dp_string),
    ]
    index: str


class Unindexed(ColumnElement[Any]):
    """A column that no index may serve in the term it is used in."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, wrapped: ColumnElement[Any]) -> None:
        self.column = wrapped
        self.type = wrapped.type


class LikelyTrue(ColumnElement[bool]):
    """A condition true for most rows (such as ``is_latest``), which a planner must not take
    for a selective one (`accord.store.visibility.latest`)."""

    inherit_cache = True
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, condition: ColumnElement[bool]) -> None:
        self.condition = condition
        self.type = Boolean()


@compiles(Unindexed)
def _unindexed_plain(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(LikelyTrue)
def _likely_true_plain(element: LikelyTrue, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.condition, **kw))
