"""Changes made to the latest indicators without a version being written, as numbers of the
objects' own sequence, so that every reader that asks "has anything changed since" (an
export's remembered ETag, a cached matcher, an RPZ zone's serial) sees them with the one
question it already asks: the newest sequence number.

Two things change what a latest version means with no row written: its ``valid_until``
passing (the decay job, `accord.store.expiry`), and a TAXII DELETE (an older version becomes
latest again, or the object is gone). Each is given a *mark*, the next number of the objects'
sequence, kept twice:

- on the latest versions it concerns (``objects.changed_seq``), so that what a viewer may
  see changed is read through the visibility rule (`newest_visible_change`): a hidden
  indicator's expiry never moves the serial of an export its viewer cannot see it in;
- as the newest mark of the store (``node_settings``, `MARK`), so that a deletion, which
  leaves no row to carry it, still moves `newest_change`, which tells nothing to anyone (it
  counts what they may not see) and only decides when a cache is built again.

Marks are numbers of the sequence, never reused by a version: on PostgreSQL both come from
the sequence; on SQLite, where a version's number is the largest plus one, `allocate_seqs`
is given the newest mark to stay above (`newest_mark`). Only inside the write lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import Connection, delete, func, insert, select, update

from accord.model.visibility import Viewer
from accord.store.dialects import backend_for
from accord.store.plans import indexed
from accord.store.schema import node_settings, objects
from accord.store.visibility import visible_to

MARK: Final = "objects.changed"  # the newest mark, in node_settings
_CHUNK: Final = 500
# On SQLite, the index said in the SQL (`accord.store.plans`); made once, so that the
# statement's compiled form is cached.
_BY_MARK: Final = indexed(objects, "ix_objects_changed_seq")


def newest_mark(conn: Connection) -> int:
    """The newest mark given (0: none)."""
    found = conn.execute(select(node_settings.c.value).where(node_settings.c.name == MARK))
    value = found.scalar()
    return 0 if value is None else int(value)


def new_mark(conn: Connection) -> int:
    """A new mark, recorded as the store's newest; the caller puts it on the versions it
    concerns (``objects.changed_seq``), if any are left. Inside the write lock."""
    mark = backend_for(conn).allocate_seqs(conn, objects, 1, above=newest_mark(conn))[0]
    conn.execute(delete(node_settings).where(node_settings.c.name == MARK))
    conn.execute(insert(node_settings).values(name=MARK, value=str(mark)))
    return mark


def mark_changed(conn: Connection, seqs: Sequence[int]) -> int:
    """Give a new mark to the latest versions ``seqs`` (none: a change no row is left to
    carry); answer it. Inside the write lock."""
    mark = new_mark(conn)
    for start in range(0, len(seqs), _CHUNK):
        conn.execute(
            update(objects)
            .where(objects.c.seq.in_(list(seqs[start : start + _CHUNK])))
            .values(changed_seq=mark)
        )
    return mark


def newest_change(conn: Connection) -> int:
    """The newest version or mark of the store (0 when it is empty): it moves with every
    version written and every change marked, whoever may see them. Two primary-key probes,
    one statement."""
    newest, mark = conn.execute(
        select(
            select(func.max(objects.c.seq)).scalar_subquery(),
            select(node_settings.c.value).where(node_settings.c.name == MARK).scalar_subquery(),
        )
    ).one()
    return max(int(newest or 0), int(mark or 0))


def newest_visible_change(conn: Connection, viewer: Viewer) -> int:
    """The newest sequence number or mark among the latest indicator versions ``viewer`` may
    see (0: none): what an export says it was made at (an RPZ zone's serial). Hidden writes
    and hidden expiries leave it as it was. Each a walk down an index from its newest end to
    the first version the viewer may see."""
    newest = int(
        conn.execute(
            select(func.max(objects.c.seq)).where(
                objects.c.is_latest, objects.c.type == "indicator", visible_to(viewer, objects)
            )
        ).scalar()
        or 0
    )
    # Only marks above that version count: through the index of the marked versions, from
    # the newest down to that version at most (max() would take the other index, and read
    # every latest indicator).
    by_mark = _BY_MARK
    marked = conn.execute(
        select(by_mark.c.changed_seq)
        .where(
            by_mark.c.changed_seq.is_not(None),
            by_mark.c.changed_seq > newest,
            by_mark.c.is_latest,
            by_mark.c.type == "indicator",
            visible_to(viewer, by_mark),
        )
        .order_by(by_mark.c.changed_seq.desc())
        .limit(1)
    ).scalar()
    return max(newest, int(marked or 0))


def marked_after(conn: Connection, seq: int) -> bool:
    """Whether a change was marked after sequence number ``seq``."""
    return newest_mark(conn) > seq
