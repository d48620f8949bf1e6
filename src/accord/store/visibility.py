"""The visibility rule compiled into SQL. Every read in the store goes through
:func:`visible_to`; its meaning is :func:`accord.model.visibility.may_see`, and the leak-matrix
tests prove the two agree on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Table,
    and_,
    bindparam,
    exists,
    literal_column,
    or_,
)

from accord.model.extension import ACCORD_IDENTITY_ID
from accord.model.tlp import Tlp
from accord.model.visibility import Crossing, Viewer
from accord.store.dialects import Backend
from accord.store.dialects.elements import InList, LikelyTrue
from accord.store.plans import unindexed
from accord.store.prepared import list_param
from accord.store.schema import object_audience, sighting_facts
from accord.store.schema import objects as objects_table


def _rule(
    objects: Table,
    member: ColumnElement[bool],
    is_principal: Callable[[ColumnElement[str]], ColumnElement[bool]],
) -> ColumnElement[bool]:
    """CLEAR: everyone. GREEN: every member (not anonymous callers; a peer node only if it
    is of the community). AMBER, AMBER+STRICT and RED: the principals recorded for the
    version at ingest (its audience) -- for RED only users, so membership of the creator's
    organisation is not enough. An anonymous caller has no principals."""
    tlp = objects.c.tlp
    audience_match = (
        exists()
        .where(object_audience.c.seq == objects.c.seq)
        .where(is_principal(object_audience.c.principal))
    )
    # The levels as SQL constants, not parameters: a look-up statement applies the rule to
    # several tables, and binding the same three numbers again for each costs more than
    # the index probes it guards.
    clear, green, amber = (literal_column(str(int(level)), Integer) for level in _LEVELS)
    return or_(
        tlp == clear,
        and_(member, tlp <= green),
        and_(tlp >= amber, audience_match),
    )


_LEVELS = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER)


def visible_to(viewer: Viewer, objects: Table) -> ColumnElement[bool]:
    """A WHERE clause over ``objects`` true for the versions ``viewer`` may see; for a peer
    node, what may cross to it (`accord.model.visibility.may_cross`)."""
    principals = sorted(viewer.principals)
    rule = _rule(
        objects,
        bindparam("v_member", viewer.is_member, type_=Boolean),
        lambda column: column.in_(principals),
    )
    crossing = viewer.crossing
    if crossing is None:
        return rule
    # Provenance: never back to the node a version came from, nor to the node hosting the
    # organisation that holds it; the node's own definitions (TLP markings, Accord's
    # identity and extension) every node publishes itself.
    return and_(
        or_(rule, _anonymous_sighting(viewer, crossing, objects)),
        or_(objects.c.origin_node.is_(None), objects.c.origin_node != crossing.node_id),
        objects.c.owner_org.not_in(sorted(crossing.hosted_org_ids | {ACCORD_IDENTITY_ID})),
    )


def _anonymous_sighting(viewer: Viewer, crossing: Crossing, objects: Table) -> ColumnElement[bool]:
    """`accord.model.visibility.anonymous_sighting_may_cross` in SQL: an anonymous sighting
    (not RED) of an object the peer holds or may receive."""
    sighted = cast(Table, objects_table.alias("sighted"))
    hosted = sorted(crossing.hosted_org_ids)
    principals = sorted(viewer.principals)
    reaches = or_(
        sighted.c.owner_org.in_(hosted),
        sighted.c.origin_node == crossing.node_id,
        _rule(
            sighted,
            bindparam("v_sighted_member", viewer.is_member, type_=Boolean),
            lambda column: column.in_(principals),
        ),
    )
    return and_(
        objects.c.type == "sighting",
        objects.c.tlp != int(Tlp.RED),
        exists()
        .where(sighting_facts.c.seq == objects.c.seq)
        .where(sighting_facts.c.anonymous == True)  # noqa: E712 (SQL, not Python)
        .where(exists().where(sighted.c.id == sighting_facts.c.sighting_of).where(reaches)),
    )


def visible_rule(objects: Table) -> ColumnElement[bool]:
    """The same rule with the viewer as two bind parameters (pass ``viewer_params(backend,
    viewer)`` when executing), so that a hot statement is compiled once for any viewer."""
    return _rule(
        objects,
        bindparam("v_member", type_=Boolean),
        lambda column: InList(column, list_param("v_principals")),
    )


def viewer_params(backend: Backend, viewer: Viewer) -> dict[str, Any]:
    """The bind parameters of :func:`visible_rule` for one viewer, on ``backend``."""
    return {
        "v_member": viewer.is_member,
        "v_principals": backend.encode_list(sorted(viewer.principals)),
    }


@lru_cache(maxsize=1024)
def cached_viewer_params(backend: Backend, viewer: Viewer) -> Mapping[str, Any]:
    """`viewer_params`, worked out once per viewer (a look-up runs several statements);
    read-only: merge it into a new dict."""
    return MappingProxyType(viewer_params(backend, viewer))


def latest(objects: Table) -> ColumnElement[bool]:
    """Only the latest version of each object: a condition true for most rows, which the
    planner is told is so (`LikelyTrue`: SQLite's planner has no statistics until ANALYZE
    runs, and then reads ``is_latest = 1`` as selective, and would pick its index over a
    selective one), and which no index serves on SQLite (`accord.store.plans.unindexed`):
    with statistics, SQLite could otherwise read the few distinct values of ``is_latest``
    through a skip-scan."""
    return LikelyTrue(unindexed(objects.c.is_latest) == True)  # noqa: E712 (SQL, not Python)
