"""Reading correlations (written at ingest by ``accord.store.correlation.write``).

**Reading** (``Correlations``): a correlation is shown only when both ends are latest and
visible to the viewer -- the visibility rule applies to both ends in the query. For an
over-correlating hub the reader counts, in SQL and through the rule, the objects *it* may see;
when those are no more than ``cap`` they are listed instead, so that whether a hub is "over"
reveals nothing about objects the viewer may not see.

**Warninglists and allowlists** are applied when reading, not when writing. The store may not
import ``accord.intel``, and a predicate handed to the write path would be missing whenever a
writer forgot it (the CLI, a feed pull, a test), so the stored correlations would depend on
who wrote them. Instead readers pass ``exclude`` (the layer above passes the node's
warninglists, as a test of an indexed value's text), and the viewer's own allowlist is read
from ``allowlist_entries`` here: a correlation whose hub or either value is excluded is not
shown, and not counted. Writing them costs little, since a popular warninglisted value (a
public resolver, a CDN) is over-correlating and stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    Table,
    bindparam,
    literal,
    select,
    union_all,
)

from accord.model.visibility import Viewer
from accord.store.correlation.exclusion import Exclude, Exclusions
from accord.store.correlation.hubs import add_over_hubs
from accord.store.correlation.relations import REVERSE
from accord.store.correlation.results import Correlation, CorrelationResult
from accord.store.dialects import backend_for
from accord.store.objects import OBJECT_COLUMNS, _reading, stored_from_row, stored_from_tuple
from accord.store.plans import indexed, ordered
from accord.store.prepared import InIntList, InList, Prepared, list_param
from accord.store.schema import correlations, objects
from accord.store.visibility import (
    cached_viewer_params,
    latest,
    viewer_params,
    visible_rule,
    visible_to,
)

_SEQS = Prepared(
    select(objects.c.seq)
    .where(InList(objects.c.id, list_param("ids")))
    .where(latest(objects))
    .where(visible_rule(objects))
)


def _edges_select(own_end: bool) -> Select[Any]:
    """The correlations of the versions ``:seqs``, read from both ends of each pair (each side
    drives from its own index); the other end latest and visible. ``own_end``: the versions
    ``:seqs`` are read through the rule too (the rule on both ends: an object's page asks by
    id); without it they are trusted, and their seq heads the row (see `correlated_with`)."""

    def side(flipped: bool) -> Select[Any]:
        # The plan, written out (accord.store.plans): the sources (by primary key), their
        # rows through this end's index, the other ends by primary key.
        c = indexed(correlations, "ix_correlations_other_seq" if flipped else "ix_correlations_seq")
        other = cast(Table, objects.alias("other"))
        mine, theirs = (c.c.other_seq, c.c.seq) if flipped else (c.c.seq, c.c.other_seq)
        value, other_value = (
            (c.c.other_value, c.c.value) if flipped else (c.c.value, c.c.other_value)
        )
        columns = [getattr(other.c, column.name) for column in OBJECT_COLUMNS]
        source = ordered(c, other, other.c.seq == theirs)
        head: list[Any] = [mine.label("from_seq")]
        tail: list[Any] = []
        drive: Any = mine  # the column the list of sequence numbers is matched against
        if own_end:
            one = cast(Table, objects.alias("one"))
            source = ordered(ordered(one, c, mine == one.c.seq), other, other.c.seq == theirs)
            head, tail = [one.c.id], [one.c.seq.label("from_seq")]
            drive = one.c.seq
        stmt = (
            select(
                *head,
                c.c.relation,
                value,
                other_value,
                c.c.hub,
                c.c.similarity,
                literal(flipped).label("flipped"),
                *tail,
                *columns,
            )
            .select_from(source)
            .where(InIntList(drive, list_param("seqs")))
        )
        if own_end:
            stmt = stmt.where(latest(one)).where(visible_rule(one))
        return stmt.where(latest(other)).where(visible_rule(other))

    both = union_all(side(False), side(True)).subquery()
    return (
        select(both)
        .order_by(both.c.from_seq, both.c.seq)
        .limit(bindparam("limit", type_=Integer()))
    )


_EDGES = Prepared(_edges_select(own_end=True))
_EDGES_FROM = Prepared(_edges_select(own_end=False))
# Both statements' rows: their own end (the object's id, or the sequence number), then these,
# then the other end's OBJECT_COLUMNS from its ``seq`` on.
_EDGE = ("relation", "value", "other_value", "hub", "similarity", "flipped", "seq")
_RELATION, _VALUE, _OTHER_VALUE, _HUB, _SIMILARITY, _FLIPPED, _OTHER = _EDGES.layout.at(*_EDGE)
assert _EDGES_FROM.layout.at(*_EDGE[:-1]) == _EDGES.layout.at(*_EDGE[:-1])
(_SOURCE_ID,) = _EDGES.layout.at("id")
_FROM_SEQ, _FROM_OTHER = _EDGES_FROM.layout.at("from_seq", "seq")


def correlated(
    conn: Connection,
    viewer: Viewer,
    ids: Sequence[str],
    limit: int = 1000,
    exclude: Exclude | None = None,
) -> list[Correlation]:
    """The stored correlations of these objects whose both ends ``viewer`` may see, minus
    those through excluded values and the viewer's allowlist (one query; the look-up's)."""
    if not ids:
        return []
    backend = backend_for(conn)
    params = viewer_params(backend, viewer) | {"ids": backend.encode_list(sorted(set(ids)))}
    seqs = [seq for (seq,) in _SEQS.rows(conn, params)]
    if not seqs:
        return []
    params |= {"seqs": backend.encode_ints(seqs), "limit": limit}
    rows = _EDGES.rows(conn, params)
    return _kept(conn, viewer, exclude, rows, lambda row: str(row[_SOURCE_ID]), _OTHER)


def correlated_with(
    conn: Connection,
    viewer: Viewer,
    sources: Mapping[int, str],
    limit: int = 1000,
    exclude: Exclude | None = None,
) -> list[Correlation]:
    """`correlated` for the object versions a look-up has just matched (``sources``: their
    sequence numbers and ids): one query, the rule applied in it to the other end.

    The sources must be versions the caller read through the rule in this request (the
    look-up's search query did): the viewer has just been shown them, so not checking them
    again reveals nothing, and saves two index probes per source. Every correlated object
    listed is still latest and visible to the viewer, checked in this query."""
    if not sources:
        return []
    backend = backend_for(conn)
    params = {
        **cached_viewer_params(backend, viewer),
        "seqs": backend.encode_ints(sorted(sources)),
        "limit": limit,
    }
    rows = _EDGES_FROM.rows(conn, params)
    return _kept(conn, viewer, exclude, rows, lambda row: sources[row[_FROM_SEQ]], _FROM_OTHER)


def _kept(
    conn: Connection,
    viewer: Viewer,
    exclude: Exclude | None,
    rows: Sequence[Sequence[Any]],
    source: Callable[[Sequence[Any]], str],
    other_at: int,
) -> list[Correlation]:
    """Edge rows as correlations, minus those through excluded or allowlisted values;
    ``source`` names a row's own end, the other end's columns start at ``other_at``."""
    if not rows:
        return []
    keep = Exclusions(conn, viewer, exclude)
    found = []
    for row in rows:
        value, other_value, hub = row[_VALUE], row[_OTHER_VALUE], row[_HUB]
        if keep.excluded(value) or keep.excluded(other_value) or keep.excluded(hub):
            continue
        relation = REVERSE[row[_RELATION]] if row[_FLIPPED] else row[_RELATION]
        found.append(
            Correlation(
                source(row),
                relation,
                value,
                other_value,
                hub,
                row[_SIMILARITY],
                stored_from_tuple(row[other_at:]),
            )
        )
    return found


class Correlations:
    """What correlates with an object, as one viewer may see it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def of_object(
        self,
        viewer: Viewer,
        object_id: str,
        exclude: Exclude | None = None,
        limit: int = 1000,
        connection: Connection | None = None,
    ) -> CorrelationResult | None:
        """None when the viewer may not see the object."""
        with _reading(self.engine, connection) as conn:
            row = conn.execute(
                select(*OBJECT_COLUMNS)
                .where(objects.c.id == object_id)
                .where(latest(objects))
                .where(visible_to(viewer, objects))
            ).first()
            if row is None:
                return None
            obj = stored_from_row(row)
            found = correlated(conn, viewer, [object_id], limit + 1, exclude)
            truncated = len(found) > limit
            result = CorrelationResult(obj, found[:limit], [], truncated)
            add_over_hubs(conn, viewer, result, exclude, limit)
        return result
