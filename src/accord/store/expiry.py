"""The decay job's work in the store: mark the latest indicator versions whose
``valid_until`` passed since the job's last run (docs/jobs.md).

An expiry writes no version, so without a mark nothing that asks "what changed since" would
see it: an RPZ zone would keep its serial, a remembered export ETag would be trusted to its
limit. `expire_due` gives the versions that expired one mark (`accord.store.change_marks`).

The job's watermark (``decay.watermark`` in ``node_settings``: the time up to which expiries
are marked) is read and moved in the same transaction, under the write lock: two workers, or
a retry, that run the same period mark each expiry once; the second finds nothing. What
expires is found through ``ix_objects_valid_until``, which holds only the latest versions that
have a ``valid_until``. An indicator written already expired is marked by the next run only
if it expired after the watermark; either way it is left out of exports and matching at read
time (the mark only tells caches that something changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import Engine, delete, insert, select, update

from accord.store.change_marks import new_mark
from accord.store.dialects import backend_for
from accord.store.engine import write_transaction
from accord.store.objects import WRITE_LOCK, now_key
from accord.store.schema import node_settings, objects

WATERMARK: Final = "decay.watermark"


@dataclass(frozen=True, slots=True)
class Expired:
    """What one run marked."""

    versions: int
    mark: int | None  # the mark given (None: nothing expired)
    up_to: str  # the new watermark


def expire_due(engine: Engine, now: str | None = None) -> Expired:
    """Mark the latest versions whose valid_until is after the watermark and at or before
    ``now`` (timestamp key; the current time by default), and move the watermark to it."""
    until = now or now_key()
    with write_transaction(engine) as conn:
        backend_for(conn).lock_writes(conn, WRITE_LOCK)
        since = conn.execute(
            select(node_settings.c.value).where(node_settings.c.name == WATERMARK)
        ).scalar()
        if since is not None and since >= until:
            return Expired(0, None, str(since))
        due = [
            objects.c.is_latest,
            objects.c.valid_until.is_not(None),
            objects.c.valid_until <= until,
        ]
        if since is not None:
            due.append(objects.c.valid_until > since)
        # A mark only when something expired: a mark rebuilds every cache of the node.
        anything = conn.execute(select(objects.c.seq).where(*due).limit(1)).first()
        marked, mark = 0, None
        if anything is not None:
            mark = new_mark(conn)
            marked = conn.execute(update(objects).where(*due).values(changed_seq=mark)).rowcount
        conn.execute(delete(node_settings).where(node_settings.c.name == WATERMARK))
        conn.execute(insert(node_settings).values(name=WATERMARK, value=until))
    return Expired(marked, mark, until)
