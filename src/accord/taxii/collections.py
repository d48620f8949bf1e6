"""Which collections the node serves, and who may read and write each (TAXII 2.1 sections
5.1 and 5.2: the collection resource with ``can_read`` and ``can_write``).

- The default collection, "Everything you may see": every object the caller's organisation
  may see under TLP 2.0. Readable by every member, writable by admins, org-admins and analysts.
- A TLP collection: the objects of one TLP level. Objects POSTed without a marking take it.
- A sharing-group collection: the objects shared with one sharing group; only the group's
  members see that it exists. Objects POSTed without a marking are AMBER to the group.
- A feed collection: what one feed brought (read-only).

Every collection is also filtered by the visibility rule, in the store: a collection narrows
what a caller sees, never widens it. A collection a caller may not read answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients, Viewer
from accord.store.node import Store
from accord.store.organisations import User
from accord.store.taxii import EVERYTHING, EVERYTHING_ID, CollectionRecord, Scope
from accord.taxii.media import STIX_21

DEFAULT_ID = EVERYTHING_ID
WRITERS = (Role.ADMIN, Role.ORG_ADMIN, Role.ANALYST)


@dataclass(frozen=True, slots=True)
class Collection:
    id: str
    title: str
    description: str | None
    scope: Scope
    writable: bool
    default_tlp: Tlp | None = None  # for POSTed objects without a TLP marking
    recipients: Recipients = field(default_factory=Recipients)

    def can_read(self, viewer: Viewer) -> bool:
        if viewer.is_anonymous:
            return False
        return self.scope.group_id is None or self.scope.group_id in viewer.group_ids

    def can_write(self, user: User | None, viewer: Viewer) -> bool:
        return self.writable and user is not None and user.role in WRITERS and self.can_read(viewer)

    def resource(self, user: User | None, viewer: Viewer) -> dict[str, object]:
        """The collection resource (TAXII 2.1 section 5.2.1) as this caller sees it."""
        found: dict[str, object] = {"id": self.id, "title": self.title}
        if self.description:
            found["description"] = self.description
        found["can_read"] = self.can_read(viewer)
        found["can_write"] = self.can_write(user, viewer)
        found["media_types"] = [STIX_21]
        return found


DEFAULT = Collection(
    id=DEFAULT_ID,
    title="Everything you may see",
    description=(
        "Every object your organisation may see under TLP 2.0, as the node's visibility "
        "rule decides for your API key."
    ),
    scope=EVERYTHING,
    writable=True,
)


def from_record(record: CollectionRecord) -> Collection:
    if record.kind == "tlp":
        assert record.tlp is not None
        return Collection(
            record.id,
            record.title,
            record.description,
            Scope(tlp=record.tlp),
            record.writable,
            default_tlp=record.tlp,
        )
    if record.kind == "group":
        assert record.group_id is not None
        return Collection(
            record.id,
            record.title,
            record.description,
            Scope(group_id=record.group_id),
            record.writable,
            default_tlp=Tlp.AMBER,
            recipients=Recipients(group_ids=frozenset({record.group_id})),
        )
    assert record.kind == "feed" and record.feed_id is not None
    return Collection(
        record.id, record.title, record.description, Scope(feed_id=record.feed_id), False
    )


def all_collections(store: Store) -> list[Collection]:
    """The default collection first, then the configured ones in the order they were made."""
    return [DEFAULT, *(from_record(record) for record in store.taxii.collections())]


def readable(store: Store, viewer: Viewer) -> list[Collection]:
    return [c for c in all_collections(store) if c.can_read(viewer)]


def find(store: Store, viewer: Viewer, collection_id: str) -> Collection | None:
    """The collection, if it exists and the caller may read it (else None: a 404)."""
    if collection_id == DEFAULT_ID:  # the common case needs no query
        return DEFAULT if DEFAULT.can_read(viewer) else None
    for collection in all_collections(store):
        if collection.id == collection_id:
            return collection if collection.can_read(viewer) else None
    return None


def define(
    store: Store,
    title: str,
    tlp: Tlp | None = None,
    group: str | None = None,
    feed: str | None = None,
    description: str | None = None,
    writable: bool = True,
    collection_id: str | None = None,
) -> Collection:
    """Configure a collection of exactly one kind: by TLP level, sharing group or feed."""
    if sum(x is not None for x in (tlp, group, feed)) != 1:
        raise ValueError("a collection is defined by exactly one of: a TLP level, a group, a feed")
    if tlp is not None:
        record = store.taxii.add_collection(
            title, "tlp", description, tlp=tlp, writable=writable, collection_id=collection_id
        )
    elif group is not None:
        group_id = store.directory.group(group).id
        record = store.taxii.add_collection(
            title,
            "group",
            description,
            group_id=group_id,
            writable=writable,
            collection_id=collection_id,
        )
    else:
        assert feed is not None
        feed_id = store.feeds.get(feed).id
        record = store.taxii.add_collection(
            title, "feed", description, feed_id=feed_id, collection_id=collection_id
        )
    return from_record(record)
