"""The visibility rule compiled into SQL. Every read in the store goes through
:func:`visible_to`; its meaning is :func:`accord.model.visibility.may_see`, and the leak-matrix
tests prove the two agree on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_, exists, or_

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
