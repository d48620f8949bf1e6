"""The hubs one write touches and the correlation rows it adds.

Every correlation goes through a *hub*: the shared value, the network, the parent domain, the
host, the file. A hub that joins more than the policy's ``cap`` objects is over-correlating:
its rows are deleted, no more are written, and a reader gets a count instead of the list
(docs/correlation.md). `HubTable` keeps a chunk's hubs, reads and writes ``correlation_hubs``,
and collects the new rows, one per pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Connection, select, text

from accord.store.correlation.policy import CorrelationPolicy
from accord.store.dialects import backend_for
from accord.store.schema import correlation_backlog, correlations

FILE_CHUNK: Final = 500  # values per IN (...) list, well inside SQLite's parameter limit


@dataclass(slots=True)
class Hub:
    participants: set[int] = field(default_factory=set)
    fresh: set[int] = field(default_factory=set)
    full: bool = False  # a reverse search hit its limit
    edges: list[tuple[int, int, str, str, str]] = field(default_factory=list)


class HubTable:
    """One chunk's hubs and new correlation rows."""

    def __init__(self, conn: Connection, policy: CorrelationPolicy) -> None:
        self.conn = conn
        self.policy = policy
        self.backend = backend_for(conn)
        # Most versions are the latest: SQLite must not drive a join from the is_latest index
        # (accord.store.visibility.latest says why).
        self._latest = self.backend.likely_sql("o.is_latest")
        # Whether versions wait in the correlation backlog: they are then left out of what a
        # chunk joins (accord.store.correlation.write says why); probed once a chunk, so that
        # a node that never defers correlation pays no more.
        self.waiting = conn.execute(select(correlation_backlog.c.seq).limit(1)).first() is not None
        self.hubs: dict[str, Hub] = {}
        self.rows: dict[tuple[int, int, str, str], tuple[Any, ...]] = {}

    def _list(self, values: Sequence[str]) -> Any:
        return self.backend.values_param(values)

    def _source(self, name: str = "wanted") -> str:
        return self.backend.values_sql(name)

    def known_hubs(self, hubs: list[str]) -> dict[str, tuple[int, bool]]:
        if not hubs:
            return {}
        source = self.backend.by_key_sql(self._source(), "correlation_hubs", "h", "hub")
        sql = f"SELECT h.hub, h.members, h.over FROM {source}"
        rows = self.conn.execute(text(sql), {"wanted": self._list(hubs)})
        return {hub: (int(members), bool(over)) for hub, members, over in rows}

    def hub(self, hub: str) -> Hub:
        found = self.hubs.get(hub)
        if found is None:
            found = self.hubs[hub] = Hub()
        return found

    def edge(
        self, hub: str, seq: int, other: int, relation: str, value: str, other_value: str
    ) -> None:
        entry = self.hub(hub)
        entry.participants.update((seq, other))
        entry.edges.append((seq, other, relation, value, other_value))

    def row(
        self,
        seq: int,
        other: int,
        relation: str,
        value: str,
        other_value: str,
        hub: str,
        similarity: int | None,
    ) -> None:
        # One row per pair, whichever end found it first (a chunk finds pairs from both ends).
        if (other, seq, other_value, value) not in self.rows:
            self.rows.setdefault(
                (seq, other, value, other_value),
                (seq, other, relation, value, other_value, hub, similarity),
            )

    def upsert_hubs(self, rows: list[tuple[str, int, bool]]) -> None:
        if not rows:
            return
        sql = (
            "INSERT INTO correlation_hubs (hub, members, over) VALUES (:hub, :members, :over) "
            "ON CONFLICT (hub) DO UPDATE SET members = excluded.members, over = excluded.over"
        )
        self.conn.execute(
            text(sql),
            [{"hub": hub, "members": members, "over": over} for hub, members, over in rows],
        )

    def delete_hubs(self, hubs: list[str]) -> None:
        for start in range(0, len(hubs), FILE_CHUNK):
            chunk = hubs[start : start + FILE_CHUNK]
            self.conn.execute(correlations.delete().where(correlations.c.hub.in_(chunk)))
