"""Writing object versions: the one entry point of every write (ingest, the node's own
definitions, tests).

A write is three steps in one transaction, in this order: the versions' rows
(`accord.store.objects.write_versions`), the facts of the sightings among them
(`accord.store.sightings.record_facts`), and the correlation of the fresh versions that became
their object's latest (`accord.store.correlation.write.correlate`). They are driven from here,
above the three, so that none of them imports another and none can be skipped. A bulk load
may defer the third: the versions are then recorded in the correlation backlog, in the same
transaction, for the `correlation` job (`accord.store.correlation_backlog`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine

from accord.store.chunk_writer import ChunkWriter, chunk_writer
from accord.store.correlation.policy import policy_for
from accord.store.correlation.write import correlate
from accord.store.correlation_backlog import defer
from accord.store.engine import write_transaction
from accord.store.engine_state import engine_state
from accord.store.objects import write_versions
from accord.store.records import NewVersion, Outcome
from accord.store.sightings import record_facts


class VersionWriter:
    """Stores object versions, with their sighting facts and correlations."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # PostgreSQL: the tables are analysed at commit if the writes grew them.
        self._statistics = engine_state(engine).statistics

    def put(
        self,
        versions: Sequence[NewVersion],
        owner_org: str,
        owner_user: str | None,
        connection: Connection | None = None,
    ) -> list[Outcome]:
        """Store versions in one transaction; answer, per version, stored or duplicate.

        An older version arriving after a newer one is stored as history; the newest
        ``modified`` per id stays the latest. A failure part-way rolls everything back.
        """
        if connection is None:
            with write_transaction(self.engine) as conn:
                return self.write(conn, versions, owner_org, owner_user)
        return self.write(connection, versions, owner_org, owner_user)

    def batch_writer(
        self,
        owner_org: str,
        owner_user: str | None,
        origin_node: str | None = None,
        before_commit: Callable[[Connection], None] | None = None,
        defer_correlation: bool = False,
    ) -> ChunkWriter:
        """A writer that stores chunks of one bundle in one transaction. ``origin_node``:
        the peer node the versions came from (federation); ``before_commit`` writes
        something else in the same transaction (a federation cursor), as its last step;
        ``defer_correlation``: leave correlation to the job (a bulk load)."""
        return chunk_writer(
            self.engine,
            lambda conn, versions: self.write(
                conn, versions, owner_org, owner_user, origin_node, defer_correlation
            ),
            before_commit,
        )

    def write(
        self,
        conn: Connection,
        versions: Sequence[NewVersion],
        owner_org: str,
        owner_user: str | None,
        origin_node: str | None = None,
        defer_correlation: bool = False,
    ) -> list[Outcome]:
        """The three steps of a write, in ``conn``'s transaction (the third deferred with
        ``defer_correlation``)."""
        written = write_versions(conn, versions, owner_org, owner_user, origin_node)
        if not written.fresh:
            return written.outcomes
        rows = list(zip(written.seqs, written.fresh, strict=True))
        record_facts(conn, rows)
        if defer_correlation:
            defer(conn, rows, written.latest)
        else:
            correlate(conn, policy_for(conn.engine), rows, written.latest)  # issue 6
        if self._statistics is not None:
            self._statistics.wrote(conn, len(written.fresh))
        return written.outcomes
