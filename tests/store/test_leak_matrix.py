"""Every read function of the store x every TLP level x every kind of viewer.

The expected answer comes from the TLP 2.0 table, written out by hand below, and must agree
with both the SQL rule (what the store returns) and the reference rule (model.may_see).
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest

from accord.export.stix import export_bundle
from accord.ingest.stix import Ingester, IngestOptions
from accord.intel.search import search_value
from accord.match.matcher_source import matcher_for
from accord.model.observables import normalise
from accord.model.search_text import parse_search
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients, Viewer, may_see
from accord.store.node import Store
from accord.store.objects import ObjectQuery
from community import Community
from leakdata import ADDRESS, DOMAIN, EXPECTED, NETWORK, VIEWERS, indicator, load_matrix


@pytest.fixture
def loaded(store: Store, community: Community) -> dict[str, Viewer]:
    return load_matrix(store, community)


def _ids(store: Store, viewer: Viewer) -> set[str]:
    return {o.id for o in store.objects.query(viewer, ObjectQuery(types=["indicator"]))}


def _seq(store: Store, level: Tlp) -> int:
    """The latest version of the level's indicator (read without the rule: a test's key)."""
    from sqlalchemy import select

    from accord.store.schema import objects

    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(objects.c.seq)
                .where(objects.c.id == str(indicator(level)["id"]))
                .where(objects.c.is_latest)
            ).scalar_one()
        )


def _found(store: Store, viewer: Viewer, query: ObjectQuery) -> bool:
    return bool(store.objects.query(viewer, query))


READS: dict[str, Callable[[Store, Viewer, Tlp], bool]] = {
    "get": lambda s, v, t: s.objects.get(v, indicator(t)["id"]) is not None,  # type: ignore[arg-type]
    "get-version": lambda s, v, t: (
        s.objects.get(v, str(indicator(t)["id"]), "2026-01-01T00:00:00.000000Z") is not None
    ),
    "versions": lambda s, v, t: len(s.objects.versions(v, str(indicator(t)["id"]))) == 2,
    "query": lambda s, v, t: str(indicator(t)["id"]) in _ids(s, v),
    "query-by-tlp": lambda s, v, t: bool(s.objects.query(v, ObjectQuery(tlp=t))),
    # Browsing by words and labels (accord.store.browse): the phrase is one level's name only.
    "search-words": lambda s, v, t: _found(
        s, v, ObjectQuery(text=parse_search(f'"{t.label} test"'))
    ),
    "search-words-prefix": lambda s, v, t: _found(
        s, v, ObjectQuery(text=parse_search(f'"{t.label} te"*'), newest_first=True)
    ),
    "search-label": lambda s, v, t: _found(s, v, ObjectQuery(label=f"leak-{t.slug}")),
    "search-words-and-label": lambda s, v, t: _found(
        s, v, ObjectQuery(text=parse_search("indicator"), label=f"leak-{t.slug}")
    ),
    "search-exact": lambda s, v, t: bool(search_value(s, v, ADDRESS[t]).matches),
    "search-cidr": lambda s, v, t: bool(
        search_value(s, v, NETWORK[t].replace(".0/24", ".77")).matches
    ),
    "search-parent-domain": lambda s, v, t: bool(search_value(s, v, "www." + DOMAIN[t]).matches),
    "search-url-host": lambda s, v, t: bool(
        search_value(s, v, f"https://{DOMAIN[t]}/login").matches
    ),
    # Issue 19: versions a pattern index in memory found, read through the rule (in the
    # look-up's own statement, and for a match of observed-data).
    "search-versions": lambda s, v, t: bool(
        s.index.search_many(v, [normalise("domain", "x.example")], versions=[[_seq(s, t)]])[0]
    ),
    "visible-versions": lambda s, v, t: bool(s.index.visible_versions(v, [], [_seq(s, t)])),
    # Issue 20: the matcher compiled for a viewer (accord match, POST /api/v1/match).
    "match": lambda s, v, t: (
        str(indicator(t)["id"])
        in {
            hit.target.id
            for hit in matcher_for(s, v, None)[0].value_hits(
                normalise("domain", "www." + DOMAIN[t])
            )
        }
    ),
    "export": lambda s, v, t: (
        str(indicator(t)["id"])
        in {o["id"] for o in orjson.loads("".join(export_bundle(s, v)))["objects"]}
    ),
}


@pytest.mark.parametrize("read", [*sorted(READS), "count"])
def test_leak_matrix(store: Store, loaded: dict[str, Viewer], read: str) -> None:
    for level in Tlp:
        for name in VIEWERS:
            viewer = loaded[name]
            expected = name in EXPECTED[level]
            if read == "count":
                # the count of everything must equal the number of expected-visible objects
                want = sum(1 for lv in Tlp if name in EXPECTED[lv])
                got = store.objects.count_latest(viewer).get("indicator", 0)
                assert got == want, f"{read}: {name} counts {got} indicators, expected {want}"
                continue
            seen = READS[read](store, viewer, level)
            assert seen == expected, f"{read}: {name} {'sees' if seen else 'misses'} {level.label}"


def test_sql_rule_agrees_with_reference_rule(store: Store, loaded: dict[str, Viewer]) -> None:
    from sqlalchemy import select

    from accord.store.schema import object_audience, objects

    with store.engine.connect() as conn:
        audience: dict[int, set[str]] = {}
        for seq, principal in conn.execute(
            select(object_audience.c.seq, object_audience.c.principal)
        ):
            audience.setdefault(seq, set()).add(principal)
        latest = list(conn.execute(select(objects.c.seq, objects.c.tlp).where(objects.c.is_latest)))
    for name, viewer in loaded.items():
        visible = {o.seq for o in store.objects.query(viewer, ObjectQuery(limit=10_000))}
        for seq, tlp in latest:
            expected = may_see(Tlp(tlp), audience.get(seq, set()), viewer)
            assert (seq in visible) == expected, f"{name}, object version {seq}"


def test_sharing_group_recipients(store: Store, community: Community) -> None:
    store.directory.add_group("water-sector", ["Water Utility"])
    group = store.directory.group("water-sector")
    ingester = Ingester(store, community.analyst)
    obj = indicator(Tlp.AMBER)
    data = orjson.dumps({"type": "bundle", "id": "bundle--3", "objects": [obj]})
    report = ingester.ingest_bytes(
        data, "g", IngestOptions(recipients=Recipients(group_ids=frozenset({group.id})))
    )
    assert report.ok
    water = store.directory.viewer(community.operator)
    police = store.directory.viewer(community.investigator)
    assert store.objects.get(water, str(obj["id"])) is not None
    assert store.objects.get(police, str(obj["id"])) is None


def test_recipients_extension_names_orgs_groups_and_users(
    store: Store, community: Community
) -> None:
    from accord.model.extension import ACCORD_EXTENSION_ID

    store.directory.add_group("police-only", ["Police Cyber Unit"])
    amber = indicator(Tlp.AMBER) | {
        "extensions": {
            ACCORD_EXTENSION_ID: {
                "extension_type": "property-extension",
                "sharing_groups": ["police-only"],
            }
        }
    }
    red = indicator(Tlp.RED) | {
        "extensions": {
            ACCORD_EXTENSION_ID: {
                "extension_type": "property-extension",
                "recipient_users": ["soc@water.example"],
            }
        }
    }
    data = orjson.dumps({"type": "bundle", "id": "bundle--4", "objects": [amber, red]})
    report = Ingester(store, community.analyst).ingest_bytes(data, "ext", IngestOptions())
    assert report.ok, report.summary()
    d = store.directory
    assert store.objects.get(d.viewer(community.investigator), str(amber["id"])) is not None
    assert store.objects.get(d.viewer(community.operator), str(amber["id"])) is None
    assert store.objects.get(d.viewer(community.operator), str(red["id"])) is not None
    assert store.objects.get(d.viewer(community.colleague), str(red["id"])) is None
    # the stored JSON is the JSON received, extension and all
    assert store.objects.get(d.viewer(community.analyst), str(amber["id"])).json() == amber  # type: ignore[union-attr]


def test_unknown_recipients_are_rejected(store: Store, community: Community) -> None:
    from accord.model.extension import ACCORD_EXTENSION_ID

    obj = indicator(Tlp.AMBER) | {
        "extensions": {
            ACCORD_EXTENSION_ID: {
                "extension_type": "property-extension",
                "sharing_groups": ["nope"],
            }
        }
    }
    data = orjson.dumps({"type": "bundle", "id": "bundle--5", "objects": [obj]})
    report = Ingester(store, community.analyst).ingest_bytes(data, "ext", IngestOptions())
    assert not report.ok
    assert "no sharing group 'nope'" in report.objects[0].describe()


def test_admin_does_not_bypass_the_rule(
    store: Store, community: Community, loaded: dict[str, Viewer]
) -> None:
    from accord.model.roles import Role

    admin, _ = store.directory.add_user("root@node.example", "Water Utility", Role.ADMIN)
    viewer = store.directory.viewer(admin)
    assert store.objects.get(viewer, str(indicator(Tlp.AMBER)["id"])) is None
    assert store.objects.get(viewer, str(indicator(Tlp.RED)["id"])) is None
