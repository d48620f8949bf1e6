"""What one viewer may see of the node at a glance (the portal's dashboard): how many objects
by type and by TLP level, how many were added or changed each day, and the values most
objects share. Every number counts only what the viewer may see: each query applies the
visibility rule (`accord.store.visibility`) to every row it counts, so that a count over
hidden objects, which would tell of them, is never made.

Objects are counted as the store lists them (`accord.store.objects.ObjectStore.query`, TAXII):
each organisation's holding of an object is its own, so an object two organisations hold
and the viewer may see in both counts twice. The node's
own definitions (the TLP 2.0 marking definitions, its identity and extension definition:
`accord.store.node.Store.init`) are not intelligence, and are not counted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Engine, Integer, String, bindparam, case, func, select

from accord.model.extension import ACCORD_IDENTITY_ID
from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.correlation.exclusion import Exclude, Exclusions
from accord.store.dialects import backend_for
from accord.store.plans import indexed, ordered
from accord.store.prepared import Prepared
from accord.store.schema import objects, observables
from accord.store.visibility import cached_viewer_params, latest, visible_rule, visible_to

DAY: Final = 10  # characters of a stored timestamp that name its day (YYYY-MM-DD, UTC)
SHARED_SCAN: Final = 200  # most shared values read, before the excluded ones are dropped


@contextmanager
def aggregating(engine: Engine) -> Iterator[Connection]:
    """A connection for the queries below, set up by its backend for aggregates that read
    many rows once (`accord.store.dialects.base.Backend.for_aggregates`)."""
    with engine.connect() as conn:
        backend_for(conn).for_aggregates(conn)
        yield conn


def day_of(column: Any) -> Any:
    """The UTC day of a stored timestamp (fixed-width text: `accord.store.schema`)."""
    return func.substr(column, 1, DAY)


@dataclass(frozen=True, slots=True)
class ObjectCounts:
    """Objects the viewer may see (their latest versions), by type, by TLP level, and by
    the UTC day their latest version was added (the days asked for)."""

    total: int
    by_type: dict[str, int]  # most first
    by_tlp: dict[Tlp, int]
    added: dict[str, int]


@dataclass(frozen=True, slots=True)
class SharedValue:
    """A value that several objects the viewer may see hold (the same-value correlation)."""

    kind: str
    value: str
    objects: int  # objects the viewer may see that hold it
    tlp: Tlp  # the highest level among them


def _counts_statement() -> Any:
    since = bindparam("since", type_=String())
    day = case((objects.c.date_added >= since, day_of(objects.c.date_added)), else_=None)
    return (
        select(objects.c.type, objects.c.tlp, day.label("day"), func.count().label("n"))
        .where(latest(objects))
        .where(objects.c.owner_org != ACCORD_IDENTITY_ID)
        .where(visible_rule(objects))
        .group_by(objects.c.type, objects.c.tlp, day)
    )


def _shared_statement() -> Any:
    # The plan, written out (accord.store.plans): the visible latest objects, then their
    # index rows by sequence number.
    rows = indexed(observables, "ix_observables_seq")
    holders = func.count(func.distinct(objects.c.id))
    return (
        select(rows.c.kind, rows.c.value, holders.label("holders"), func.max(objects.c.tlp))
        .select_from(ordered(objects, rows, rows.c.seq == objects.c.seq))
        .where(latest(objects))
        .where(visible_rule(objects))
        .group_by(rows.c.kind, rows.c.value)
        .having(holders >= 2)
        .order_by(holders.desc(), rows.c.kind, rows.c.value)
        .limit(bindparam("scan", type_=Integer()))
    )


# Built once: a statement made through the rule costs milliseconds to build, every time.
_COUNTS = Prepared(_counts_statement())
_SHARED = Prepared(_shared_statement())


def object_counts(conn: Connection, viewer: Viewer, since: str) -> ObjectCounts:
    """The latest versions the viewer may see, by type and TLP level, and by the day their
    version was added from ``since`` (a stored timestamp) on: one scan, one group per type,
    level and day."""
    params = {**cached_viewer_params(backend_for(conn), viewer), "since": since}
    total = 0
    by_type: dict[str, int] = {}
    by_tlp: dict[Tlp, int] = {}
    by_day: dict[str, int] = {}
    for kind, level, added, count in _COUNTS.rows(conn, params):
        total += count
        by_type[kind] = by_type.get(kind, 0) + count
        by_tlp[Tlp(level)] = by_tlp.get(Tlp(level), 0) + count
        if added is not None:
            by_day[added] = by_day.get(added, 0) + count
    # Most first, then by name: an order that depends on nothing the viewer may not see.
    ranked = dict(sorted(by_type.items(), key=lambda item: (-item[1], item[0])))
    return ObjectCounts(total, ranked, by_tlp, by_day)


def shared_values(
    conn: Connection, viewer: Viewer, limit: int, exclude: Exclude | None = None
) -> list[SharedValue]:
    """The ``limit`` values held by the most objects the viewer may see (at least two), most
    first; values on the node's lists (``exclude``) or the viewer organisation's allowlist are
    left out, as the correlation readers leave them out (`accord.store.correlation.read`).

    Counted from the observable index through the rule, not from ``correlation_hubs``, whose
    counts are of everyone's objects: which values make the list, and their counts, depend
    only on what the viewer may see."""
    params = {**cached_viewer_params(backend_for(conn), viewer), "scan": SHARED_SCAN}
    keep = Exclusions(conn, viewer, exclude)
    found: list[SharedValue] = []
    for kind, value, count, level in _SHARED.rows(conn, params):
        if keep.excluded(value):
            continue
        found.append(SharedValue(kind, value, int(count), Tlp(level)))
        if len(found) >= limit:
            break
    return found


@dataclass(frozen=True, slots=True)
class Holder:
    """An object that holds a value, and its TLP level (what `accord.intel.read_audit`
    records a read of)."""

    id: str
    tlp: Tlp


def holders_at_least(
    conn: Connection, viewer: Viewer, values: Sequence[SharedValue], level: Tlp, limit: int
) -> list[Holder]:
    """Ids and levels of the latest objects the viewer may see, at ``level`` or above, that
    hold one of ``values`` (at most ``limit``): the objects whose content a list of shared
    values shows, for the audit of reads (`accord.intel.read_audit`)."""
    if not values:
        return []
    rows = indexed(observables, "ix_observables_value")
    wanted = sorted({value.value for value in values})
    stmt = (
        select(objects.c.id, func.max(objects.c.tlp))
        .select_from(ordered(rows, objects, objects.c.seq == rows.c.seq))
        .where(rows.c.value.in_(wanted))
        .where(latest(objects))
        .where(objects.c.tlp >= int(level))
        .where(visible_to(viewer, objects))
        .group_by(objects.c.id)
        .order_by(objects.c.id)
        .limit(limit)
    )
    return [Holder(str(object_id), Tlp(found)) for object_id, found in conn.execute(stmt)]
