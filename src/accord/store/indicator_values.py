"""The values of the indicators a viewer may see, page by page: what the sensor exports
(`accord.export.indicator_items`) are made from.

A page is a keyset page of the latest indicator versions, in storage order, chosen by the
visibility rule (`accord.store.visibility.visible_to`) in the query itself; the observable
index rows of exactly those versions are then read by their sequence numbers (their
``pattern`` rows: the values an indicator's STIX pattern names). Nothing is filtered by hand:
AMBER and AMBER+STRICT versions come back only to their audience, RED only to its users.
Revoked versions come back too, so that the caller can count what it leaves out; the newest
sequence number or change mark of the store (`newest_seq`) is part of what an export's ETag
is remembered by (`accord.api.export_etags`); the newest the viewer may see
(`newest_visible_seq`) is what an export says it was made at, and an RPZ zone's serial.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, or_, select

from accord.model.observable_types import Observable
from accord.model.visibility import Viewer
from accord.store.change_marks import marked_after, newest_change, newest_visible_change
from accord.store.objects import OBJECT_COLUMNS, stored_from_row
from accord.store.records import StoredObject
from accord.store.schema import objects, observables
from accord.store.visibility import visible_to

PAGE = 1000  # indicator versions per page: two statements each; their seqs are one IN list


@dataclass(slots=True)
class IndexedValue:
    """One value an indicator's pattern names, as the observable index holds it."""

    observable: Observable
    simple: bool  # the pattern is plain equalities (`accord.model.patterns`)


@dataclass(slots=True)
class IndicatorValues:
    """A latest indicator version the viewer may see, and the values its pattern names
    (none for a pattern that is not STIX, or that names nothing the index knows)."""

    obj: StoredObject
    values: list[IndexedValue] = field(default_factory=list)


class IndicatorValueReader:
    """Reads the indicators a viewer may see with their indexed values."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pages(
        self,
        viewer: Viewer,
        kinds: Sequence[str] = (),
        since: str | None = None,
        page: int = PAGE,
        after_seq: int = 0,
    ) -> Iterator[list[IndicatorValues]]:
        """Pages of the latest indicator versions ``viewer`` may see, oldest first.
        ``kinds``: only values of these observable kinds (all when empty); ``since``
        (timestamp_key form): only versions modified or stored here at or after it;
        ``after_seq``: only versions stored after that sequence number (what a cached
        matcher has not seen, `accord.match.matcher_source`)."""
        after = after_seq
        while True:
            stmt = (
                select(*OBJECT_COLUMNS)
                .where(objects.c.is_latest)
                .where(objects.c.type == "indicator")
                .where(visible_to(viewer, objects))
            )
            if after:
                stmt = stmt.where(objects.c.seq > after)
            if since is not None:
                stmt = stmt.where(or_(objects.c.modified >= since, objects.c.date_added >= since))
            stmt = stmt.order_by(objects.c.seq).limit(page)
            with self.engine.connect() as conn:
                found = [IndicatorValues(stored_from_row(row)) for row in conn.execute(stmt)]
                if found:
                    by_seq = {item.obj.seq: item for item in found}
                    values = (
                        select(
                            observables.c.seq,
                            observables.c.kind,
                            observables.c.value,
                            observables.c.host,
                            observables.c.lo,
                            observables.c.hi,
                            observables.c.rdomain,
                            observables.c.simple,
                        )
                        .where(observables.c.seq.in_(sorted(by_seq)))
                        .where(observables.c.source == "pattern")
                        .order_by(observables.c.seq, observables.c.kind, observables.c.value)
                    )
                    if kinds:
                        values = values.where(observables.c.kind.in_(sorted(set(kinds))))
                    for row in conn.execute(values):
                        by_seq[row.seq].values.append(
                            IndexedValue(
                                Observable(
                                    row.kind, row.value, row.host, row.lo, row.hi, row.rdomain
                                ),
                                bool(row.simple),
                            )
                        )
            if found:
                yield found
            if len(found) < page:
                return
            after = found[-1].obj.seq

    def newest_visible_seq(self, viewer: Viewer) -> int:
        """The newest sequence number or change mark among the latest indicator versions
        ``viewer`` may see (0: none): what an export says it was made at (an RPZ zone's
        serial), which hidden writes and hidden expiries leave as it was
        (`accord.store.change_marks`)."""
        with self.engine.connect() as conn:
            return newest_visible_change(conn, viewer)

    def latest_count(self, after_seq: int = 0) -> int:
        """How many latest indicator versions the store holds (stored after ``after_seq``),
        whoever may see them: with `newest_seq`, what tells a cached matcher that an
        indicator it holds was deleted or has a newer version."""
        stmt = (
            select(func.count())
            .select_from(objects)
            .where(objects.c.is_latest)
            .where(objects.c.type == "indicator")
        )
        if after_seq:
            stmt = stmt.where(objects.c.seq > after_seq)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def newest_seq(self) -> int:
        """The newest sequence number or change mark of the store (0 when it is empty): it
        grows with every version written and every change marked (an expiry, a deletion),
        whoever may see it."""
        with self.engine.connect() as conn:
            return newest_change(conn)

    def marked_after(self, seq: int) -> bool:
        """Whether a change without a version (an expiry, a deletion) was marked after
        ``seq``: then what was read up to ``seq`` cannot just be added to."""
        with self.engine.connect() as conn:
            return marked_after(conn, seq)
