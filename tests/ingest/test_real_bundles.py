"""Real published STIX from ../shared/data: ingested, counted, exported back unchanged."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.export.stix import export_bundle
from accord.ingest.stix import Ingester, IngestOptions, with_marking
from accord.model.tlp import Tlp, tlp_of
from accord.store.node import Store
from community import Community

INVALID_UNIT42 = {
    "AstarothMalware",
    "IcedID_Malware",
    "MatrixRansowmare_IOCs",
    "Zeppelin_TA",
    "cve-2023-23397",
    "malicious-nod-detection",
    "qakbotmalware",
    "realtek-sdk-cve-2021-35394",
}


def _objects(path: Path) -> list[dict[str, Any]]:
    document = orjson.loads(path.read_bytes())
    return (
        document["objects"] if isinstance(document, dict) and "objects" in document else [document]
    )


def _exported(store: Store, community: Community) -> dict[tuple[str, str], dict[str, Any]]:
    viewer = store.directory.viewer(community.analyst)
    bundle = orjson.loads("".join(export_bundle(store, viewer)))
    return {(o["id"], o.get("modified", o.get("created", ""))): o for o in bundle["objects"]}


def _stix21_bundles(shared: Path) -> list[Path]:
    return [
        *sorted((shared / "stix21" / "oasis-cti-documentation-examples").glob("*.json")),
        shared / "stix21" / "attack-flow" / "attack-flow-example.json",
        shared / "attack" / "mobile-attack-17.1.json",
    ]


def test_stix21_bundles_round_trip(sqlite_store: Store, shared_data: Path) -> None:
    from community import make_community

    community = make_community(sqlite_store)
    ingester = Ingester(sqlite_store, community.analyst)
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for path in _stix21_bundles(shared_data):
        report = ingester.ingest_file(path, IngestOptions(tlp=Tlp.GREEN))
        assert report.ok, report.summary()
        objects = _objects(path)
        stored = report.count("stored") + report.count("duplicate")
        assert stored == len(objects), path.name
        for obj in objects:
            key = (obj["id"], obj.get("modified", obj.get("created", "")))
            previous = expected.get((obj["id"], ""))
            if previous is None or key[1] >= previous.get("modified", previous.get("created", "")):
                expected[(obj["id"], "")] = obj
    exported = {k[0]: v for k, v in _exported(sqlite_store, community).items()}
    counts = Counter(obj["type"] for obj in expected.values())
    for (object_id, _), obj in expected.items():
        # JSON-equal to the input, with the TLP it was shared at where it carried none.
        wanted = obj if tlp_of(obj) is not None else with_marking(obj, Tlp.GREEN)
        assert exported[object_id] == wanted, object_id
    exported_counts = Counter(o["type"] for i, o in exported.items() if (i, "") in expected)
    assert exported_counts == counts


def test_attack_enterprise_counts(store: Store, community: Community, shared_data: Path) -> None:
    path = shared_data / "attack" / "enterprise-attack-18.1.rebuilt-stix21.json"
    report = Ingester(store, community.analyst).ingest_file(path, IngestOptions(tlp=Tlp.CLEAR))
    assert report.ok, report.summary()
    objects = _objects(path)
    assert report.count("stored") == len(objects) == 24_771
    counts = store.objects.count_latest(store.directory.viewer(community.operator))
    expected = Counter(o["type"] for o in objects)
    expected["identity"] += 1  # published by `accord init`: Accord's identity,
    expected["marking-definition"] += 5  # the five TLP 2.0 definitions
    expected["extension-definition"] += 1  # and its recipients extension
    for object_type, count in expected.items():
        assert counts[object_type] == count, object_type
    assert counts["relationship"] == 20_048 and counts["attack-pattern"] == 835
    again = Ingester(store, community.analyst).ingest_file(path, IngestOptions(tlp=Tlp.CLEAR))
    assert again.count("duplicate") == 24_771 and again.count("stored") == 0


def test_unit42_stix20_upgraded(sqlite_store: Store, shared_data: Path) -> None:
    from community import make_community

    community = make_community(sqlite_store)
    ingester = Ingester(sqlite_store, community.analyst)
    folder = shared_data / "stix20" / "unit42-stix2-reports" / "report_json"
    files = sorted(folder.glob("*.json"))
    assert len(files) == 62
    rejected_files = set()
    for path in files:
        report = ingester.ingest_file(path, IngestOptions(tlp=Tlp.GREEN))
        assert report.error is None, report.error
        assert report.spec_version == "2.0"
        if not report.ok:
            rejected_files.add(path.stem)
            for obj in report.objects:
                if obj.status == "rejected":
                    assert obj.id and obj.problems and all(p.reason for p in obj.problems)
            assert report.count("stored") == 0  # the bundle was taken whole or not at all
            partial = ingester.ingest_file(path, IngestOptions(tlp=Tlp.GREEN, partial=True))
            assert partial.count("stored") == len(partial.objects) - partial.count(
                "rejected"
            ) - partial.count("duplicate")
            assert partial.count("stored") > 0
        else:
            assert report.count("stored") + report.count("duplicate") == len(report.objects)
    matched = {name for name in rejected_files if any(bad in name for bad in INVALID_UNIT42)}
    assert matched == rejected_files and len(rejected_files) == 8
    # the upgrade made 2.1 objects: spec_version added, labels moved, pattern_type added
    viewer = sqlite_store.directory.viewer(community.analyst)
    indicators = [o.json() for o in sqlite_store.objects.iterate(viewer, ["indicator"])]
    assert len(indicators) > 2000
    for indicator in indicators:
        assert indicator["spec_version"] == "2.1" and indicator["pattern_type"] == "stix"
        assert "labels" not in indicator or "indicator_types" in indicator


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("identity", True),
        ("identity_custom", True),
        ("identity_unicode", True),
        ("identity_warning", True),
        ("tlp-amber", True),
        ("tool", True),
        ("invalid_braces", False),
        ("invalid_comma", False),
        ("invalid_identity", False),
        ("invalid_timestamp", False),
    ],
)
def test_oasis_validator_cases(
    sqlite_store: Store, shared_data: Path, name: str, valid: bool
) -> None:
    from community import make_community

    community = make_community(sqlite_store)
    path = shared_data / "stix21" / "oasis-stix-validator-tests" / f"{name}.json"
    report = Ingester(sqlite_store, community.analyst).ingest_file(path, IngestOptions())
    assert report.ok == valid, report.summary()
    if not valid:
        assert report.error or report.count("rejected")


def test_tlp2_invalid_example_rejected(sqlite_store: Store, shared_data: Path) -> None:
    from community import make_community

    community = make_community(sqlite_store)
    path = (
        shared_data
        / "stix21"
        / "tlp2-marking-definitions"
        / "using-tlp2.0-green.INVALID-timestamp.json"
    )
    report = Ingester(sqlite_store, community.analyst).ingest_file(path, IngestOptions())
    assert not report.ok
    rejected = [o for o in report.objects if o.status == "rejected"]
    assert rejected and any(p.property == "created" for p in rejected[0].problems)


def test_exports_pass_stix2_validator(sqlite_store: Store, shared_data: Path) -> None:
    from stix2validator import ValidationOptions, validate_string

    from community import make_community

    community = make_community(sqlite_store)
    ingester = Ingester(sqlite_store, community.analyst)
    for path in _stix21_bundles(shared_data)[:-1]:  # the ATT&CK mobile file is validated below
        assert ingester.ingest_file(path, IngestOptions(tlp=Tlp.GREEN)).ok
    for path in sorted(
        (shared_data / "stix20" / "unit42-stix2-reports" / "report_json").glob("2024*.json")
    ):
        ingester.ingest_file(path, IngestOptions(tlp=Tlp.GREEN))
    viewer = sqlite_store.directory.viewer(community.analyst)
    text = "".join(export_bundle(sqlite_store, viewer))
    results = validate_string(text, ValidationOptions(version="2.1", strict=False))
    assert results.is_valid, [str(error) for error in results.errors][:10]
