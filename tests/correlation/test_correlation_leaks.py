"""The leak matrix for correlations, sightings and their aggregates: every viewer against an
indicator at every TLP level, in the store and over HTTP. An outsider must not see a
correlation to, or a count that includes, an AMBER object; an anonymous sighting never names
its reporter."""

from __future__ import annotations

import orjson
import pytest
from correlation_support import ident, ingest, value_indicator

from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.correlation.policy import CorrelationPolicy, set_policy
from accord.store.correlation.read import Correlations
from accord.store.node import Store
from accord.store.sightings import sighting_totals
from community import Community
from leakdata import ADDRESS, DOMAIN, EXPECTED, NETWORK, VIEWERS, indicator, load_matrix

PROBE = "probe"


def _probe(store: Store, community: Community) -> str:
    """A TLP:CLEAR indicator of the water utility that shares a value, a network and a
    domain with the matrix indicator of every level."""
    parts = []
    for level in Tlp:
        parts.append(f"[ipv4-addr:value = '{ADDRESS[level]}']")
        parts.append(f"[ipv4-addr:value = '{NETWORK[level].replace('.0/24', '.77')}']")
        parts.append(f"[domain-name:value = 'www.{DOMAIN[level]}']")
    probe = value_indicator(PROBE, "ipv4-addr:value", "192.0.2.1", Tlp.CLEAR)
    probe["pattern"] = " OR ".join(parts)
    ingest(store, community.operator, [probe])
    return ident(PROBE)


@pytest.fixture
def matrix(store: Store, community: Community) -> dict[str, Viewer]:
    viewers = load_matrix(store, community)
    _probe(store, community)
    return viewers


def test_correlation_leak_matrix(
    store: Store, community: Community, matrix: dict[str, Viewer]
) -> None:
    reader = Correlations(store.engine)
    for name in VIEWERS:
        found = reader.of_object(matrix[name], ident(PROBE))
        assert found is not None
        seen = {c.obj.id: set() for c in found.correlations}
        for c in found.correlations:
            seen[c.obj.id].add(c.relation)
        for level in Tlp:
            object_id = str(indicator(level)["id"])
            expected = name in EXPECTED[level]
            assert (object_id in seen) == expected, (
                f"{name} {'sees' if object_id in seen else 'misses'} {level.label}"
            )
            if expected:
                assert seen[object_id] == {"same-value", "cidr", "parent-domain"}
            # From the other end: the matrix indicator is readable exactly when visible.
            other = reader.of_object(matrix[name], object_id)
            assert (other is not None) == expected
            if other is not None:
                assert {c.obj.id for c in other.correlations} == {ident(PROBE)}


def test_counts_never_include_hidden_objects(store: Store, community: Community) -> None:
    set_policy(store.engine, CorrelationPolicy(cap=3))
    clear = [
        value_indicator(f"clear {n}", "ipv4-addr:value", "192.0.2.200", Tlp.CLEAR) for n in range(3)
    ]
    amber = [
        value_indicator(f"amber {n}", "ipv4-addr:value", "192.0.2.200", Tlp.AMBER) for n in range(2)
    ]
    ingest(store, community.analyst, clear + amber)
    reader = Correlations(store.engine)
    creator = store.directory.viewer(community.analyst)
    outsider = store.directory.viewer(community.operator)
    # Five objects share the value: over the cap of 3, so nothing is stored for it.
    mine = reader.of_object(creator, ident("clear 0"))
    assert mine is not None and mine.correlations == []
    assert [(o.value, o.count) for o in mine.over_correlating] == [("192.0.2.200", 4)]
    # The outsider may see two others: under the cap, so they are listed -- and whether the
    # value is "over" says nothing about the AMBER objects either.
    theirs = reader.of_object(outsider, ident("clear 0"))
    assert theirs is not None and theirs.over_correlating == []
    assert sorted(c.obj.json()["name"] for c in theirs.correlations) == ["clear 1", "clear 2"]
    anonymous = reader.of_object(Viewer.anonymous(), ident("clear 0"))
    assert anonymous is not None and len(anonymous.correlations) == 2


def test_allowlisted_and_excluded_values_do_not_correlate(
    store: Store, community: Community
) -> None:
    ingest(store, community.analyst, [value_indicator("a", "domain-name:value", "cdn.example.org")])
    ingest(
        store, community.analyst, [value_indicator("b", "url:value", "http://cdn.example.org/x")]
    )
    reader = Correlations(store.engine)
    water = store.directory.viewer(community.operator)
    police = store.directory.viewer(community.investigator)
    assert [c.relation for c in reader.of_object(water, ident("a")).correlations] == ["host"]  # type: ignore[union-attr]
    store.allowlists.add(community.water.id, "*.example.org")
    assert reader.of_object(water, ident("a")).correlations == []  # type: ignore[union-attr]
    assert len(reader.of_object(police, ident("a")).correlations) == 1  # type: ignore[union-attr]
    excluded = reader.of_object(
        police, ident("a"), exclude=lambda value: value == "cdn.example.org"
    )
    assert excluded is not None and excluded.correlations == []


def test_sighting_aggregates_leak_matrix(
    store: Store, community: Community, matrix: dict[str, Viewer]
) -> None:
    """Sightings of each matrix indicator: one visible GREEN by the police, one AMBER by the
    CERT (its own audience), one anonymous AMBER by the water utility where it may see it."""
    from accord.ingest.sightings import SightingRequest, record_sighting

    for level in Tlp:
        target = str(indicator(level)["id"])
        reporter = community.investigator
        made, _, _ = record_sighting(
            store, reporter, SightingRequest(count=2, tlp=Tlp.GREEN), [target], None, Tlp.AMBER
        )
        assert made.ok
        made, _, _ = record_sighting(
            store,
            community.analyst,
            SightingRequest(count=3, tlp=Tlp.AMBER),
            [target],
            None,
            Tlp.AMBER,
        )
        assert made.ok
        made, _, _ = record_sighting(
            store,
            community.colleague,
            SightingRequest(count=5, tlp=Tlp.RED, anonymous=True),
            [target],
            None,
            Tlp.AMBER,
        )
        assert made.ok
    with store.engine.connect() as conn:
        for name in VIEWERS:
            totals = sighting_totals(
                conn, matrix[name], [str(indicator(level)["id"]) for level in Tlp]
            )
            for level in Tlp:
                found = totals.get(str(indicator(level)["id"]))
                if name not in EXPECTED[level]:
                    assert found is None, f"{name} counts sightings of {level.label}"
                    continue
                assert found is not None
                # GREEN sighting: members; AMBER (CERT's): the CERT; the anonymous RED one:
                # everyone who may see the indicator.
                expected = (
                    5
                    + (2 if name != "anonymous" else 0)
                    + (3 if name in ("creator", "colleague") else 0)
                )
                assert found.seen == expected, (name, level.label)
                assert found.anonymous == 1


def test_anonymous_sightings_never_name_the_reporter(store: Store, community: Community) -> None:
    from accord.ingest.sightings import SightingRequest, record_sighting

    ingest(store, community.analyst, [value_indicator("seen", "ipv4-addr:value", "198.51.100.77")])
    report, created, _ = record_sighting(
        store,
        community.operator,
        SightingRequest(count=4, tlp=Tlp.GREEN, anonymous=True),
        [ident("seen")],
        None,
        Tlp.AMBER,
    )
    assert report.ok
    viewer = store.directory.viewer(community.analyst)
    for object_id in created:
        stored = store.objects.get(viewer, object_id)
        assert stored is not None
        text = stored.raw
        assert community.water.id not in text and community.operator.id not in text
        body = orjson.loads(text)
        assert "created_by_ref" not in body and "where_sighted_refs" not in body
