"""Registering a peer node: its card, its organisations, and its account on this node.

The same steps for the command line (`accord peer add`), the REST API and the portal: the
peer is recorded (`accord.store.peers.Peers.add`), and the peer's account here (role
``peer``, in its operator's organisation) is made if missing, with a key its operator gives
to ``accord peer add`` on their node. Only the node admin registers peers.

:func:`add_peer` is the whole of "add a peer" as the three front ends take it
(`PeerRequest`): the checks of what was given, each naming the field it is about
(`PeerInputError`), the card fetched from the peer when none was given, then :func:`register`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from accord.federation.peer_sync import fetch_card
from accord.federation.taxii_client import TaxiiClientError
from accord.model.roles import Role
from accord.store.node import Store
from accord.store.peers import Peer, PeerConflict

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")  # it is a path segment in the API
RESERVED = frozenset({"status"})  # /api/v1/peers/status is the listing of every peer's status
MIN_INTERVAL = 5  # seconds between scheduled runs, at least


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


class PeerInputError(ValueError):
    """What was given to add a peer does not do; ``field`` names which part (the API's
    pointer, the form's field, the command's option)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CardUnreachable(PeerInputError):
    """The peer's card could not be fetched from its URL with its key."""

    def __init__(self, message: str) -> None:
        super().__init__("url", message)


@dataclass(frozen=True, slots=True)
class PeerRequest:
    """A peer to add (or change), as `accord peer add`, ``POST /api/v1/peers`` and the
    portal's form give it."""

    name: str
    url: str | None = None
    key: str | None = None  # the key the peer gave this node: its account there
    card: Any = None  # the peer's card (`accord node card` there); else fetched from url
    ca_file: str | None = None  # an absolute path on this node
    # For a peer known already, None keeps what it had (a new peer: everything, not pulled
    # nor pushed, not of the community).
    collection: str | None = None
    pull: bool | None = None
    push: bool | None = None
    community: bool | None = None
    interval: int | None = None
    new_key: bool = False

    def over(self, known: Peer | None) -> PeerRequest:
        """What the peer will be: this request, and what ``known`` had where it says
        nothing."""
        if known is None:
            return self
        return replace(
            self,
            url=self.url or known.url,
            key=self.key or known.secret,
            ca_file=self.ca_file or known.ca_file,
            collection=self.collection or known.collection,
            pull=known.pull if self.pull is None else self.pull,
            push=known.push if self.push is None else self.push,
            community=known.community if self.community is None else self.community,
            interval=known.interval if self.interval is None else self.interval,
        )


def check(request: PeerRequest) -> None:
    """Refuse what cannot make a peer, naming the field; nothing is fetched or written."""
    if not NAME.fullmatch(request.name):
        raise PeerInputError(
            "name", "a peer's name is 1 to 100 letters, digits, dots, dashes or underscores"
        )
    if request.name.lower() in RESERVED:
        raise PeerInputError("name", f"{request.name!r} is a reserved word: choose another name")
    if request.url is not None and (
        not request.url.startswith(("https://", "http://")) or len(request.url) > 2048
    ):
        raise PeerInputError("url", "the peer's URL is its TAXII 2.1 API root, https://...")
    if (request.pull or request.push) and (not request.url or not request.key):
        field = "url" if not request.url else "key"
        raise PeerInputError(field, "pull and push need the peer's URL and the key it gave you")
    if request.card is None and (not request.url or not request.key):
        field = "url" if not request.url else "key"
        raise PeerInputError(
            field, "give the peer's card, or its URL and key to fetch its card from it"
        )
    if request.card is not None and not isinstance(request.card, Mapping):
        raise PeerInputError("card", "a node card is a JSON object (`accord node card`)")
    if request.ca_file is not None:
        path = Path(request.ca_file)
        if not path.is_absolute() or not path.is_file():
            raise PeerInputError(
                "ca_file", f"{request.ca_file}: not a file (give its absolute path on this node)"
            )
    if request.interval is not None and request.interval < MIN_INTERVAL:
        raise PeerInputError("interval", f"the interval is at least {MIN_INTERVAL} seconds")
    if request.collection is not None and not 0 < len(request.collection) <= 300:
        raise PeerInputError("collection", "the peer's collection id (1 to 300 characters)")


def add_peer(
    store: Store,
    request: PeerRequest,
    fetch: Callable[[str, str, str | None], dict[str, Any]] = fetch_card,
) -> Registered:
    """Check ``request``, fetch the peer's card if none was given, register the peer.

    Raises `PeerInputError` (`CardUnreachable`), `accord.store.peers.BadCard`,
    `PeerConflict` and `accord.store.node_identity.NoIdentity` (the node needs its own
    identity first)."""
    known = next((peer for peer in store.peers.all() if peer.name == request.name), None)
    effective = request.over(known)
    check(effective)
    card = request.card
    if card is None:
        assert effective.url is not None and effective.key is not None  # check() saw to it
        try:
            card = fetch(effective.url, effective.key, effective.ca_file)
        except TaxiiClientError as exc:
            raise CardUnreachable(
                f"could not fetch the peer's card from {effective.url}: {exc}"
            ) from None
        if not isinstance(card, Mapping):
            raise CardUnreachable(f"{effective.url} answered something that is not a node card")
    return register(
        store,
        request.name,
        card,
        new_key=request.new_key,
        url=request.url,
        secret=request.key,
        ca_file=request.ca_file,
        collection=request.collection,
        pull=request.pull,
        push=request.push,
        community=request.community,
        interval=request.interval,
    )
