"""A peer cannot use anonymous sightings to probe for objects hidden from it: a sighting of
an object the peer knows is taken, one of an object hidden from it is refused exactly like one
of an object that does not exist."""

from __future__ import annotations

import uuid
from typing import Any

from federation_support import indicator

from accord.ingest.from_peer import receive
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.extension import ACCORD_EXTENSION_ID
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.node import Store

PEER_NODE = "identity--00000000-0000-4000-8000-0000000000ee"
PEER_ORG = "identity--00000000-0000-4000-8000-0000000000ef"


def _sighting(of: str) -> dict[str, Any]:
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "sighting_of_ref": of,
        "count": 1,
        "object_marking_refs": [Tlp.AMBER.marking_id],
        "extensions": {
            ACCORD_EXTENSION_ID: {
                "extension_type": "property-extension",
                "anonymous": True,
                "holder_organization": PEER_ORG,
            }
        },
    }


def test_an_anonymous_sighting_is_taken_only_for_what_the_peer_knows(store: Store) -> None:
    org = store.directory.add_org("Home CERT")
    analyst, _ = store.directory.add_user("analyst@home.example", "Home CERT", Role.ANALYST)
    store.identity.set("home", org.id)
    card = {
        "identity": {"id": PEER_NODE, "name": "peer"},
        "operator": {"id": PEER_ORG, "name": "Peer CERT"},
        "hosted_organizations": [{"id": PEER_ORG, "name": "Peer CERT"}],
    }
    peer = store.peers.add("peer", card, community=True)
    hidden = indicator(1, Tlp.AMBER)  # for Home CERT only: hidden from the peer
    shared = indicator(2, Tlp.GREEN)  # may cross to the (community) peer
    report = Ingester(store, analyst).ingest_objects(
        [hidden, shared], "2.1", "test", IngestOptions()
    )
    assert report.ok
    missing = "indicator--00000000-0000-4000-8000-00000000dead"
    sightings = [_sighting(str(shared["id"])), _sighting(str(hidden["id"])), _sighting(missing)]
    outcome = receive(store, peer, sightings, "test")
    statuses = [item.status for item in outcome.objects]
    assert statuses == ["stored", "rejected", "rejected"]
    reasons = [str(item.problems[0]) for item in outcome.objects[1:]]
    assert reasons[0] == reasons[1]  # hidden and missing answer alike
