"""The visibility rule compiled into SQL. Every read in the store goes through
:func:`visible_to`; its meaning is :func:`accord.model.visibility.may_see`, and the leak-matrix
tests prove the two agree on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, Table, and_, exists, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.schema import object_audience


def visible_to(viewer: Viewer, objects: Table) -> ColumnElement[bool]:
    """A WHERE clause over ``objects`` (or an alias of it) true for the versions ``viewer``
    may see."""
    tlp = objects.c.tlp
    if viewer.is_anonymous:
        return tlp == int(Tlp.CLEAR)
    principals = sorted(viewer.principals)
    audience_match = (
        exists()
        .where(object_audience.c.seq == objects.c.seq)
        .where(object_audience.c.principal.in_(principals))
    )
    return or_(tlp <= int(Tlp.GREEN), and_(tlp >= int(Tlp.AMBER), audience_match))


class _Common(ColumnElement[bool]):
    """A condition true for most rows (such as ``is_latest``): SQLite must not pick its index
    over a selective one. SQLite's query planner has no statistics until ANALYZE runs, and
    then reads ``is_latest = 1`` as selective; ``likelihood(..., 0.99)`` tells it otherwise
    (https://sqlite.org/lang_corefunc.html#likelihood). Other databases see the condition."""

    inherit_cache = True
    _traverse_internals = [("condition", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, condition: ColumnElement[bool]) -> None:
        self.condition = condition
        self.type = Boolean()


@compiles(_Common, "sqlite")
def _common_sqlite(element: _Common, compiler: SQLCompiler, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.condition, **kw)}, 0.99)"


@compiles(_Common)
def _common_default(element: _Common, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.condition, **kw))


def latest(objects: Table) -> ColumnElement[bool]:
    """Only the latest version of each object, as a hint-safe condition (see `_Common`)."""
    return _Common(objects.c.is_latest == True)  # noqa: E712 (SQL, not Python)
