"""Registering a peer node: its card, its organisations, and its account on this node.

The same steps for the command line (`accord peer add`), the REST API and the portal: the
peer is recorded (`accord.store.peers.Peers.add`), and the peer's account here (role
``peer``, in its operator's organisation) is made if missing, with a key its operator gives
to ``accord peer add`` on their node. Only the node admin registers peers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accord.model.roles import Role
from accord.store.node import Store
from accord.store.peers import Peer, PeerConflict


@dataclass(frozen=True, slots=True)
class Registered:
    peer: Peer
    account: str  # the e-mail of the peer's account on this node
    key: str | None  # a new key for that account, when one was made


def register(
    store: Store, name: str, card: Mapping[str, Any], *, new_key: bool = False, **options: Any
) -> Registered:
    """Add or change a peer from its card; ``options`` as `Peers.add` takes them."""
    identity = card.get("identity")
    if isinstance(identity, Mapping) and identity.get("id") == store.identity.get().id:
        raise PeerConflict("that card is this node's own")
    peer = store.peers.add(name, card, **options)
    email, key = account_of(store, peer, new_key)
    return Registered(peer, email, key)


def account_of(store: Store, peer: Peer, new_key: bool = False) -> tuple[str, str | None]:
    """The peer's account on this node, made if missing; its e-mail, and a new key when one
    was made (or asked for)."""
    for user in store.directory.users(peer.operator_org):
        if user.role is Role.PEER:
            return user.email, store.directory.new_key(user.email) if new_key else None
    email = f"peer-{peer.node_id.removeprefix('identity--')}@peers.accord.invalid"
    org = store.directory.org(peer.operator_org)
    user, key = store.directory.add_user(email, org.name, Role.PEER)
    return user.email, key
