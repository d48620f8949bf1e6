"""Correlation of one file under several hashes (``same-file``).

An object with several hashes of one file (a file object, a file in observed-data, an
indicator whose pattern observes one file) unifies them in ``file_hashes``: each hash value
names a file key, and the objects holding different hashes of one file correlate through the
hub ``file:<key>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import exists, select

from accord.model.hashes import kind_for_hash_name
from accord.model.observable_types import HASH_KINDS, ObservableError
from accord.model.observables import normalise
from accord.store.correlation.hub_table import FILE_CHUNK, HubTable
from accord.store.correlation.relations import FILE_HUB
from accord.store.records import NewVersion
from accord.store.schema import correlation_backlog, file_hashes, objects, observables
from accord.store.visibility import latest


def correlate_files(table: HubTable, items: list[tuple[int, NewVersion]]) -> None:
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
    touched = _unify(table, groups)
    touched.update(_file_keys(table, sorted(hashed)).values())
    _file_edges(table, sorted(touched))


def _file_keys(table: HubTable, values: Sequence[str]) -> dict[str, str]:
    """The file each of these hash values is known to name (value -> file key)."""
    found: dict[str, str] = {}
    for start in range(0, len(values), FILE_CHUNK):
        chunk = list(values[start : start + FILE_CHUNK])
        stmt = select(file_hashes.c.value, file_hashes.c.file_key)
        found.update(table.conn.execute(stmt.where(file_hashes.c.value.in_(chunk))).all())
    return found


def _unify(table: HubTable, groups: list[set[str]]) -> set[str]:
    """Merge the groups into the file table; answer the keys that changed.

    Union-find over the whole chunk at once: each group joins its values and the files
    they are known by already, and a merged file is keyed by the least of its keys and
    new values, which is what merging the groups one by one would give too."""
    if not groups:
        return set()
    existing = _file_keys(table, sorted(set().union(*groups)))
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
        table.conn.execute(
            file_hashes.update().where(file_hashes.c.file_key.in_(stale_keys)).values(file_key=key)
        )
    table.delete_hubs([FILE_HUB + old for old in sorted(renames)])
    if inserts:
        table.conn.execute(file_hashes.insert(), inserts)
    return changed


def _file_edges(table: HubTable, keys: list[str]) -> None:
    """Recompute the same-file rows of these files: objects holding different hashes of
    one file. Three queries for all of them, not three per file."""
    known = table.known_hubs([FILE_HUB + key for key in keys])
    keys = [key for key in keys if not known.get(FILE_HUB + key, (0, False))[1]]
    if not keys:
        return
    key_of: dict[str, str] = {}  # hash value -> file key
    for start in range(0, len(keys), FILE_CHUNK):
        chunk = keys[start : start + FILE_CHUNK]
        stmt = select(file_hashes.c.value, file_hashes.c.file_key)
        key_of.update(table.conn.execute(stmt.where(file_hashes.c.file_key.in_(chunk))).all())
    held: dict[str, dict[int, set[str]]] = {key: {} for key in keys}
    values = sorted(key_of)
    for start in range(0, len(values), FILE_CHUNK):
        stmt = (
            select(observables.c.seq, observables.c.value)
            .join(objects, objects.c.seq == observables.c.seq)
            .where(observables.c.value.in_(values[start : start + FILE_CHUNK]))
            .where(latest(objects))
        )
        if table.waiting:  # deferred versions join their files when the job takes them
            stmt = stmt.where(~exists().where(correlation_backlog.c.seq == observables.c.seq))
        for seq, value in table.conn.execute(stmt):
            held[key_of[value]].setdefault(int(seq), set()).add(value)
    table.delete_hubs([FILE_HUB + key for key in keys])
    table.upsert_hubs(
        [(FILE_HUB + key, len(held[key]), len(held[key]) > table.policy.cap) for key in keys]
    )
    for key in keys:
        holders = held[key]
        if len(holders) > table.policy.cap:
            continue
        ordered = sorted(holders)
        for i, seq in enumerate(ordered):
            for other in ordered[i + 1 :]:
                if holders[seq] & holders[other]:
                    continue  # they share a value: a same-value correlation says it already
                value, other_value = min(holders[seq]), min(holders[other])
                table.row(seq, other, "same-file", value, other_value, FILE_HUB + key, None)


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
