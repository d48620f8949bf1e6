"""Objects from a peer node in (docs/federation.md): what the peer may send, checked object by
object, then stored as the holding of the organisation that holds it on its home node, with
the audience it arrived with and the peer as its origin.

A peer is trusted with what its node may pass on, nothing more. Each object is refused, with
its index and reason, when it:

- has no TLP marking (every object that leaves a node carries one) or is TLP:RED (RED never
  leaves the node it was stored on);
- is AMBER or AMBER+STRICT for none of the organisations this node hosts (it should not have
  crossed: storing it would widen its audience to this node), unless it is an anonymous
  sighting of an object held here (sightings travel back to what they sight; its count
  reaches those who may see that object, as its reporter agreed);
- claims to be held or created by an organisation this node hosts (a peer cannot speak for
  them), unless it is exactly a version that organisation holds already (an echo, harmless);
- names sharing groups or users (node-local names: a peer sends organisations only);
- is larger than :data:`MAX_OBJECT_BYTES`.

The rest goes through the ordinary ingest (`accord.ingest.stix.Ingester`): the same
validation, the versioning rule per holder, ``(id, modified)`` making replays duplicates.
Refusals are audited (``federation-refused``) and reported back (TAXII status failures,
``accord peer status``). Nothing already stored is touched by a refused object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection

from accord.ingest.stix import Ingester, IngestOptions, IngestReport, ObjectReport
from accord.model.errors import Problem
from accord.model.extension import ACCORD_EXTENSION_ID, extension_of
from accord.model.roles import Role
from accord.model.timestamps import timestamp_key
from accord.model.tlp import Tlp, tlp_of
from accord.model.visibility import Viewer
from accord.store.audit import Event
from accord.store.engine import write_transaction
from accord.store.node import Store
from accord.store.organisations import User
from accord.store.peers import Peer

MAX_OBJECT_BYTES = 1 << 20  # one object's JSON; a larger one is refused, not stored
EXT = f"extensions.{ACCORD_EXTENSION_ID}"


@dataclass(slots=True)
class _Accepted:
    index: int
    holder: str
    obj: dict[str, Any]


def receive(
    store: Store,
    peer: Peer,
    objects: Sequence[Any],
    source: str,
    account: User | None = None,
    before_commit: Callable[[Connection], None] | None = None,
) -> IngestReport:
    """Check and store what ``peer`` sent; ``before_commit`` (a cursor) is written in the
    transaction of the last write, or alone when nothing was written."""
    hosted = store.directory.hosted_org_ids()
    report = IngestReport(source=source, spec_version="2.1")
    refusals: list[ObjectReport] = []
    accepted: list[_Accepted] = []
    for index, obj in enumerate(objects):
        outcome = _check(store, peer, hosted, index, obj)
        if isinstance(outcome, ObjectReport):
            refusals.append(outcome)
        else:
            accepted.append(outcome)
    groups: dict[str, list[_Accepted]] = {}
    for item in accepted:
        groups.setdefault(item.holder, []).append(item)
    reports: dict[int, ObjectReport] = {item.index: item for item in refusals}
    last = list(groups)[-1] if groups else None
    for holder, items in groups.items():
        user = User(
            id=account.id if account else peer.id,
            email=account.email if account else f"peer:{peer.name}",
            org_id=holder,
            role=Role.READER,  # reads as the holder: the versioning rule asks what it holds
        )
        options = IngestOptions(
            partial=True,
            origin_node=peer.node_id,
            before_commit=before_commit if holder == last else None,
        )
        stored = Ingester(store, user).ingest_objects(
            [item.obj for item in items], "2.1", source, options
        )
        for item, object_report in zip(items, stored.objects, strict=True):
            object_report.index = item.index
            reports[item.index] = object_report
            if object_report.status == "rejected":
                refusals.append(object_report)
    if last is None and before_commit is not None:
        with write_transaction(store.engine) as conn:
            before_commit(conn)
    report.objects = [reports[index] for index in sorted(reports)]
    if refusals:
        _audit(store, peer, account, source, refusals)
    return report


def _check(
    store: Store, peer: Peer, hosted: frozenset[str], index: int, obj: Any
) -> _Accepted | ObjectReport:
    if not isinstance(obj, dict):
        problem = Problem(None, f"expected a STIX object (a JSON object), got {type(obj).__name__}")
        return ObjectReport(index, None, None, "rejected", [problem])
    object_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    object_type = obj.get("type") if isinstance(obj.get("type"), str) else None

    def refuse(where: str | None, reason: str) -> ObjectReport:
        return ObjectReport(index, object_id, object_type, "rejected", [Problem(where, reason)])

    size = len(orjson.dumps(obj))
    if size > MAX_OBJECT_BYTES:
        return refuse(None, f"is {size} bytes; a peer may send objects up to {MAX_OBJECT_BYTES}")
    tlp = tlp_of(obj)
    if tlp is None:
        return refuse("object_marking_refs", "arrived without a TLP marking")
    if tlp == Tlp.RED:
        return refuse("object_marking_refs", "TLP:RED never leaves the node it was stored on")
    ext = extension_of(obj)
    for name in ("sharing_groups", "recipient_users"):
        if ext.get(name):
            return refuse(f"{EXT}.{name}", "names of another node: a peer sends organisations")
    holder = ext.get("holder_organization", peer.operator_org)
    if not isinstance(holder, str) or not holder.startswith("identity--"):
        return refuse(f"{EXT}.holder_organization", "must be an identity id")
    recipients = ext.get("recipient_organizations", [])
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        return refuse(f"{EXT}.recipient_organizations", "must be a list of identity ids")
    if (
        tlp >= Tlp.AMBER
        and hosted.isdisjoint([holder, *recipients])
        and not _sights_what_is_held(store, peer, obj, ext)
    ):
        return refuse(
            "object_marking_refs",
            f"{tlp.label} for none of this node's organisations: it may not cross to it",
        )
    claimed = [who for who in (holder, obj.get("created_by_ref")) if who in hosted]
    if claimed and not _held(store, holder, object_id, obj):
        return refuse(
            f"{EXT}.holder_organization" if holder in hosted else "created_by_ref",
            f"claims {claimed[0]}, an organisation this node hosts: a peer cannot speak for it",
        )
    return _Accepted(index, holder, obj)


def _sights_what_is_held(store: Store, peer: Peer, obj: dict[str, Any], ext: Any) -> bool:
    """An anonymous sighting travels to where the object it sights is held, whatever the
    organisations of its audience (accord.model.visibility.anonymous_sighting_may_cross):
    an object held here that the peer knows (no answer about one hidden from it)."""
    sighted = obj.get("sighting_of_ref")
    if obj.get("type") != "sighting" or ext.get("anonymous") is not True:
        return False
    if not isinstance(sighted, str):
        return False
    viewer = Viewer(org_id=peer.operator_org, crossing=store.peers.crossing(peer))
    return store.objects.known_to_peer(sighted, viewer)


def _held(store: Store, holder: str, object_id: str | None, obj: dict[str, Any]) -> bool:
    """Whether ``holder`` holds exactly this version already (an echo of its own)."""
    if object_id is None:
        return False
    stamp = obj.get("modified", obj.get("created"))
    if not isinstance(stamp, str):
        return False
    try:
        key = timestamp_key(stamp)
    except ValueError:
        return False
    return key in store.objects.known_versions([object_id], holder).get(object_id, {})


def _audit(
    store: Store, peer: Peer, account: User | None, source: str, refusals: list[ObjectReport]
) -> None:
    """Refused objects from a peer are evidence: who sent what, and why it was refused."""
    store.audit.append(
        Event(
            action="federation-refused",
            user_id=account.id if account else None,
            org_id=peer.operator_org,
            target=peer.node_id,
            detail={
                "peer": peer.name,
                "source": source,
                "count": len(refusals),
                "refusals": [
                    {"index": r.index, "id": r.id, "reason": "; ".join(map(str, r.problems))}
                    for r in refusals[:100]
                ],
            },
        )
    )
