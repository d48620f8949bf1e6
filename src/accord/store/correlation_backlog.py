"""The correlation backlog: versions written without correlation, correlated afterwards.

A bulk load may leave correlation for later (`accord ingest --defer-correlation`): the writer
stores the versions as usual and, in the same transaction, records in ``correlation_backlog``
the sequence numbers of those that correlation would have taken (`defer`). The `correlation`
job (`catch_up`) then takes the backlog a chunk at a time, oldest first, each chunk in one
transaction: it correlates the chunk's versions that are still their object's latest with
the same code as a write (`accord.store.correlation.write.correlate`, catching up) and
deletes the chunk's rows. A failure rolls the chunk back whole, rows included, so it stays
for the next run; a committed chunk is gone, so nothing is correlated twice.

A version in the backlog does not exist for correlation (`accord.store.correlation.write`):
no write joins it, and when its turn comes it joins every version correlated before it, so
each pair is found once and each hub counts each member once.

The chunk is taken under the writers' lock (`accord.store.objects.WRITE_LOCK`), as a write
is correlated: hub counts are read, added to and written back, which concurrent writers
would get wrong. So chunks are correlated one at a time and in sequence order, whichever
worker takes them; on PostgreSQL the rows are also locked (``FOR UPDATE SKIP LOCKED``), so
that nothing else can delete them under a chunk. On SQLite the write transaction holds the
database's write lock from its start.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Final

from sqlalchemy import Connection, Engine, func, select

from accord.model.observable_types import Observable
from accord.model.observables import IndexedObservable
from accord.model.tlp import Tlp
from accord.store.correlation.policy import policy_for
from accord.store.correlation.write import correlatable, correlate
from accord.store.dialects import backend_for
from accord.store.engine import write_transaction
from accord.store.objects import WRITE_LOCK
from accord.store.records import NewVersion
from accord.store.schema import correlation_backlog, objects, observables

CHUNK: Final = 2000  # versions per transaction: what a write's chunk holds (ingest.stix)
# One run of the job stops taking chunks after this long: below the 30 s a stopping worker
# gives a run in progress (docs/jobs.md), so that a stop rarely aborts a chunk.
BUDGET_SECONDS: Final = 20.0


def defer(
    conn: Connection, rows: Sequence[tuple[int, NewVersion]], latest_key: set[tuple[str, str]]
) -> None:
    """Record the fresh versions (``rows``) that correlation would take, in the writer's
    transaction, instead of correlating them."""
    seqs = [(seq,) for seq, _ in correlatable(rows, latest_key)]
    backend_for(conn).bulk_insert(conn, correlation_backlog, ("seq",), seqs)


def backlog_size(engine: Engine) -> int:
    """Versions waiting for correlation."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(correlation_backlog)).scalar_one())


def catch_up(
    engine: Engine, budget_seconds: float = BUDGET_SECONDS, chunk: int = CHUNK
) -> dict[str, int]:
    """Correlate the backlog a chunk at a time until it is empty or ``budget_seconds`` are
    spent: how many versions were taken, in how many chunks, and how many are left."""
    start = time.monotonic()
    taken = chunks = 0
    while time.monotonic() - start < budget_seconds:
        found = correlate_next(engine, chunk)
        if not found:
            break
        taken += found
        chunks += 1
    return {"versions": taken, "chunks": chunks, "left": backlog_size(engine)}


def correlate_next(engine: Engine, limit: int = CHUNK) -> int:
    """Correlate the oldest ``limit`` versions of the backlog and delete their rows, in one
    transaction; answer how many rows were taken (0: the backlog is empty)."""
    with write_transaction(engine) as conn:
        backend_for(conn).lock_writes(conn, WRITE_LOCK)
        seqs = list(
            conn.execute(
                select(correlation_backlog.c.seq)
                .order_by(correlation_backlog.c.seq)
                .limit(limit)
                .with_for_update(skip_locked=True)  # rendered by PostgreSQL only
            ).scalars()
        )
        if not seqs:
            return 0
        versions = _latest_versions(conn, seqs)
        policy = policy_for(engine)
        for run in _runs(seqs):
            # Out of the backlog first: correlation leaves out the versions still in it
            # (the next runs among them), and joins this run to everything else.
            conn.execute(
                correlation_backlog.delete().where(
                    correlation_backlog.c.seq.between(run[0], run[-1])
                )
            )
            rows = [(seq, versions[seq]) for seq in run if seq in versions]
            latest_key = {(version.id, version.modified) for _, version in rows}
            correlate(conn, policy, rows, latest_key)
    return len(seqs)


def _runs(seqs: list[int]) -> list[list[int]]:
    """``seqs`` (ascending) cut into runs of consecutive numbers, as a write's chunk is:
    `correlate` leaves out the range between a chunk's first and last, and a version
    stored between two runs is not theirs."""
    runs: list[list[int]] = []
    for seq in seqs:
        if runs and runs[-1][-1] == seq - 1:
            runs[-1].append(seq)
        else:
            runs.append([seq])
    return runs


def _latest_versions(conn: Connection, seqs: list[int]) -> dict[int, NewVersion]:
    """The versions of ``seqs`` still their object's latest, with what correlation reads of
    them (observables, type, JSON); a superseded or deleted one is left out."""
    found: dict[int, NewVersion] = {}
    stmt = select(objects).where(objects.c.seq.in_(seqs), objects.c.is_latest)
    for row in conn.execute(stmt):
        found[int(row.seq)] = NewVersion(
            index=0,
            id=row.id,
            modified=row.modified,
            type=row.type,
            spec_version=row.spec_version,
            created_by_ref=row.created_by_ref,
            revoked=bool(row.revoked),
            tlp=Tlp(row.tlp),
            audience=frozenset(),
            raw=row.raw,
        )
    if not found:
        return found
    held = select(observables).where(observables.c.seq.in_(sorted(found)))
    for item in conn.execute(held):
        observable = Observable(item.kind, item.value, item.host, item.lo, item.hi, item.rdomain)
        found[int(item.seq)].observables.append(
            IndexedObservable(observable, item.source, bool(item.simple), item.path)
        )
    return found
