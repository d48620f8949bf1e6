"""Correlation at ingest: each fresh latest version joined to the latest versions that relate
to one of its observables.

| relation (this end -> other end) | meaning |
| --- | --- |
| ``same-value`` | both hold the value |
| ``cidr`` / ``contains`` | an address or network inside a network the other holds / the reverse |
| ``parent-domain`` / ``subdomain`` | the other holds a parent domain / a name below this one |
| ``url-host`` / ``host`` | a URL or e-mail on a host (or its domain, its network) the other holds |
| ``same-file`` | a hash of the same file (``correlation.files``) |
| ``similar`` | ssdeep or TLSH similar above the threshold (``correlation.fuzzy``) |

The work is incremental: a few batched, indexed queries per written chunk against the
observable index (the same normalisation and ``candidates`` as the look-up), never a
recompute. Each pair is one row, read from either end through that end's index.

**Bounded storage.** Every correlation goes through a hub (`accord.store.correlation.hub_table`):
a hub that joins more than ``cap`` objects (the node setting ``correlation.cap``, default 100)
becomes over-correlating: its rows are deleted, no more are written, and a reader gets the
number of objects it joins instead of the list. A hub costs at most ``cap`` x ``cap`` rows,
however popular its value (a public resolver in 10,000 objects costs none). Over-correlation
is sticky, and versions count as members (it errs towards "over"). Fuzzy matches keep the
``cap`` most similar per hash.

**Deferred versions.** A version waiting in the correlation backlog (written by a bulk load
with correlation deferred: `accord.store.correlation_backlog`) does not exist for correlation
until the job takes it: no write joins it, and when the job correlates it, it joins every
version correlated before it. So each pair is found once, by whichever end is correlated
second, and each hub counts each member once, in whatever order writes and the job come.

Reading, through the visibility rule, is ``accord.store.correlation.read``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import Connection, text

from accord.model.observable_types import Observable
from accord.store.candidates import candidates, load_prefixes
from accord.store.correlation.files import correlate_files
from accord.store.correlation.fuzzy import correlate_fuzzy
from accord.store.correlation.hub_table import HubTable
from accord.store.correlation.policy import CorrelationPolicy
from accord.store.correlation.relations import NETWORK_FAMILY, relation_of
from accord.store.records import NewVersion
from accord.store.schema import correlations

_FUZZY: Final = ("ssdeep", "tlsh")


def correlate(
    conn: Connection,
    policy: CorrelationPolicy,
    rows: Sequence[tuple[int, NewVersion]],
    latest_key: set[tuple[str, str]],
) -> None:
    """Correlate the fresh versions (``rows``: with their sequence numbers, consecutive)
    that became the latest of their object. Runs inside the writer's transaction, under its
    write lock (`accord.store.version_writer`; the job's, `accord.store.correlation_backlog`)."""
    items = correlatable(rows, latest_key)
    if policy.enabled and items:
        _Writer(conn, policy).run(items)


def correlatable(
    rows: Sequence[tuple[int, NewVersion]], latest_key: set[tuple[str, str]]
) -> list[tuple[int, NewVersion]]:
    """The versions of ``rows`` that correlation takes: the latest of their object, with
    observables."""
    return [(s, v) for s, v in rows if v.observables and (v.id, v.modified) in latest_key]


class _Writer(HubTable):
    """One chunk's correlation work."""

    def __init__(self, conn: Connection, policy: CorrelationPolicy) -> None:
        super().__init__(conn, policy)
        self._not_waiting = (
            " AND NOT EXISTS (SELECT 1 FROM correlation_backlog waits WHERE waits.seq = ob.seq)"
            if self.waiting
            else ""
        )

    def run(self, items: list[tuple[int, NewVersion]]) -> None:
        prefixes = load_prefixes(self.conn)
        forward: list[tuple[int, str, str, str]] = []  # (seq, own value, target, relation)
        nets: list[tuple[str, str, str, str]] = []  # (hub, kind, lo, hi)
        domains: list[tuple[str, str, str]] = []  # (hub, rdomain low, rdomain high)
        hosts: list[str] = []
        holders: dict[str, set[int]] = {}  # fresh holders of a reverse hub
        fuzzy: list[tuple[int, Observable]] = []
        for seq, version in items:
            for item in version.observables:
                observable = item.observable
                kind = observable.kind
                for target, found in candidates(observable, prefixes).values.items():
                    relation = relation_of(found, kind)
                    forward.append((seq, observable.value, target, relation))
                if kind in NETWORK_FAMILY and observable.lo and observable.hi:
                    for member in NETWORK_FAMILY[kind]:
                        nets.append((observable.value, member, observable.lo, observable.hi))
                elif kind == "domain" and observable.rdomain:
                    low = observable.rdomain
                    domains.append((observable.value, low, low[:-1] + "/"))
                elif kind in ("ipv4", "ipv6"):
                    hosts.append(observable.value)
                else:
                    if kind in _FUZZY:
                        fuzzy.append((seq, observable))
                    continue
                holders.setdefault(observable.value, set()).add(seq)
        wanted = {f[2] for f in forward} | set(holders)
        known = self.known_hubs(sorted(wanted))
        over = {hub for hub, (_, is_over) in known.items() if is_over}
        fresh_seqs = [seq for seq, _ in items]
        self._forward([f for f in forward if f[2] not in over], min(fresh_seqs), max(fresh_seqs))
        limit = self.policy.cap + 2
        # Each hub once: a value held by two fresh versions would double its rows.
        self._reverse("net", sorted({n for n in nets if n[0] not in over}), holders, limit)
        self._reverse("domain", sorted({d for d in domains if d[0] not in over}), holders, limit)
        self._reverse("host", [(h,) for h in sorted(set(hosts)) if h not in over], holders, limit)
        self._settle(known, {seq for seq, _ in items})
        correlate_files(self, items)
        correlate_fuzzy(self, fuzzy)
        self.backend.bulk_insert(
            self.conn,
            correlations,
            ("seq", "other_seq", "relation", "value", "other_value", "hub", "similarity"),
            list(self.rows.values()),
        )

    def _forward(self, forward: list[tuple[int, str, str, str]], first: int, last: int) -> None:
        """Fresh objects -> the latest objects holding one of their candidate values: stored
        ones from the index (the chunk's own rows left out), fresh ones from memory."""
        if not forward:
            return
        sql = (
            f"SELECT wanted.value, ob.seq FROM {self._source()} "
            "JOIN observables ob ON ob.value = wanted.value "
            f"JOIN objects o ON o.seq = ob.seq WHERE {self._latest} "
            f"AND (ob.seq < :first OR ob.seq > :last){self._not_waiting}"
        )
        found: dict[str, set[int]] = {}
        for seq, value, _target, relation in forward:
            if relation == "same-value":
                found.setdefault(value, set()).add(seq)
        targets = sorted({f[2] for f in forward})
        params = {"wanted": self._list(targets), "first": first, "last": last}
        for value, seq in self.conn.execute(text(sql), params):
            found.setdefault(value, set()).add(int(seq))
        for seq, value, target, relation in forward:
            holders = found.get(target)
            if holders is None:
                continue
            hub = None
            for other in holders:
                if other != seq:
                    if hub is None:
                        hub = self.hub(target)
                        hub.fresh.add(seq)
                    hub.participants.add(other)
                    hub.edges.append((seq, other, relation, value, target))
            if hub is not None:
                hub.participants.add(seq)

    def _reverse(
        self,
        what: str,
        wanted: Sequence[tuple[str, ...]],
        holders: dict[str, set[int]],
        limit: int,
    ) -> None:
        """Fresh networks, domains and addresses -> the latest objects with values below
        them (addresses and networks inside, names below, URLs on them), ``limit`` per hub."""
        if not wanted:
            return
        rows = self._reverse_rows(what, wanted, limit)
        counts: dict[str, int] = {}
        for hub, seq, value, kind in rows:
            counts[hub] = counts.get(hub, 0) + 1
            if what == "domain":
                relation = "subdomain" if kind == "domain" else "host"
            else:
                relation = "contains" if what == "net" else "host"
            for holder in holders.get(hub, ()):
                if holder != seq:
                    self.edge(hub, holder, seq, relation, hub, value)
        for hub, count in counts.items():
            if count >= limit:
                self.hub(hub).full = True

    def _reverse_rows(
        self, what: str, wanted: Sequence[tuple[str, ...]], limit: int
    ) -> list[tuple[str, int, str, str]]:
        columns = {
            "net": ("hub", "kind", "lo", "hi"),
            "domain": ("hub", "lo", "hi"),
            "host": ("hub",),
        }[what]
        source, params, col = self.backend.tuples_sql("w", columns, wanted)
        if what == "net":
            condition = (
                f"ob.kind = {col['kind']} AND ob.lo >= {col['lo']} AND ob.lo <= {col['hi']} "
                f"AND ob.hi <= {col['hi']} AND ob.value <> {col['hub']}"
            )
        elif what == "domain":
            condition = (
                f"ob.rdomain >= {col['lo']} AND ob.rdomain < {col['hi']} "
                f"AND NOT (ob.kind = 'domain' AND ob.value = {col['hub']})"
            )
        else:
            condition = f"ob.host = {col['hub']} AND ob.kind IN ('url', 'email')"
        sql = self.backend.first_rows_sql(
            source,
            col["hub"],
            "observables ob",
            condition,
            f"JOIN objects o ON o.seq = ob.seq WHERE {self._latest}{self._not_waiting}",
        )
        params["limit"] = limit
        return [
            (str(hub), int(seq), str(value), str(kind))
            for hub, seq, value, kind in self.conn.execute(text(sql), params)
        ]

    def _settle(self, known: dict[str, tuple[int, bool]], fresh: set[int]) -> None:
        """Count each hub's members; keep its rows under the cap, else mark it over."""
        upserts: list[tuple[str, int, bool]] = []
        gone: list[str] = []
        for hub, entry in self.hubs.items():
            if not entry.edges:
                continue
            previous = known.get(hub)
            if previous is None:
                members = len(entry.participants)
            else:
                members = previous[0] + len((entry.participants | entry.fresh) & fresh)
            over = entry.full or members > self.policy.cap
            upserts.append((hub, members, over))
            if over:
                if previous is not None:
                    gone.append(hub)
                continue
            for seq, other, relation, value, other_value in entry.edges:
                self.row(seq, other, relation, value, other_value, hub, None)
        self.upsert_hubs(upserts)
        self.delete_hubs(gone)
