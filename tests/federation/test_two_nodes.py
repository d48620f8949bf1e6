"""Two nodes over real HTTP: what crosses a hop is exactly what the hop rule allows, arrives
with its audience unchanged, and is shown on the receiving node only to that audience; pull
and push agree; replays store nothing twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from federation_support import Node, indicator, make_node, peer

from accord.federation.peer_sync import run
from accord.ingest.sightings import SightingRequest, record_sighting
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.store.peers import PULL, PUSH
from accord.store.records import ObjectQuery
from accord.store.sightings import sighting_totals

NORD = ["Nordland CERT", "Nordland Police"]
SUD = ["Sudmark CERT", "Sudmark Water"]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    a = make_node("nordland", f"sqlite:///{tmp_path / 'a.db'}", NORD, tmp_path)
    b = make_node("sudmark", f"sqlite:///{tmp_path / 'b.db'}", SUD, tmp_path)
    try:
        yield a, b
    finally:
        for node in (a, b):
            node.stop()
            node.store.close()


def _share(node: Node, org: str, objects: list[dict[str, object]]) -> None:
    report = Ingester(node.store, node.analysts[org]).ingest_objects(
        objects, "2.1", "test", IngestOptions()
    )
    assert report.ok, report.summary()


def _visible(node: Node, org: str) -> set[str]:
    viewer = node.store.directory.viewer(node.analysts[org])
    return {obj.id for obj in node.store.objects.query(viewer, ObjectQuery(types=["indicator"]))}


def _catalogue(water: str) -> dict[str, dict[str, object]]:
    return {
        "clear": indicator(1, Tlp.CLEAR),
        "green": indicator(2, Tlp.GREEN),
        "amber": indicator(3, Tlp.AMBER),
        "amber-water": indicator(4, Tlp.AMBER, recipients=[water]),
        "strict-water": indicator(5, Tlp.AMBER_STRICT, recipients=[water]),
        "red": indicator(6, Tlp.RED),
    }


@pytest.mark.parametrize("community", [True, False])
def test_pull_crosses_what_the_hop_rule_allows(pair: tuple[Node, Node], community: bool) -> None:
    a, b = pair
    water = b.orgs["Sudmark Water"].id
    objects = _catalogue(water)
    _share(a, "Nordland CERT", list(objects.values()))
    a.start()
    peer(b, a, pull=True, community=community)
    report = run(b.store, b.store.peers.get("nordland"), PULL)
    assert report.error is None and report.refused == 0, report
    ids = {name: str(obj["id"]) for name, obj in objects.items()}
    crossed = {"clear", "amber-water", "strict-water"} | ({"green"} if community else set())
    assert _visible(b, "Sudmark Water") == {ids[n] for n in crossed}
    assert _visible(b, "Sudmark CERT") == {ids[n] for n in crossed if n in ("clear", "green")}
    # Nothing twice, nothing back: a second pull stores nothing.
    again = run(b.store, b.store.peers.get("nordland"), PULL)
    assert again.error is None and again.stored == 0


def test_push_and_pull_agree(pair: tuple[Node, Node]) -> None:
    a, b = pair
    water = b.orgs["Sudmark Water"].id
    objects = _catalogue(water)
    _share(a, "Nordland CERT", list(objects.values()))
    b.start()
    peer(a, b, pull=False, push=True)  # a reaches b; b cannot reach a (a police network)
    report = run(a.store, a.store.peers.get("sudmark"), PUSH)
    assert report.error is None and report.refused == 0, report
    ids = {name: str(obj["id"]) for name, obj in objects.items()}
    assert _visible(b, "Sudmark Water") == {
        ids[n] for n in ("clear", "green", "amber-water", "strict-water")
    }
    again = run(a.store, a.store.peers.get("sudmark"), PUSH)
    assert again.objects == 0


def test_an_anonymous_sighting_travels_back_to_the_sighted_object(
    pair: tuple[Node, Node],
) -> None:
    """Sudmark Water sights Nordland's indicator anonymously (AMBER, for itself only): the
    sighting reaches Nordland, counts for Nordland CERT's indicator there, and names no
    reporter; a sighting that names its reporter stays under its own TLP."""
    a, b = pair
    water = b.orgs["Sudmark Water"].id
    shared = indicator(7, Tlp.AMBER, recipients=[water])
    _share(a, "Nordland CERT", [shared])
    a.start()
    b.start()
    peer(b, a, pull=True)  # Sudmark pulls Nordland's indicator
    assert run(b.store, b.store.peers.get("nordland"), PULL).error is None
    reporter = b.analysts["Sudmark Water"]
    for anonymous in (True, False):
        record_sighting(
            b.store,
            reporter,
            SightingRequest(count=3, tlp=Tlp.AMBER, anonymous=anonymous),
            [str(shared["id"])],
            None,
            Tlp.AMBER,
        )
    peer(a, b, pull=True)  # Nordland pulls from Sudmark
    report = run(a.store, a.store.peers.get("sudmark"), PULL)
    assert report.error is None and report.refused == 0, report
    cert = a.store.directory.viewer(a.analysts["Nordland CERT"])
    with a.store.engine.connect() as conn:
        totals = sighting_totals(conn, cert, [str(shared["id"])])[str(shared["id"])]
    assert totals.seen == 3 and totals.anonymous == 1  # the anonymous one only
    sightings = a.store.objects.query(
        a.store.directory.viewer(a.analysts["Nordland Police"]), ObjectQuery(types=["sighting"])
    ) + a.store.objects.query(cert, ObjectQuery(types=["sighting"]))
    assert sightings == []  # the sighting objects stay hidden; only the count reaches
    with a.store.engine.connect() as conn:
        raws = conn.exec_driver_sql("SELECT raw FROM objects WHERE type = 'sighting'").all()
    assert len(raws) == 1 and water not in raws[0][0] and reporter.id not in raws[0][0]


def test_a_peer_made_community_gets_the_older_green_from_the_start(
    pair: tuple[Node, Node],
) -> None:
    """GREEN stored before a peer was made community reaches it once it pulls from the start
    (`accord peer pull --from-start`); the objects it has already are duplicates."""
    a, b = pair
    objects = _catalogue(b.orgs["Sudmark Water"].id)
    _share(a, "Nordland CERT", list(objects.values()))
    a.start()
    peer(b, a, pull=True, community=False)
    assert run(b.store, b.store.peers.get("nordland"), PULL).stored == 3
    peer(b, a, pull=True, community=True)  # Nordland now counts Sudmark in its community
    assert run(b.store, b.store.peers.get("nordland"), PULL).stored == 0  # the cursor
    # The serving node reads its peers' keys anew within its key cache's few seconds.
    deadline = time.monotonic() + 30
    while True:
        b.store.peers.forget_cursor(b.store.peers.get("nordland").id, PULL)
        again = run(b.store, b.store.peers.get("nordland"), PULL)
        if again.stored or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert (again.stored, again.duplicates) == (1, 3), again
    assert str(objects["green"]["id"]) in _visible(b, "Sudmark CERT")
