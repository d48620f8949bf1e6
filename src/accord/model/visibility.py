"""The one visibility rule: who may see an object version.

The rule is a function of the object's TLP level, the audience recorded for it at ingest
(its creator and its recipients) and the viewer. The store compiles the same rule into SQL
(``accord.store.visibility``) and applies it inside every query; :func:`may_see` is the
reference meaning, used by tests to prove that the SQL and this function agree.

TLP 2.0 (https://www.first.org/tlp/) as Accord applies it:

- CLEAR: everyone, anonymous callers included where the node allows public look-ups.
- GREEN: every organisation of the node's community (any authenticated member).
- AMBER: the creator organisation and the named recipients (organisations, sharing groups).
- AMBER+STRICT: the same audience as AMBER; exports and federation must not pass it on
  beyond those organisations (see :func:`may_leave_audience`).
- RED: the creating user and the named recipient users only.

Node admins administer organisations and keys; they get no extra read rights here.

The hop rule (federation, docs/federation.md): what may cross from this node to a peer node.
A peer reads as a :class:`Viewer` with a :class:`Crossing`, and the same rule then decides:

=============  =========================================================================
TLP            crosses to a peer node
=============  =========================================================================
CLEAR          every peer
GREEN          peers marked ``community``
AMBER          a peer that hosts one of the organisations in the object's audience (its
               creator, its recipient organisations, the members of its sharing groups);
               it arrives with that audience, and the receiving node never widens it
AMBER+STRICT   as AMBER
RED            never: its audience names users of this node only
=============  =========================================================================

On top of the TLP, provenance (:func:`may_cross`): a version never goes back to the node it
came from, nor to the node that hosts the organisation holding it.

Sightings travel back towards the object they sight (:func:`anonymous_sighting_may_cross`):
an *anonymous* sighting (not RED) also crosses to a peer that holds the sighted object, or
may receive it, since its reporter agreed that its count reaches everyone who may see that
object; it leaves without its reporter's name (`accord.export.for_peer`). A sighting that
names its reporter travels by its own TLP, like any object.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from accord.model.tlp import Tlp

ORG = "org:"
USER = "user:"
GROUP = "group:"


def org_principal(org_id: str) -> str:
    return ORG + org_id


def user_principal(user_id: str) -> str:
    return USER + user_id


def group_principal(group_id: str) -> str:
    return GROUP + group_id


@dataclass(frozen=True, slots=True)
class Crossing:
    """A peer node as the hop rule sees it: who it is, whether it belongs to this node's
    community (GREEN crosses), the organisations it hosts (AMBER for them crosses) and the
    sharing groups of this node that one of those organisations belongs to."""

    node_id: str
    community: bool = False
    hosted_org_ids: frozenset[str] = frozenset()
    group_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking. ``org_id`` is the organisation's STIX identity id. A peer node's
    account reads with a ``crossing``: the hop rule replaces the member's rule."""

    org_id: str | None = None
    user_id: str | None = None
    group_ids: frozenset[str] = field(default_factory=frozenset)
    crossing: Crossing | None = None

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls()

    @property
    def is_anonymous(self) -> bool:
        return self.org_id is None

    @property
    def is_member(self) -> bool:
        """Whether GREEN reaches this viewer: a member of the node, or a community peer."""
        if self.crossing is not None:
            return self.crossing.community
        return self.org_id is not None

    @property
    def principals(self) -> frozenset[str]:
        """Every principal this viewer counts as, for matching an object's audience. A
        peer counts as the organisations it hosts and their sharing groups here, never as
        a user: RED, whose audience is users only, cannot match."""
        if self.crossing is not None:
            return frozenset(
                [org_principal(org) for org in self.crossing.hosted_org_ids]
                + [group_principal(group) for group in self.crossing.group_ids]
            )
        found: set[str] = set()
        if self.org_id is not None:
            found.add(org_principal(self.org_id))
        if self.user_id is not None:
            found.add(user_principal(self.user_id))
        found.update(group_principal(group) for group in self.group_ids)
        return frozenset(found)


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class Recipients:
    """Who besides the creator may see an AMBER or RED object."""

    org_ids: frozenset[str] = frozenset()
    group_ids: frozenset[str] = frozenset()
    user_ids: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.org_ids or self.group_ids or self.user_ids)

    def merged(self, other: Recipients) -> Recipients:
        return Recipients(
            self.org_ids | other.org_ids,
            self.group_ids | other.group_ids,
            self.user_ids | other.user_ids,
        )


def audience_for(
    tlp: Tlp, creator_org: str, creator_user: str | None, recipients: Recipients
) -> frozenset[str]:
    """The principals recorded for an object version at ingest.

    CLEAR and GREEN need no audience (everyone, or every member, may see them). RED names
    users only: the creating user and the recipient users, never whole organisations.
    """
    if tlp <= Tlp.GREEN:
        return frozenset()
    if tlp == Tlp.RED:
        users: set[str] = set(recipients.user_ids)
        if creator_user is not None:
            users.add(creator_user)
        return frozenset(user_principal(user) for user in users)
    found = {org_principal(creator_org)}
    found.update(org_principal(org) for org in recipients.org_ids)
    found.update(group_principal(group) for group in recipients.group_ids)
    found.update(user_principal(user) for user in recipients.user_ids)
    return frozenset(found)


def may_see(tlp: Tlp, audience: Iterable[str], viewer: Viewer) -> bool:
    """The reference meaning of the rule (the store's SQL must agree with it)."""
    if tlp == Tlp.CLEAR:
        return True
    if not viewer.is_member:
        return tlp != Tlp.GREEN and _matches(viewer, audience)
    if tlp == Tlp.GREEN:
        return True
    return _matches(viewer, audience)


def _matches(viewer: Viewer, audience: Iterable[str]) -> bool:
    if viewer.is_anonymous:
        return False
    return not viewer.principals.isdisjoint(audience)


def may_cross(
    tlp: Tlp,
    audience: Iterable[str],
    holder_org: str,
    origin_node: str | None,
    crossing: Crossing,
) -> bool:
    """The hop rule (see the module's table): whether a version held by ``holder_org``,
    received from ``origin_node`` (None: stored on this node), may be sent to a peer."""
    if origin_node == crossing.node_id or holder_org in crossing.hosted_org_ids:
        return False
    return may_see(tlp, audience, Viewer(org_id=crossing.node_id, crossing=crossing))


def may_leave_audience(tlp: Tlp) -> bool:
    """Whether an export or federation may pass the object to someone outside its audience.

    Only CLEAR and GREEN travel freely (GREEN within the community it is sent to); AMBER may
    be passed to the organisations named in its audience; AMBER+STRICT and RED never leave.
    """
    return tlp <= Tlp.GREEN


def anonymous_sighting_may_cross(
    tlp: Tlp,
    sighted: Iterable[tuple[Tlp, Iterable[str], str, str | None]],
    crossing: Crossing,
) -> bool:
    """Whether an anonymous sighting (not RED) may cross to a peer for the sake of the object
    it sights: ``sighted`` holds the (TLP, audience, holder, origin node) of that object's
    versions on this node; the peer holds one (its holder is hosted there, or it came from
    there) or one may cross to it."""
    if tlp == Tlp.RED:
        return False
    peer = Viewer(org_id=crossing.node_id, crossing=crossing)
    return any(
        holder in crossing.hosted_org_ids
        or origin == crossing.node_id
        or may_see(level, audience, peer)
        for level, audience, holder, origin in sighted
    )
