"""MISP import on real events: ESET's exports and PyMISP's test events."""

from __future__ import annotations

import collections
import re
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.ingest.misp import MispImporter, read_path
from accord.ingest.misp.attributes import PATHS, RULE_TYPES
from accord.ingest.misp.events import Audience, EventConverter, _item_uuid
from accord.ingest.stix import IngestOptions
from accord.model.extension import ACCORD_EXTENSION_ID
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.node import Store

LABEL = re.compile(r'^misp:type="(.*)"$')


def real_event_files(shared_data: Path) -> list[Path]:
    eset = sorted((shared_data / "eset-malware-ioc").rglob("*.json"))
    pymisp = [
        shared_data / "misp" / "pymisp-tests" / name
        for name in ("57c4445b-c548-4654-af0b-4be3950d210f.json", "misp_event.json")
    ] + sorted((shared_data / "misp" / "pymisp-tests" / "mispevent_testfiles").glob("*.json"))
    return eset + pymisp


def misp_type(obj: dict[str, Any]) -> str | None:
    for label in obj.get("labels") or []:
        match = LABEL.match(label)
        if match:
            return match.group(1)
    return None


def expected_counts(event: dict[str, Any]) -> collections.Counter[tuple[str, str]]:
    """(MISP type, STIX type) -> count, as the issue states the rule: to_ids -> indicator,
    else observed-data; detection rules are indicators, CVEs and campaigns domain objects;
    types with no STIX object are kept as x-misp-attribute."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for attribute in event.get("Attribute") or []:
        if attribute.get("deleted"):
            continue
        kind = attribute["type"]
        to_ids = attribute.get("to_ids") in (True, "1", 1, "true", "True")
        if kind in RULE_TYPES:
            counts[(kind, "indicator")] += 1
        elif kind in ("vulnerability", "campaign-name"):
            counts[(kind, "vulnerability" if kind == "vulnerability" else "campaign")] += 1
        elif kind in PATHS or kind in ("malware-sample", "attachment"):
            if to_ids:
                counts[(kind, "indicator")] += 1
            elif kind in ("port", "size-in-bytes", "http-method", "user-agent"):
                counts[(kind, "x-misp-attribute")] += 1
            else:
                counts[(kind, "observed-data")] += 1
        else:
            counts[(kind, "x-misp-attribute")] += 1
    return counts


def actual_counts(objects: list[dict[str, Any]]) -> collections.Counter[tuple[str, str]]:
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for obj in objects:
        kind = misp_type(obj)
        if kind is not None:
            counts[(kind, obj["type"])] += 1
    return counts


def test_every_real_event_maps_attribute_for_attribute(shared_data: Path) -> None:
    converter = EventConverter()
    events = documents = 0
    per_type: collections.Counter[tuple[str, str]] = collections.Counter()
    errors: list[str] = []
    for path in real_event_files(shared_data):
        for document in read_path(path):
            if document.error is not None:
                errors.append(document.error)
                continue
            documents += 1
            for event in document.events:
                converted = converter.convert(event)
                expected = expected_counts(event)
                assert actual_counts(converted.objects) == expected, document.source
                objects = [m for m in event.get("Object") or [] if not m.get("deleted")]
                assert len(converted.kinds) == len(event.get("Attribute") or []) - sum(
                    1 for a in event.get("Attribute") or [] if a.get("deleted")
                ) + len(objects)
                if "eset-malware-ioc" in document.source:
                    per_type.update(expected)
                events += 1
    assert events >= 55  # 41 ESET events and the PyMISP test events
    # The ESET counts, type by type (see docs/misp.md for the full table).
    assert sum(per_type.values()) == 2631  # ESET: 41 events, 2,631 attributes
    assert per_type[("domain", "indicator")] == 280
    assert per_type[("sha1", "observed-data")] == 446
    assert per_type[("filename|sha1", "indicator")] == 127
    assert per_type[("regkey|value", "observed-data")] == 95
    assert per_type[("text", "x-misp-attribute")] == 195
    # The files that are not MISP events are named, with where: the rest went on.
    assert any("dnsbirthday" in e and "not a MISP event at the top level" in e for e in errors)
    assert all(e.startswith(str(shared_data)) for e in errors)


def test_eset_events_store_and_reimport_as_duplicates(
    sqlite_store: Store, shared_data: Path
) -> None:
    sqlite_store.directory.add_org("CERT-EX")
    user, _ = sqlite_store.directory.add_user("a@cert.example", "CERT-EX", Role.ANALYST)
    importer = MispImporter(sqlite_store, user)
    eset = shared_data / "eset-malware-ioc"
    first = list(importer.ingest_path(eset, IngestOptions()))
    failed = [r for r in first if not r.ok]
    assert len(failed) == 1 and "dnsbirthday" in str(failed[0].report.error)
    stored = sum(r.report.count("stored") for r in first)
    shared = sum(r.report.count("duplicate") for r in first)  # clusters used by many events
    assert stored > 3000
    again = list(MispImporter(sqlite_store, user).ingest_path(eset, IngestOptions()))
    assert sum(r.report.count("stored") for r in again) == 0
    assert sum(r.report.count("duplicate") for r in again) == stored + shared


def test_trailing_commas_are_tolerated_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(
        '{"Event": {"uuid": "5bbe5b1c-2238-42b4-8a90-018b0a016219", "info": "x, y]",\n'
        ' "Attribute": [{"type": "domain", "value": "evil.example", "to_ids": true,},],}}'
    )
    [document] = read_path(path)
    assert document.error is None
    assert document.events[0]["info"] == "x, y]"  # commas inside strings are left alone
    assert "event.json" in document.warnings[0] and "line 2" in document.warnings[0]


def test_broken_json_and_non_misp_name_the_file_and_where(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"Event": {"info": "x"\n "uuid": 1}}')
    [document] = read_path(broken)
    assert document.error is not None
    assert "broken.json" in document.error and "line 2" in document.error
    listed = tmp_path / "list.json"
    listed.write_bytes(orjson.dumps({"response": [{"Event": {"info": "a"}}, {"nope": 1}]}))
    [document] = read_path(listed)
    assert document.error is not None and "response[1]" in document.error


def test_feed_directory(tmp_path: Path, shared_data: Path) -> None:
    source = shared_data / "misp" / "pymisp-tests" / "57c4445b-c548-4654-af0b-4be3950d210f.json"
    (tmp_path / "57c4445b-c548-4654-af0b-4be3950d210f.json").write_bytes(source.read_bytes())
    manifest = {
        "57c4445b-c548-4654-af0b-4be3950d210f": {"info": "x"},
        "00000000-0000-4000-8000-000000000000": {"info": "missing"},
    }
    (tmp_path / "manifest.json").write_bytes(orjson.dumps(manifest))
    (tmp_path / "hashes.csv").write_text("")
    documents = list(read_path(tmp_path))
    assert documents[0].error is None and len(documents[0].events) == 1
    assert documents[1].error is not None and "00000000-0000-4000" in documents[1].error


def event(**extra: Any) -> dict[str, Any]:
    return {
        "uuid": "5bbe5b1c-2238-42b4-8a90-018b0a016219",
        "info": "test",
        "timestamp": "1539269956",
        "date": "2018-10-10",
        "Orgc": {"name": "ESET", "uuid": "55f6ea5e-2c60-40e5-964f-47a8950d210f"},
        "Attribute": [
            {
                "uuid": "5bbe5b1c-0000-4000-8000-000000000001",
                "type": "ip-dst",
                "category": "Network activity",
                "value": "198.51.100.23",
                "to_ids": True,
                "Tag": [{"name": "tlp:red"}, {"name": "kill-chain:c2"}],
            },
            {
                "uuid": "5bbe5b1c-0000-4000-8000-000000000002",
                "type": "domain",
                "category": "Network activity",
                "value": "evil.example",
                "to_ids": False,
                "distribution": "0",
            },
        ],
        **extra,
    }


def by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {obj["id"]: obj for obj in objects}


def test_tags_become_tlp_markings_and_labels() -> None:
    converted = EventConverter().convert(
        event(Tag=[{"name": "tlp:amber+strict"}, {"name": 'osint:source-type="blog-post"'}])
    )
    objects = by_id(converted.objects)
    report = objects["report--5bbe5b1c-2238-42b4-8a90-018b0a016219"]
    assert report["object_marking_refs"] == [Tlp.AMBER_STRICT.marking_id]
    assert report["labels"] == ['osint:source-type="blog-post"']
    indicator = objects["indicator--5bbe5b1c-0000-4000-8000-000000000001"]
    assert indicator["object_marking_refs"] == [Tlp.RED.marking_id]  # its own tag wins
    assert "kill-chain:c2" in indicator["labels"]
    assert "198.51.100.23" in indicator["pattern"]
    domain = objects["domain-name--5bbe5b1c-0000-4000-8000-000000000002"]
    assert domain["object_marking_refs"] == [Tlp.AMBER_STRICT.marking_id]
    for tag, level in (
        ("tlp:white", Tlp.CLEAR),
        ("tlp:clear", Tlp.CLEAR),
        ("tlp:green", Tlp.GREEN),
    ):
        converted = EventConverter().convert(event(Tag=[{"name": tag}]))
        report = by_id(converted.objects)["report--5bbe5b1c-2238-42b4-8a90-018b0a016219"]
        assert report["object_marking_refs"] == [level.marking_id]


def test_distribution_becomes_recipients() -> None:
    audience = Audience(
        community=("identity--a", "identity--b"),
        org_by_key={"police cyber unit": "identity--b", "56bf12a7": "identity--x"},
        group_named=lambda key: "nordic-water" if key == "Water SG" else None,
    )
    sharing_group = {
        "name": "Water SG",
        "uuid": "9f0c2d4e-1111-4000-8000-000000000000",
        "SharingGroupOrg": [{"Organisation": {"name": "Police Cyber Unit", "uuid": "u"}}],
    }
    community = event(distribution="3")
    objects = by_id(EventConverter(audience).convert(community).objects)
    report = objects["report--5bbe5b1c-2238-42b4-8a90-018b0a016219"]
    assert report["extensions"][ACCORD_EXTENSION_ID]["recipient_organizations"] == [
        "identity--a",
        "identity--b",
    ]
    # Attribute distribution 0 (own organisation): AMBER for its organisation only, whatever
    # the event's distribution; the tlp:red attribute names no organisation (RED names
    # people, and MISP names none: the importing user only).
    own_only = objects["observed-data--5bbe5b1c-0000-4000-8000-000000000002"]
    assert "extensions" not in own_only
    assert own_only["object_marking_refs"] == [Tlp.AMBER.marking_id]
    assert "extensions" not in objects["indicator--5bbe5b1c-0000-4000-8000-000000000001"]
    grouped = event(distribution="4", SharingGroup=sharing_group)
    objects = by_id(EventConverter(audience).convert(grouped).objects)
    ext = objects["report--5bbe5b1c-2238-42b4-8a90-018b0a016219"]["extensions"][ACCORD_EXTENSION_ID]
    assert ext["recipient_organizations"] == ["identity--b"]
    assert ext["sharing_groups"] == ["nordic-water"]
    own = by_id(EventConverter(audience).convert(event(distribution="0")).objects)
    assert "extensions" not in own["report--5bbe5b1c-2238-42b4-8a90-018b0a016219"]


def test_galaxies_become_objects_and_relationships(shared_data: Path) -> None:
    path = shared_data / "misp" / "pymisp-tests" / "mispevent_testfiles" / "existing_event.json"
    [document] = read_path(path)
    objects = EventConverter().convert(document.events[0]).objects
    types = collections.Counter(obj["type"] for obj in objects)
    assert types["threat-actor"] == 1 and types["malware"] == 7 and types["tool"] >= 4
    report = next(obj for obj in objects if obj["type"] == "report")
    assert not any(label.startswith("misp-galaxy:") for label in report.get("labels", []))
    assert {obj["id"] for obj in objects if obj["type"] == "threat-actor"} <= set(
        report["object_refs"]
    )


@pytest.mark.parametrize("name", ["new_misp_event.json"])
def test_an_empty_event_still_reports(shared_data: Path, name: str) -> None:
    [document] = read_path(shared_data / "misp" / "pymisp-tests" / name)
    objects = EventConverter().convert(document.events[0]).objects
    report = objects[-1]
    assert report["type"] == "report" and report["object_refs"]


@given(
    st.uuids(),
    st.sampled_from(
        [str, lambda u: str(u).upper(), lambda u: u.hex, lambda u: f"{{{u}}}", lambda u: u.urn]
    ),
)
def test_item_uuids_are_canonical_as_uuid_prints_them(value: uuid.UUID, spelling: Any) -> None:
    """The canonical-text fast path gives what `str(uuid.UUID(...))` gives for any spelling."""
    given_text = spelling(value)
    assert _item_uuid({"uuid": given_text}, "event", "where") == str(uuid.UUID(given_text))
