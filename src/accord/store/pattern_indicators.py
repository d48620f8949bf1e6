"""Indicators whose STIX pattern the observable index does not answer in full: the feed of
the in-memory pattern index (`accord.match.indicator_index`).

The observable index holds the values a pattern pins with `=` (`accord.model.patterns`), and
marks each row `simple` when every comparison of the pattern is a plain `=`. An indicator
with a `simple` row is answered by that index; every other latest, unrevoked indicator is
listed here: its pattern has `LIKE`, `MATCHES`, `ISSUBSET`, an ordering, `!=`, a qualifier
or `FOLLOWEDBY`, or pins no indexed value at all. Which of them are STIX patterns is for the
caller to read from the JSON (``pattern_type`` is not a column).

This listing does NOT apply the visibility rule, and says so in its name: it feeds a
prefilter held in memory, never an answer. Whatever the prefilter finds is read again
through the rule (`accord.store.observables.ObservableIndex.search_many` with ``versions``,
`ObservableIndex.visible_versions`), and only what that read answers reaches a caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Integer, and_, bindparam, exists, func, select

from accord.store.engine_state import engine_state
from accord.store.objects import _reading
from accord.store.schema import objects, observables

PAGE = 2000  # rows per read of the listing


@dataclass(frozen=True, slots=True)
class UnindexedPattern:
    """One latest, unrevoked indicator version that no `simple` index row answers."""

    seq: int
    id: str
    raw: str  # the version's JSON: its pattern, pattern_type and pattern_version


_AFTER = (
    select(objects.c.seq, objects.c.id, objects.c.raw)
    .where(objects.c.is_latest == True)  # noqa: E712 (SQL)
    .where(objects.c.type == "indicator")
    .where(objects.c.revoked == False)  # noqa: E712 (SQL)
    .where(objects.c.seq > bindparam("after", type_=Integer()))
    .where(
        ~exists(
            select(observables.c.seq).where(
                and_(observables.c.seq == objects.c.seq, observables.c.simple == True)  # noqa: E712
            )
        )
    )
    .order_by(objects.c.seq)
    .limit(bindparam("limit", type_=Integer()))
)


class UnindexedPatterns:
    """The listing, and what tells its reader that it may have changed."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def newest_seq(self, connection: Connection | None = None) -> int:
        """The largest position stored (0 for none); see `accord.store.taxii.TaxiiStore.
        newest_seq` for why every version at or below it has committed."""
        with _reading(self.engine, connection) as conn:
            found = conn.execute(select(func.coalesce(func.max(objects.c.seq), 0))).scalar_one()
            return int(found)

    def after_unfiltered(
        self, after_seq: int, limit: int = PAGE, connection: Connection | None = None
    ) -> list[UnindexedPattern]:
        """Up to ``limit`` such indicators stored after ``after_seq``, in storage order,
        WITHOUT the visibility rule (the module's docstring says why that is allowed here)."""
        with _reading(self.engine, connection) as conn:
            rows = conn.execute(_AFTER, {"after": after_seq, "limit": limit})
            return [UnindexedPattern(int(seq), str(id_), str(raw)) for seq, id_, raw in rows]

    def changes(self) -> tuple[int, int]:
        """(versions written, versions deleted) through this engine in this process so far:
        a reader that saw these numbers unchanged need not ask the database whether anything
        changed (another process's writes are seen by asking, `newest_seq`)."""
        counts = engine_state(self.engine).object_changes
        return counts.written, counts.deleted
