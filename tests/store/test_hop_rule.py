"""The hop rule (accord.model.visibility.may_cross) and its SQL form agree.

Every TLP level x holder (an organisation of this node, one the peer hosts) x audience (the
holder only, a recipient organisation the peer hosts, a sharing group one of the peer's
organisations belongs to) x provenance (stored here, received from the peer, received from
another node) x peer (of the community or not): what a peer's account reads over TAXII is
exactly what the reference rule lets cross, and what it reads elsewhere (REST) never more
than the TLP part of it.
"""

from __future__ import annotations

import itertools
import uuid

import orjson
import pytest

from accord.model.tlp import Tlp
from accord.model.visibility import (
    Crossing,
    Viewer,
    group_principal,
    may_cross,
    may_see,
    org_principal,
    user_principal,
)
from accord.store.node import Store
from accord.store.objects import ObjectQuery
from accord.store.records import NewVersion
from accord.store.taxii import EVERYTHING, Match

HERE = "identity--00000000-0000-4000-8000-0000000000aa"  # an organisation this node hosts
THERE = "identity--00000000-0000-4000-8000-0000000000bb"  # one the peer hosts
PEER_NODE = "identity--00000000-0000-4000-8000-00000000000b"
OTHER_NODE = "identity--00000000-0000-4000-8000-00000000000c"
GROUP = "group-with-there"

AUDIENCES = {
    "holder": lambda holder: {org_principal(holder)},
    "recipient-there": lambda holder: {org_principal(holder), org_principal(THERE)},
    "group-with-there": lambda holder: {org_principal(holder), group_principal(GROUP)},
}


def _cases() -> list[tuple[Tlp, str, str, str | None]]:
    return list(itertools.product(Tlp, (HERE, THERE), AUDIENCES, (None, PEER_NODE, OTHER_NODE)))


def _audience(tlp: Tlp, holder: str, kind: str) -> frozenset[str]:
    if tlp <= Tlp.GREEN:
        return frozenset()
    if tlp == Tlp.RED:
        return frozenset({user_principal("someone-here")})
    return frozenset(AUDIENCES[kind](holder))


@pytest.fixture
def stored(store: Store) -> dict[str, tuple[Tlp, str, frozenset[str], str | None]]:
    cases: dict[str, tuple[Tlp, str, frozenset[str], str | None]] = {}
    for number, (tlp, holder, kind, origin) in enumerate(_cases()):
        object_id = f"indicator--{uuid.UUID(int=number + 1)}"
        audience = _audience(tlp, holder, kind)
        raw = {"type": "indicator", "id": object_id, "object_marking_refs": [tlp.marking_id]}
        version = NewVersion(
            number,
            object_id,
            "2026-01-01T00:00:00.000000Z",
            "indicator",
            "2.1",
            None,
            False,
            tlp,
            audience,
            orjson.dumps(raw).decode(),
        )
        with store.engine.begin() as conn:
            store.writer.write(conn, [version], holder, None, origin)
        cases[object_id] = (tlp, holder, audience, origin)
    return cases


@pytest.mark.parametrize("community", [True, False])
def test_sql_agrees_with_may_cross(
    store: Store, stored: dict[str, tuple[Tlp, str, frozenset[str], str | None]], community: bool
) -> None:
    crossing = Crossing(PEER_NODE, community, frozenset({THERE}), frozenset({GROUP}))
    viewer = Viewer(org_id=THERE, crossing=crossing)
    entries = store.taxii.page(viewer, EVERYTHING, Match(versions=("all",)), limit=10_000)
    crossed = {entry.id for entry in entries if entry.id in stored}
    expected = {
        object_id
        for object_id, (tlp, holder, audience, origin) in stored.items()
        if may_cross(tlp, audience, holder, origin, crossing)
    }
    assert crossed == expected
    # Sanity of the table itself: RED never, GREEN only to the community, AMBER only where
    # the peer hosts someone of the audience; never back, never its own holder's.
    for object_id in expected:
        tlp, holder, _audience_of, origin = stored[object_id]
        assert tlp != Tlp.RED and holder != THERE and origin != PEER_NODE
        assert community or tlp != Tlp.GREEN
    # Every other read path applies at least the TLP part of the rule for a peer.
    read = {o.id for o in store.objects.query(viewer, ObjectQuery(types=["indicator"]))}
    assert all(may_see(stored[i][0], stored[i][2], viewer) for i in read if i in stored)
