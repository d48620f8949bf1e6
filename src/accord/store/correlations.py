"""Correlation: which objects share an observable, joined up at ingest and read through the
visibility rule.

**At ingest** (``correlate``, called once at the end of ``ObjectStore._put``) each fresh
latest version is joined to the latest versions that relate to one of its observables:

| relation (this end -> other end) | meaning |
| --- | --- |
| ``same-value`` | both hold the value |
| ``cidr`` / ``contains`` | an address or network inside a network the other holds / the reverse |
| ``parent-domain`` / ``subdomain`` | the other holds a parent domain / a name below this one |
| ``url-host`` / ``host`` | a URL or e-mail on a host (or its domain, its network) the other holds |
| ``same-file`` | a hash of the same file (an object with several hashes of one file unifies them) |
| ``similar`` | ssdeep or TLSH similar above the policy's threshold (``similarity`` 0-100) |

The work is incremental: a few batched, indexed queries per written chunk against the
observable index (the same normalisation and ``candidates`` as the look-up), never a
recompute. Each pair is one row, read from either end through that end's index.

**Bounded storage.** Every correlation goes through a *hub*: the shared value, the network,
the parent domain, the host, the file. A hub that joins more than ``cap`` objects (the node
setting ``correlation.cap``, default 100) becomes over-correlating: its rows are deleted, no
more are written, and a reader gets the number of objects it joins instead of the list. A hub
costs at most ``cap`` x ``cap`` rows, however popular its value (a public resolver in 10,000
objects costs none). Over-correlation is sticky, and versions count as members (it errs towards
"over"). Fuzzy matches keep the ``cap`` most similar per hash.

Reading, through the visibility rule, is ``accord.store.correlated``.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from accord.model.hashes import kind_for_hash_name
from accord.model.observable_types import HASH_KINDS, Observable, ObservableError
from accord.model.observables import normalise
from accord.store.bulk import bulk_insert, is_postgres
from accord.store.observables import candidates
from accord.store.records import NewVersion
from accord.store.schema import (
    correlations,
    file_hashes,
    fuzzy_hashes,
    net_prefixes,
    objects,
    observables,
)
from accord.store.sightings import record_facts
from accord.store.visibility import latest

REVERSE: Final[dict[str, str]] = {
    "same-value": "same-value",
    "cidr": "contains",
    "contains": "cidr",
    "parent-domain": "subdomain",
    "subdomain": "parent-domain",
    "url-host": "host",
    "host": "url-host",
    "same-file": "same-file",
    "similar": "similar",
}
NETWORK_FAMILY: Final = {"ipv4-net": ("ipv4", "ipv4-net"), "ipv6-net": ("ipv6", "ipv6-net")}
_FUZZY: Final = ("ssdeep", "tlsh")
FILE_HUB: Final = "file:"
FILE_CHUNK: Final = 500  # values per IN (...) list, well inside SQLite's parameter limit


DEFAULT_CAP = 100


@dataclass(frozen=True, slots=True)
class CorrelationPolicy:
    """How correlation runs on one database."""

    enabled: bool = True
    """Off: nothing is correlated at ingest (the benchmark's baseline)."""
    cap: int = DEFAULT_CAP
    """A hub joining more objects than this is over-correlating (the node setting
    ``correlation.cap``)."""
    ssdeep_min_score: int = 60
    """ssdeep comparison score (0-100) from which two hashes are similar."""
    tlsh_max_distance: int = 40
    """TLSH distance up to which two hashes are similar (0 is identical); shown as
    similarity ``100 - distance``."""
    fuzzy_candidates: int = 5000
    """At most this many stored hashes of the same bucket are compared with a new one."""


_policies: weakref.WeakKeyDictionary[Engine, CorrelationPolicy] = weakref.WeakKeyDictionary()


def set_policy(engine: Engine, policy: CorrelationPolicy) -> None:
    """Use ``policy`` for everything written and read through ``engine``."""
    _policies[engine] = policy


def policy_for(engine: Engine) -> CorrelationPolicy:
    """The engine's policy; by default with the cap stored in the node's settings
    (``accord settings set correlation.cap N``), the same for every process of the node."""
    found = _policies.get(engine)
    if found is None:
        from accord.store.node_settings import CORRELATION_CAP, NodeSettings

        try:
            stored = NodeSettings(engine).get(CORRELATION_CAP)
        except DBAPIError:  # a database not migrated to 0009 yet (a migration's test)
            stored = None
        cap = int(stored) if stored is not None else DEFAULT_CAP
        found = _policies[engine] = CorrelationPolicy(cap=cap)
    return found


def forget_policy(engine: Engine) -> None:
    """Read the policy again from the node's settings next time (the cap was changed)."""
    _policies.pop(engine, None)


# -- writing -----------------------------------------------------------------------------------


def correlate(
    conn: Connection,
    seqs: Sequence[int],
    fresh: Sequence[NewVersion],
    latest_key: set[tuple[str, str]],
) -> None:
    """The write hook: record sighting facts, and correlate the fresh versions that became
    the latest of their object. Runs inside the writer's transaction."""
    rows = list(zip(seqs, fresh, strict=True))
    record_facts(conn, rows)
    policy = policy_for(conn.engine)
    items = [(s, v) for s, v in rows if v.observables and (v.id, v.modified) in latest_key]
    if policy.enabled and items:
        _Writer(conn, policy).run(items)


@dataclass(slots=True)
class _Hub:
    participants: set[int] = field(default_factory=set)
    fresh: set[int] = field(default_factory=set)
    full: bool = False  # a reverse search hit its limit
    edges: list[tuple[int, int, str, str, str]] = field(default_factory=list)


class _Writer:
    """One chunk's correlation work."""

    def __init__(self, conn: Connection, policy: CorrelationPolicy) -> None:
        self.conn = conn
        self.policy = policy
        self.pg = is_postgres(conn)
        # Most versions are the latest: SQLite must not drive a join from the is_latest index
        # (accord.store.visibility.latest says why).
        self._latest = "o.is_latest" if self.pg else "likelihood(o.is_latest = 1, 0.99)"
        self.hubs: dict[str, _Hub] = {}
        self.rows: dict[tuple[int, int, str, str], tuple[Any, ...]] = {}

    def run(self, items: list[tuple[int, NewVersion]]) -> None:
        prefixes: dict[str, list[int]] = {}
        for kind, prefix in self.conn.execute(select(net_prefixes.c.kind, net_prefixes.c.prefix)):
            prefixes.setdefault(kind, []).append(int(prefix))
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
        known = self._known_hubs(sorted(wanted))
        over = {hub for hub, (_, is_over) in known.items() if is_over}
        fresh_seqs = [seq for seq, _ in items]
        self._forward([f for f in forward if f[2] not in over], min(fresh_seqs), max(fresh_seqs))
        limit = self.policy.cap + 2
        self._reverse("net", [n for n in nets if n[0] not in over], holders, limit)
        self._reverse("domain", [d for d in domains if d[0] not in over], holders, limit)
        self._reverse("host", [(h,) for h in sorted(set(hosts)) if h not in over], holders, limit)
        self._settle(known, {seq for seq, _ in items})
        self._files(items)
        self._fuzzy(fuzzy)
        bulk_insert(
            self.conn,
            correlations,
            ("seq", "other_seq", "relation", "value", "other_value", "hub", "similarity"),
            list(self.rows.values()),
        )

    def _list(self, values: Sequence[str]) -> Any:
        return list(values) if self.pg else orjson.dumps(list(values)).decode()

    def _source(self, name: str = "wanted") -> str:
        if self.pg:
            return f"unnest(CAST(:{name} AS text[])) AS wanted(value)"
        return f"json_each(:{name}) AS wanted"

    def _known_hubs(self, hubs: list[str]) -> dict[str, tuple[int, bool]]:
        if not hubs:
            return {}
        sql = (
            f"SELECT h.hub, h.members, h.over FROM {self._source()} "
            "JOIN correlation_hubs h ON h.hub = wanted.value"
        )
        rows = self.conn.execute(text(sql), {"wanted": self._list(hubs)})
        return {row[0]: (int(row[1]), bool(row[2])) for row in rows}

    def _hub(self, hub: str) -> _Hub:
        found = self.hubs.get(hub)
        if found is None:
            found = self.hubs[hub] = _Hub()
        return found

    def _edge(
        self, hub: str, seq: int, other: int, relation: str, value: str, other_value: str
    ) -> None:
        entry = self._hub(hub)
        entry.participants.update((seq, other))
        entry.edges.append((seq, other, relation, value, other_value))

    def _forward(self, forward: list[tuple[int, str, str, str]], first: int, last: int) -> None:
        """Fresh objects -> the latest objects holding one of their candidate values: stored
        ones from the index (the chunk's own rows left out), fresh ones from memory."""
        if not forward:
            return
        sql = (
            f"SELECT wanted.value, ob.seq FROM {self._source()} "
            "JOIN observables ob ON ob.value = wanted.value "
            f"JOIN objects o ON o.seq = ob.seq WHERE {self._latest} "
            "AND (ob.seq < :first OR ob.seq > :last)"
        )
        found: dict[str, set[int]] = {}
        for seq, value, _target, relation in forward:
            if relation == "same-value":
                found.setdefault(value, set()).add(seq)
        targets = sorted({f[2] for f in forward})
        params = {"wanted": self._list(targets), "first": first, "last": last}
        for row in self.conn.execute(text(sql), params):
            found.setdefault(row[0], set()).add(int(row[1]))
        for seq, value, target, relation in forward:
            holders = found.get(target)
            if holders is None:
                continue
            hub = None
            for other in holders:
                if other != seq:
                    if hub is None:
                        hub = self._hub(target)
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
                    self._edge(hub, holder, seq, relation, hub, value)
        for hub, count in counts.items():
            if count >= limit:
                self._hub(hub).full = True

    def _reverse_rows(
        self, what: str, wanted: Sequence[tuple[str, ...]], limit: int
    ) -> list[tuple[str, int, str, str]]:
        columns = {
            "net": ("hub", "kind", "lo", "hi"),
            "domain": ("hub", "lo", "hi"),
            "host": ("hub",),
        }[what]
        if self.pg:
            arrays = ", ".join(f"CAST(:c{i} AS text[])" for i in range(len(columns)))
            source = f"unnest({arrays}) AS w({', '.join(columns)})"
            params: dict[str, Any] = {f"c{i}": [w[i] for w in wanted] for i in range(len(columns))}
            col = {name: f"w.{name}" for name in columns}
        else:
            source = "json_each(:wanted) AS w"
            params = {"wanted": orjson.dumps([list(w) for w in wanted]).decode()}
            col = {name: f"json_extract(w.value, '$[{i}]')" for i, name in enumerate(columns)}
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
        sql = (
            "SELECT hub, seq, value, kind FROM ("
            f"SELECT {col['hub']} AS hub, ob.seq AS seq, ob.value AS value, ob.kind AS kind, "
            f"row_number() OVER (PARTITION BY {col['hub']} ORDER BY ob.seq) AS n "
            f"FROM {source} JOIN observables ob ON {condition} "
            f"JOIN objects o ON o.seq = ob.seq WHERE {self._latest}) found WHERE n <= :limit"
        )
        params["limit"] = limit
        return [
            (str(r[0]), int(r[1]), str(r[2]), str(r[3]))
            for r in self.conn.execute(text(sql), params)
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
                self._row(seq, other, relation, value, other_value, hub, None)
        self._upsert_hubs(upserts)
        self._delete_hubs(gone)

    def _row(
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

    def _upsert_hubs(self, rows: list[tuple[str, int, bool]]) -> None:
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

    def _delete_hubs(self, hubs: list[str]) -> None:
        for start in range(0, len(hubs), FILE_CHUNK):
            chunk = hubs[start : start + FILE_CHUNK]
            self.conn.execute(correlations.delete().where(correlations.c.hub.in_(chunk)))

    # -- one file under several hashes ---------------------------------------------------------

    def _files(self, items: list[tuple[int, NewVersion]]) -> None:
        groups: list[set[str]] = []
        hashed: set[str] = set()
        for _, version in items:
            values = [
                i.observable.value for i in version.observables if i.observable.kind in HASH_KINDS
            ]
            if not values:
                continue
            hashed.update(values)
            groups.extend(g for g in _file_groups(version) if len(g) > 1)
        if not hashed:
            return
        touched = self._unify(groups)
        touched.update(self._file_keys(sorted(hashed)).values())
        self._file_edges(sorted(touched))

    def _file_keys(self, values: Sequence[str]) -> dict[str, str]:
        """The file each of these hash values is known to name (value -> file key)."""
        found: dict[str, str] = {}
        for start in range(0, len(values), FILE_CHUNK):
            chunk = list(values[start : start + FILE_CHUNK])
            stmt = select(file_hashes.c.value, file_hashes.c.file_key)
            found.update(self.conn.execute(stmt.where(file_hashes.c.value.in_(chunk))).all())
        return found

    def _unify(self, groups: list[set[str]]) -> set[str]:
        """Merge the groups into the file table; answer the keys that changed.

        Union-find over the whole chunk at once: each group joins its values and the files
        they are known by already, and a merged file is keyed by the least of its keys and
        new values, which is what merging the groups one by one would give too."""
        if not groups:
            return set()
        existing = self._file_keys(sorted(set().union(*groups)))
        parent: dict[str, str] = {}

        def find(item: str) -> str:
            root = item
            while parent.get(root, root) != root:
                root = parent[root]
            while item != root:  # path compression
                parent[item], item = root, parent[item]
            return root

        def union(one: str, other: str) -> None:
            a, b = find(one), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)

        # Nodes: a new value stands for itself; a known value for its file's key.
        for group in groups:
            nodes = [existing.get(value, value) for value in group]
            for node in nodes[1:]:
                union(nodes[0], node)
        components: dict[str, set[str]] = {}
        for group in groups:
            for value in group:
                components.setdefault(find(existing.get(value, value)), set()).add(value)
        changed: set[str] = set()
        renames: dict[str, str] = {}  # stale key -> the key that replaces it
        inserts: list[dict[str, str]] = []
        for key, values in components.items():
            stale = {existing[v] for v in values if v in existing} - {key}
            renames.update((old, key) for old in stale)
            missing = sorted(v for v in values if v not in existing)
            inserts.extend({"value": v, "file_key": key} for v in missing)
            if stale or missing:
                changed.add(key)
        for key in sorted(set(renames.values())):
            stale_keys = sorted(old for old, new in renames.items() if new == key)
            self.conn.execute(
                file_hashes.update()
                .where(file_hashes.c.file_key.in_(stale_keys))
                .values(file_key=key)
            )
        self._delete_hubs([FILE_HUB + old for old in sorted(renames)])
        if inserts:
            self.conn.execute(file_hashes.insert(), inserts)
        return changed

    def _file_edges(self, keys: list[str]) -> None:
        """Recompute the same-file rows of these files: objects holding different hashes of
        one file. Three queries for all of them, not three per file."""
        known = self._known_hubs([FILE_HUB + key for key in keys])
        keys = [key for key in keys if not known.get(FILE_HUB + key, (0, False))[1]]
        if not keys:
            return
        key_of: dict[str, str] = {}  # hash value -> file key
        for start in range(0, len(keys), FILE_CHUNK):
            chunk = keys[start : start + FILE_CHUNK]
            stmt = select(file_hashes.c.value, file_hashes.c.file_key)
            key_of.update(self.conn.execute(stmt.where(file_hashes.c.file_key.in_(chunk))).all())
        held: dict[str, dict[int, set[str]]] = {key: {} for key in keys}
        values = sorted(key_of)
        for start in range(0, len(values), FILE_CHUNK):
            stmt = (
                select(observables.c.seq, observables.c.value)
                .join(objects, objects.c.seq == observables.c.seq)
                .where(observables.c.value.in_(values[start : start + FILE_CHUNK]))
                .where(latest(objects))
            )
            for seq, value in self.conn.execute(stmt):
                held[key_of[value]].setdefault(int(seq), set()).add(value)
        self._delete_hubs([FILE_HUB + key for key in keys])
        self._upsert_hubs(
            [(FILE_HUB + key, len(held[key]), len(held[key]) > self.policy.cap) for key in keys]
        )
        for key in keys:
            holders = held[key]
            if len(holders) > self.policy.cap:
                continue
            ordered = sorted(holders)
            for i, seq in enumerate(ordered):
                for other in ordered[i + 1 :]:
                    if holders[seq] & holders[other]:
                        continue  # they share a value: a same-value correlation says it already
                    value, other_value = min(holders[seq]), min(holders[other])
                    self._row(seq, other, "same-file", value, other_value, FILE_HUB + key, None)

    # -- fuzzy hashes ------------------------------------------------------------------------

    def _fuzzy(self, found: list[tuple[int, Observable]]) -> None:
        if not found:
            return
        rows = [
            (seq, o.kind, bucket, o.value) for seq, o in found if (bucket := _bucket(o)) is not None
        ]
        for seq, kind, bucket, value in rows:
            spread = 3 if kind == "tlsh" else 0
            low, high = (
                (bucket - spread, bucket + spread) if kind == "tlsh" else (bucket // 2, bucket * 2)
            )
            stmt = (
                select(fuzzy_hashes.c.seq, fuzzy_hashes.c.value, fuzzy_hashes.c.bucket)
                .join(objects, objects.c.seq == fuzzy_hashes.c.seq)
                .where(fuzzy_hashes.c.kind == kind)
                .where(fuzzy_hashes.c.bucket.between(low, high))
                .where(latest(objects))
                .where(fuzzy_hashes.c.value != value)
                .limit(self.policy.fuzzy_candidates)
            )
            scored: list[tuple[int, int, str]] = []
            for other, other_value, other_bucket in self.conn.execute(stmt):
                if kind == "ssdeep" and other_bucket not in (bucket // 2, bucket, bucket * 2):
                    continue
                similarity = self._similarity(kind, value, other_value)
                if similarity is not None and int(other) != seq:
                    scored.append((similarity, int(other), other_value))
            scored.sort(key=lambda s: (-s[0], s[1]))
            for similarity, other, other_value in scored[: self.policy.cap]:
                self._row(seq, other, "similar", value, other_value, value, similarity)
        bulk_insert(self.conn, fuzzy_hashes, ("seq", "kind", "bucket", "value"), rows)

    def _similarity(self, kind: str, one: str, other: str) -> int | None:
        """0-100 when similar enough, else None."""
        if kind == "ssdeep":
            import ppdeep  # type: ignore[import-untyped]

            score = int(ppdeep.compare(one, other))
            return score if score >= self.policy.ssdeep_min_score else None
        import tlsh  # type: ignore[import-not-found]

        distance = int(tlsh.diff("T1" + one[2:].upper(), "T1" + other[2:].upper()))
        return max(0, 100 - distance) if distance <= self.policy.tlsh_max_distance else None


def relation_of(found: str, kind: str) -> str:
    """The correlation relation for a look-up candidate relation of an observable of ``kind``."""
    if found == "exact":
        return "same-value"
    return "url-host" if kind in ("url", "email") else found


def _bucket(observable: Observable) -> int | None:
    """ssdeep: the block size; TLSH: the length byte (its nibbles are stored swapped)."""
    if observable.kind == "ssdeep":
        head = observable.value.partition(":")[0]
        return int(head) if head.isdigit() else None
    if observable.kind == "tlsh" and len(observable.value) >= 8:
        byte = int(observable.value[4:6], 16)
        return ((byte & 0x0F) << 4) | (byte >> 4)
    return None


def _file_groups(version: NewVersion) -> list[set[str]]:
    """The sets of hashes that name one file: a file (or artifact) object's hashes, each file
    embedded in observed-data, an indicator whose pattern is one observation of one file."""
    hashes = {i.observable.value for i in version.observables if i.observable.kind in HASH_KINDS}
    if version.type in ("file", "artifact"):
        return [hashes]
    obj = orjson.loads(version.raw)
    if version.type == "indicator":
        pattern = str(obj.get("pattern", ""))
        paths = [i.path for i in version.observables if i.observable.kind in HASH_KINDS]
        one_file = pattern.count("[") == 1 and " OR " not in pattern.upper()
        kinds = [i.observable.kind for i in version.observables if i.observable.kind in HASH_KINDS]
        if one_file and len(set(kinds)) == len(kinds) and all(p.startswith("file:") for p in paths):
            return [hashes]
        return []
    if version.type == "observed-data" and isinstance(obj.get("objects"), dict):
        groups = []
        for inner in obj["objects"].values():
            if isinstance(inner, dict) and isinstance(inner.get("hashes"), dict):
                groups.append(_hash_values(inner["hashes"]))
        return groups
    return []


def _hash_values(hashes: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for name, digest in hashes.items():
        kind = kind_for_hash_name(str(name))
        if kind is not None and isinstance(digest, str):
            try:
                found.add(normalise(kind, digest).value)
            except ObservableError:
                continue
    return found
