"""Real overlaps: ESET's MISP event for the Candiru watering holes, Unit 42's IcedID, Remcos and
Latrodectus bundles and maltrail's trails share addresses, domains and files; each source is
stored by a different organisation, and the correlations join them up."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.ingest.lists import ListIngester, ListOptions
from accord.ingest.lists_formats import ListEntry, read_list
from accord.ingest.misp import MispImporter
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.store.correlation.read import Correlations
from accord.store.node import Store
from community import Community

UNIT42 = [
    "IcedID_Malware.json",
    "2024-09-11-Remcos-RAT-and-XLoader-activity.json",
    "2024-06-25-Latrodectus.json",
]
TRAILS = ["remcos.txt", "bazarloader.txt", "icedid.txt", "latrodectus.txt"]
GREEN = IngestOptions(tlp=Tlp.GREEN, partial=True)


def _holders(store: Store, value: str) -> dict[str, str]:
    """object id -> owner organisation, for the latest objects that hold ``value``."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT o.id, o.owner_org FROM observables ob JOIN objects o ON o.seq = ob.seq "
            "WHERE ob.value = ? AND o.is_latest",
            (value,),
        ).all()
    return dict(rows)


@pytest.fixture
def loaded(sqlite_store: Store, shared_data: Path) -> tuple[Store, Community, set[str]]:
    from community import make_community

    store = sqlite_store
    community = make_community(store)
    eset = shared_data / "eset-malware-ioc" / "swc-candiru"
    reports = list(
        MispImporter(store, community.analyst).ingest_path(eset / "swc-candiru_misp.json", GREEN)
    )
    assert all(r.ok for r in reports)
    ingester = Ingester(store, community.investigator)
    for name in UNIT42:
        path = shared_data / "stix20" / "unit42-stix2-reports" / "report_json" / name
        assert ingester.ingest_file(path, GREEN).count("stored") > 0
    with store.engine.connect() as conn:
        known = {row[0] for row in conn.exec_driver_sql("SELECT value FROM observables")}
    # The values the trails share with ESET and Unit 42, found by reading the trails.
    trails = shared_data / "ioc-lists" / "maltrail" / "trails" / "static" / "malware"
    shared: list[ListEntry] = []
    for name in TRAILS:
        shared += [
            entry
            for entry in read_list(trails / name)
            if isinstance(entry, ListEntry) and entry.observable.value in known
        ]
    lists = ListIngester(store, community.operator)
    report = lists.ingest_entries(shared, "maltrail", ListOptions(ingest=GREEN))
    assert report.stored == len({(e.observable.value, e.port) for e in shared})
    # ESET's sample lists: MD5s from the police, SHA-256s from the water utility.
    ListIngester(store, community.investigator).ingest_file(
        eset / "samples.md5", ListOptions(ingest=GREEN)
    )
    ListIngester(store, community.operator).ingest_file(
        eset / "samples.sha256", ListOptions(ingest=GREEN)
    )
    return store, community, {e.observable.value for e in shared}


def test_trails_correlate_with_eset_and_unit42(loaded: tuple[Store, Community, set[str]]) -> None:
    store, community, shared = loaded
    assert {
        "5.206.224.226",  # ESET Candiru and maltrail remcos
        "87.121.52.9",  # ESET Candiru and maltrail bazarloader
        "137.74.104.108",  # Unit 42 IcedID and maltrail icedid
        "abegelkunic.com",
        "eadzagba1.duckdns.org",  # Unit 42 Remcos and maltrail remcos
        "barsman.biz",  # Unit 42 Latrodectus and maltrail latrodectus
    } <= shared
    outsider = store.directory.viewer(community.operator)
    reader = Correlations(store.engine)
    joined_orgs: set[frozenset[str]] = set()
    for value in sorted(shared):
        holders = _holders(store, value)
        trail = [i for i, org in holders.items() if org == community.water.id]
        others = {i for i, org in holders.items() if org != community.water.id}
        assert trail and others, value
        for object_id in trail:
            found = reader.of_object(outsider, object_id)
            assert found is not None
            same = {
                c.obj.id
                for c in found.correlations
                if c.relation == "same-value" and c.value == value
            }
            assert others <= same, value
        joined_orgs.add(frozenset(holders.values()))
    assert frozenset({community.cert.id, community.water.id}) in joined_orgs
    assert frozenset({community.police.id, community.water.id}) in joined_orgs


def test_sample_lists_meet_through_the_misp_files(
    loaded: tuple[Store, Community, set[str]], shared_data: Path
) -> None:
    store, community, _ = loaded
    eset = shared_data / "eset-malware-ioc" / "swc-candiru"
    md5s = (eset / "samples.md5").read_text().split()
    sha256s = (eset / "samples.sha256").read_text().split()
    viewer = store.directory.viewer(community.operator)
    reader = Correlations(store.engine)
    files = 0
    for md5 in md5s:
        [md5_list] = [i for i, org in _holders(store, md5).items() if org == community.police.id]
        found = reader.of_object(viewer, md5_list)
        assert found is not None
        # The list's MD5 and the water utility's SHA-256 of the same file: one file, unified
        # by ESET's MISP file object that carries both.
        same_file = [
            c for c in found.correlations if c.relation == "same-file" and c.other_value in sha256s
        ]
        same_value = [c for c in found.correlations if c.relation == "same-value"]
        assert same_value and all(c.obj.owner_org == community.cert.id for c in same_value)
        files += bool(same_file)
        assert all(c.obj.owner_org == community.water.id for c in same_file)
    assert files == len(md5s) == 3
