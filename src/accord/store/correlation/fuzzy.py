"""Correlation of similar fuzzy hashes (``similar``): ssdeep and TLSH.

A new hash is compared with the stored hashes of nearby buckets (ssdeep: the block size and
its neighbours; TLSH: the length byte, give or take three), at most the policy's
``fuzzy_candidates``; the ``cap`` most similar above the policy's threshold correlate.
"""

from __future__ import annotations

from sqlalchemy import select

from accord.model.observable_types import Observable
from accord.store.correlation.hub_table import HubTable
from accord.store.correlation.policy import CorrelationPolicy
from accord.store.schema import fuzzy_hashes, objects
from accord.store.visibility import latest


def correlate_fuzzy(table: HubTable, found: list[tuple[int, Observable]]) -> None:
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
            .limit(table.policy.fuzzy_candidates)
        )
        scored: list[tuple[int, int, str]] = []
        for other, other_value, other_bucket in table.conn.execute(stmt):
            if kind == "ssdeep" and other_bucket not in (bucket // 2, bucket, bucket * 2):
                continue
            similarity = _similarity(table.policy, kind, value, other_value)
            if similarity is not None and int(other) != seq:
                scored.append((similarity, int(other), other_value))
        scored.sort(key=lambda s: (-s[0], s[1]))
        for similarity, other, other_value in scored[: table.policy.cap]:
            table.row(seq, other, "similar", value, other_value, value, similarity)
    table.backend.bulk_insert(table.conn, fuzzy_hashes, ("seq", "kind", "bucket", "value"), rows)


def _similarity(policy: CorrelationPolicy, kind: str, one: str, other: str) -> int | None:
    """0-100 when similar enough, else None."""
    if kind == "ssdeep":
        import ppdeep  # type: ignore[import-untyped]

        score = int(ppdeep.compare(one, other))
        return score if score >= policy.ssdeep_min_score else None
    import tlsh  # type: ignore[import-not-found]

    distance = int(tlsh.diff("T1" + one[2:].upper(), "T1" + other[2:].upper()))
    return max(0, 100 - distance) if distance <= policy.tlsh_max_distance else None


def _bucket(observable: Observable) -> int | None:
    """ssdeep: the block size; TLSH: the length byte (its nibbles are stored swapped)."""
    if observable.kind == "ssdeep":
        head = observable.value.partition(":")[0]
        return int(head) if head.isdigit() else None
    if observable.kind == "tlsh" and len(observable.value) >= 8:
        byte = int(observable.value[4:6], 16)
        return ((byte & 0x0F) << 4) | (byte >> 4)
    return None
