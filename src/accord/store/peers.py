"""Peer nodes (docs/federation.md): who they are, how to reach them, what the hop rule needs to
know of them, their cursors and how their last runs went.

A peer is registered from its *card* (`accord.store.node_identity.NodeIdentities.card`): its
node identity, its operator and the organisations it hosts, each by STIX identity id. Those
organisations are registered here too, with ``home_node`` set to the peer's identity, so that
names show everywhere and the peer's account here (role ``peer``) can belong to its operator.
An organisation this node hosts can never be claimed by a peer.

Cursors are written by the caller inside the transaction that stores what they move past
(:meth:`Peers.cursor_step`), so that a run cut at any point resumes exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, insert, or_, select, update

from accord.model.visibility import Crossing
from accord.store.engine import write_transaction
from accord.store.objects import now_key
from accord.store.schema import (
    organisations,
    peer_cursors,
    peers,
    sharing_group_members,
)
from accord.store.taxii import EVERYTHING_ID

PULL = "pull"
PUSH = "push"
LEASE_SECONDS = 120.0  # a run renews it after each page


class PeerNotFound(ValueError):
    """No peer by that name (a bad argument, as an unknown user is)."""


class PeerConflict(ValueError):
    """A card that cannot be taken: it claims an organisation this node hosts, or another
    peer's identity."""


class BadCard(PeerConflict):
    """A card that is not a node card (no identity, no operator, hosted organisations not
    a list of identities): the caller's input is wrong, not in conflict with the node."""


@dataclass(frozen=True, slots=True)
class Peer:
    id: str
    name: str
    url: str | None
    collection: str
    secret: str | None
    ca_file: str | None
    pull: bool
    push: bool
    community: bool
    node_id: str
    operator_org: str
    hosted_orgs: tuple[str, ...]
    interval: int | None
    created: str
    last_pull: str | None
    last_pull_error: str | None
    last_push: str | None
    last_push_error: str | None
    last_attempt: str | None

    def describe(self) -> dict[str, Any]:
        """The peer as `accord peer list` and the API show it: never its key."""
        return {
            "name": self.name,
            "url": self.url,
            "collection": self.collection,
            "node_id": self.node_id,
            "operator_org": self.operator_org,
            "hosted_organizations": list(self.hosted_orgs),
            "pull": self.pull,
            "push": self.push,
            "community": self.community,
            "interval": self.interval,
            "has_key": self.secret is not None,
            "ca_file": self.ca_file,
            "created": self.created,
        }


def _peer(row: Any) -> Peer:
    return Peer(
        id=row.id,
        name=row.name,
        url=row.url,
        collection=row.collection,
        secret=row.secret,
        ca_file=row.ca_file,
        pull=bool(row.pull),
        push=bool(row.push),
        community=bool(row.community),
        node_id=row.node_id,
        operator_org=row.operator_org,
        hosted_orgs=tuple(orjson.loads(row.hosted_orgs)),
        interval=row.interval,
        created=row.created,
        last_pull=row.last_pull,
        last_pull_error=row.last_pull_error,
        last_push=row.last_push,
        last_push_error=row.last_push_error,
        last_attempt=row.last_attempt,
    )


def crossing_of(conn: Connection, peer: Peer) -> Crossing:
    """The hop rule's view of a peer: the sharing groups of this node that one of its
    organisations belongs to count too (AMBER shared with such a group may cross)."""
    groups: set[str] = set()
    if peer.hosted_orgs:
        groups.update(
            conn.execute(
                select(sharing_group_members.c.group_id).where(
                    sharing_group_members.c.org_id.in_(peer.hosted_orgs)
                )
            ).scalars()
        )
    return Crossing(peer.node_id, peer.community, frozenset(peer.hosted_orgs), frozenset(groups))


def crossing_for_account(conn: Connection, org_id: str) -> Crossing:
    """The crossing a peer account of organisation ``org_id`` reads with. An account whose
    peer was removed reads as a peer that hosts nothing (CLEAR only)."""
    row = conn.execute(select(peers).where(peers.c.operator_org == org_id)).first()
    if row is None:
        return Crossing(node_id=f"removed-peer:{org_id}")
    return crossing_of(conn, _peer(row))


def _card_orgs(card: Mapping[str, Any]) -> tuple[str, str, list[dict[str, Any]]]:
    """(node id, operator org id, hosted organisations) of a card, checked."""
    identity = card.get("identity")
    hosted = card.get("hosted_organizations")
    operator = card.get("operator")
    if not isinstance(identity, Mapping) or not str(identity.get("id", "")).startswith(
        "identity--"
    ):
        raise BadCard("the card has no node identity (identity.id = identity--...)")
    if not isinstance(hosted, list) or not all(
        isinstance(org, Mapping) and str(org.get("id", "")).startswith("identity--")
        for org in hosted
    ):
        raise BadCard("the card's hosted_organizations must be a list of {id, name}")
    if not isinstance(operator, Mapping) or operator.get("id") not in {o["id"] for o in hosted}:
        raise BadCard("the card's operator must be one of its hosted organisations")
    return str(identity["id"]), str(operator["id"]), [dict(org) for org in hosted]


class Peers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- registry ---------------------------------------------------------------------------

    def add(
        self,
        name: str,
        card: Mapping[str, Any],
        *,
        url: str | None = None,
        secret: str | None = None,
        ca_file: str | None = None,
        collection: str | None = None,
        pull: bool | None = None,
        push: bool | None = None,
        community: bool | None = None,
        interval: int | None = None,
    ) -> Peer:
        """Register a peer from its card, or change the peer of that name: a new card, and
        each option given (None keeps what it had; a new peer starts without URL, key or CA
        file, neither pulled nor pushed, not of the community, run by hand). Its
        organisations are registered with ``home_node``."""
        node_id, operator, hosted = _card_orgs(card)
        now = now_key()
        given = {
            "url": url,
            "secret": secret,
            "ca_file": ca_file,
            "pull": pull,
            "push": push,
            "community": community,
            "interval": interval,
            "collection": collection,
        }
        with write_transaction(self.engine) as conn:
            existing = conn.execute(select(peers).where(peers.c.name == name)).first()
            other = conn.execute(
                select(peers.c.name).where(peers.c.node_id == node_id).where(peers.c.name != name)
            ).scalar()
            if other is not None:
                raise PeerConflict(f"peer {other!r} is that node already ({node_id})")
            if existing is not None and existing.node_id != node_id:
                raise PeerConflict(
                    f"peer {name!r} is node {existing.node_id}; this card is another node's "
                    f"({node_id}): remove the peer first if the node was replaced"
                )
            self._register_orgs(conn, name, node_id, hosted)
            values: dict[str, Any] = {
                "node_id": node_id,
                "operator_org": operator,
                "hosted_orgs": orjson.dumps(sorted(o["id"] for o in hosted)).decode(),
            }
            values.update({key: value for key, value in given.items() if value is not None})
            if existing is None:
                peer_id = str(uuid.uuid4())
                defaults = {
                    "pull": False,
                    "push": False,
                    "community": False,
                    "collection": EVERYTHING_ID,
                }
                conn.execute(
                    insert(peers).values(id=peer_id, name=name, created=now, **(defaults | values))
                )
            else:
                peer_id = existing.id
                conn.execute(update(peers).where(peers.c.id == peer_id).values(**values))
                widened = (
                    values.get("community", existing.community) and not existing.community
                ) or not set(orjson.loads(values["hosted_orgs"])) <= set(
                    orjson.loads(existing.hosted_orgs)
                )
                if widened:
                    # More may cross to it now (GREEN, or AMBER for an organisation it hosts
                    # now): push from the beginning; what it has is a duplicate there.
                    conn.execute(
                        delete(peer_cursors)
                        .where(peer_cursors.c.peer_id == peer_id)
                        .where(peer_cursors.c.direction == PUSH)
                    )
            row = conn.execute(select(peers).where(peers.c.id == peer_id)).one()
        return _peer(row)

    def _register_orgs(
        self, conn: Connection, peer_name: str, node_id: str, hosted: Sequence[Mapping[str, Any]]
    ) -> None:
        for org in hosted:
            org_id = str(org["id"])
            row = conn.execute(select(organisations).where(organisations.c.id == org_id)).first()
            if row is not None and row.home_node is None:
                raise PeerConflict(
                    f"the card claims {org_id} ({row.name}), an organisation this node hosts"
                )
            if row is not None and row.home_node != node_id:
                raise PeerConflict(
                    f"the card claims {org_id} ({row.name}), which another peer hosts"
                )
            name = str(org.get("name") or org_id)[:150]
            taken = conn.execute(
                select(organisations.c.id)
                .where(organisations.c.name == name)
                .where(organisations.c.id != org_id)
            ).scalar()
            if taken is not None:
                name = f"{name} ({peer_name})"[:200]
            values = {
                "name": name,
                "sector": org.get("sector") if isinstance(org.get("sector"), str) else None,
                "country": org.get("country") if isinstance(org.get("country"), str) else None,
                "home_node": node_id,
            }
            if row is None:
                conn.execute(insert(organisations).values(id=org_id, created=now_key(), **values))
            else:
                conn.execute(
                    update(organisations).where(organisations.c.id == org_id).values(**values)
                )

    def get(self, name_or_id: str) -> Peer:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(peers).where(or_(peers.c.name == name_or_id, peers.c.id == name_or_id))
            ).first()
        if row is None:
            raise PeerNotFound(f"no peer {name_or_id!r}: see `accord peer list`")
        return _peer(row)

    def all(self) -> list[Peer]:
        with self.engine.connect() as conn:
            return [_peer(row) for row in conn.execute(select(peers).order_by(peers.c.name))]

    def by_operator(self, org_id: str) -> Peer | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(peers).where(peers.c.operator_org == org_id)).first()
        return None if row is None else _peer(row)

    def crossing(self, peer: Peer) -> Crossing:
        with self.engine.connect() as conn:
            return crossing_of(conn, peer)

    def remove(self, name: str) -> Peer:
        """Forget a peer and its cursors (what it sent stays; its account is the
        caller's to disable)."""
        peer = self.get(name)
        with write_transaction(self.engine) as conn:
            conn.execute(delete(peer_cursors).where(peer_cursors.c.peer_id == peer.id))
            conn.execute(delete(peers).where(peers.c.id == peer.id))
        return peer

    # -- runs -------------------------------------------------------------------------------

    def claim(self, peer_id: str, lease_seconds: float = LEASE_SECONDS) -> bool:
        """Hold a peer for one run (a pull or a push), unless another worker holds it. The
        lease is short and renewed as the run goes (:meth:`renew`): a run that dies (a
        kill, a crash) holds the peer for at most ``lease_seconds`` more."""
        now = datetime.now(UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        until = (now + timedelta(seconds=lease_seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with write_transaction(self.engine) as conn:
            done = conn.execute(
                update(peers)
                .where(peers.c.id == peer_id)
                .where(or_(peers.c.claimed_until.is_(None), peers.c.claimed_until < stamp))
                .values(claimed_until=until, last_attempt=stamp)
            )
        return done.rowcount == 1

    def renew(self, peer_id: str, lease_seconds: float = LEASE_SECONDS) -> None:
        """Extend the lease of a run that is still going."""
        until = (datetime.now(UTC) + timedelta(seconds=lease_seconds)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ"
        )
        with write_transaction(self.engine) as conn:
            conn.execute(update(peers).where(peers.c.id == peer_id).values(claimed_until=until))

    def forget_cursor(self, peer_id: str, direction: str) -> None:
        """Start the next run in ``direction`` from the beginning (what was sent or stored
        before is recognised as duplicates)."""
        with write_transaction(self.engine) as conn:
            conn.execute(
                delete(peer_cursors)
                .where(peer_cursors.c.peer_id == peer_id)
                .where(peer_cursors.c.direction == direction)
            )

    def due(self) -> list[Peer]:
        """Peers with an interval whose last attempt is older than it."""
        now = datetime.now(UTC)
        found: list[Peer] = []
        for peer in self.all():
            if peer.interval is None or not (peer.pull or peer.push):
                continue
            if peer.last_attempt is not None:
                last = datetime.strptime(peer.last_attempt, "%Y-%m-%dT%H:%M:%S.%fZ")
                if last.replace(tzinfo=UTC) + timedelta(seconds=peer.interval) > now:
                    continue
            found.append(peer)
        return found

    def finish(self, peer_id: str, direction: str, error: str | None) -> None:
        """Record how a run ended and let the peer go."""
        now = now_key()
        values: dict[str, Any] = {"claimed_until": None}
        if direction == PULL:
            values["last_pull_error"] = error
            if error is None:
                values["last_pull"] = now
        else:
            values["last_push_error"] = error
            if error is None:
                values["last_push"] = now
        with write_transaction(self.engine) as conn:
            conn.execute(update(peers).where(peers.c.id == peer_id).values(**values))

    # -- cursors ----------------------------------------------------------------------------

    def cursor(self, peer_id: str, direction: str, collection: str) -> str | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(peer_cursors.c.cursor)
                .where(peer_cursors.c.peer_id == peer_id)
                .where(peer_cursors.c.direction == direction)
                .where(peer_cursors.c.collection == collection)
            ).scalar()
        return None if found is None else str(found)

    def cursor_step(
        self, peer_id: str, direction: str, collection: str, value: str
    ) -> Callable[[Connection], None]:
        """A write of the cursor, for the transaction that stores what it moves past."""

        def step(conn: Connection) -> None:
            self.set_cursor(peer_id, direction, collection, value, conn)

        return step

    def set_cursor(
        self,
        peer_id: str,
        direction: str,
        collection: str,
        value: str,
        connection: Connection | None = None,
    ) -> None:
        if connection is None:
            with write_transaction(self.engine) as conn:
                self.set_cursor(peer_id, direction, collection, value, conn)
            return
        key = (
            (peer_cursors.c.peer_id == peer_id)
            & (peer_cursors.c.direction == direction)
            & (peer_cursors.c.collection == collection)
        )
        done = connection.execute(
            update(peer_cursors).where(key).values(cursor=value, updated=now_key())
        )
        if done.rowcount == 0:
            connection.execute(
                insert(peer_cursors).values(
                    peer_id=peer_id,
                    direction=direction,
                    collection=collection,
                    cursor=value,
                    updated=now_key(),
                )
            )
