"""Who may store a version of an object: the versioning rule (issue 14).

STIX 2.1 (section 3.6, "Versioning") says only the object's creator may create new versions
of it; others say what they know with objects of their own (sightings, opinions, notes,
relationships, ``derived-from``). On a node of many organisations, each organisation's copy of
an object is its *holding*: its own versions, with its own audience. A version arriving from
organisation O is decided on the holdings already stored:

1. O holds that version already: a duplicate (never a duplicate of someone else's holding,
   which would tell O that someone holds it).
2. Another organisation holds exactly that version (an SCO, whose id is derived from its
   value and which has one version; a public bundle two members both ingest): O stores its
   own copy, with its own audience.
3. A new version, from the organisation that first stored the id (its creator on this node):
   stored.
4. A new version of an id whose other holdings O may not see: stored as O's own holding,
   exactly as for an id nobody holds (a refusal would tell O that a hidden object exists).
5. A new version relaying a third party's object (its ``created_by_ref`` names the same
   producer as the versions O can see, and that producer is no organisation of this node,
   such as MITRE for ATT&CK or the author of a public MISP feed): stored in O's holding.
6. Anything else, a new version of an object O can see but did not create: rejected.

Readers never meet a holding that shadows the creator's: each holding has its own latest
version, and what one organisation stores changes nothing another stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from accord.model.stix_identifiers import SCO_TYPES

# The node's own published objects (TLP 2.0 marking definitions, its identity): every
# bundle carries the marking definitions, and a copy per organisation would be noise.
NODE_HOLDER: Final = "node"


@dataclass(slots=True)
class Holding:
    """What is stored of one id, as the versioning rule needs it."""

    own: dict[str, bool] = field(default_factory=dict)  # O's versions: {modified: is_latest}
    others: set[str] = field(default_factory=set)  # versions other organisations hold
    creator: str | None = None  # the organisation whose version of the id was stored first
    seen_producers: set[str | None] = field(default_factory=set)
    """``created_by_ref`` of other organisations' versions that O may see (empty: none)."""
    node_versions: set[str] = field(default_factory=set)  # held by the node itself

    def holds(self, modified: str) -> bool:
        """The writer's organisation (or the node) has this version already: a duplicate."""
        return modified in self.own or modified in self.node_versions


@dataclass(frozen=True, slots=True)
class Decision:
    status: str  # "stored" or "duplicate" or "rejected"
    reason: str | None = None


STORED: Final = Decision("stored")
DUPLICATE: Final = Decision("duplicate")


def decide(
    holding: Holding | None,
    object_id: str,
    modified: str,
    created_by_ref: object,
    org_id: str,
    node_orgs: frozenset[str],
) -> Decision:
    """Whether organisation ``org_id`` may store this version (see the module docstring)."""
    if holding is None:
        return STORED
    if holding.holds(modified):
        return DUPLICATE
    if modified in holding.others or holding.creator in (None, org_id):
        return STORED
    if not holding.seen_producers:
        return STORED
    if (
        isinstance(created_by_ref, str)
        and created_by_ref not in node_orgs
        and holding.seen_producers == {created_by_ref}
    ):
        return STORED
    return Decision(
        "rejected",
        f"only the organisation that created {object_id} may store new versions of it; "
        "say what you know with objects of your own that refer to it (a sighting, opinion, "
        "note or relationship)",
    )


# Objects that may be an anonymous report: a sighting or observed-data written without a
# ``created_by_ref`` (how `accord.ingest.sightings` writes an anonymous sighting), and the
# cyber-observables such a report stores, which never name a creator.
UNSIGNED_REPORT_TYPES: Final = frozenset({"sighting", "observed-data"}) | SCO_TYPES


def holder_disclosed(object_type: str, names_creator: bool, own: bool) -> bool:
    """May a reader be told which organisation holds (stored) an object? Yes for its own
    holdings and for objects that name their creator; not for an object that may be an
    anonymous report (`UNSIGNED_REPORT_TYPES` without ``created_by_ref``): its holder is
    the reporter. The store's form of this rule is `accord.store.browse` (the creator filter);
    the object page's, `accord.intel.object_view.sharer_disclosed`."""
    return own or names_creator or object_type not in UNSIGNED_REPORT_TYPES
