"""Versioning, duplicates, all-or-nothing bundles and crash safety, on both stores."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.visibility import Viewer
from accord.store.node import Store
from accord.store.objects import ObjectQuery
from community import Community

MALWARE_ID = "malware--31b940d4-6f7f-459a-80ea-9c1f17b58abc"


def malware(modified: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "malware",
        "spec_version": "2.1",
        "id": MALWARE_ID,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": modified,
        "name": "Ghost Pump",
        "is_family": True,
        "object_marking_refs": ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"],
        **extra,
    }


def bundle(*objects: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "type": "bundle",
            "id": "bundle--5d0c1f6e-0b5b-4b8e-9d2e-1f1f1f1f1f1f",
            "objects": list(objects),
        }
    )


def test_duplicate_version_is_reported(store: Store, community: Community) -> None:
    ingester = Ingester(store, community.analyst)
    first = ingester.ingest_bytes(bundle(malware("2026-01-02T00:00:00Z")), "a", IngestOptions())
    again = ingester.ingest_bytes(bundle(malware("2026-01-02T00:00:00Z")), "a", IngestOptions())
    assert [o.status for o in first.objects] == ["stored"]
    assert [o.status for o in again.objects] == ["duplicate"]
    # the same timestamp written with another precision is the same version
    same = ingester.ingest_bytes(bundle(malware("2026-01-02T00:00:00.000Z")), "a", IngestOptions())
    assert [o.status for o in same.objects] == ["duplicate"]


def test_older_version_after_newer_is_history(store: Store, community: Community) -> None:
    ingester = Ingester(store, community.analyst)
    viewer = store.directory.viewer(community.operator)
    ingester.ingest_bytes(
        bundle(malware("2026-03-01T00:00:00.000Z", description="v3")), "a", IngestOptions()
    )
    ingester.ingest_bytes(
        bundle(malware("2026-01-02T00:00:00.000Z", description="v1")), "a", IngestOptions()
    )
    latest = store.objects.get(viewer, MALWARE_ID)
    assert latest is not None and latest.json()["description"] == "v3"
    ingester.ingest_bytes(
        bundle(malware("2026-02-01T00:00:00.000Z", description="v2")), "a", IngestOptions()
    )
    assert store.objects.get(viewer, MALWARE_ID).json()["description"] == "v3"  # type: ignore[union-attr]
    versions = store.objects.versions(viewer, MALWARE_ID)
    assert [v.json()["description"] for v in versions] == ["v1", "v2", "v3"]
    assert [v.is_latest for v in versions] == [False, False, True]
    ingester.ingest_bytes(
        bundle(malware("2026-04-01T00:00:00.000Z", description="v4", revoked=True)),
        "a",
        IngestOptions(),
    )
    latest = store.objects.get(viewer, MALWARE_ID)
    assert latest is not None and latest.revoked and latest.json()["description"] == "v4"
    assert len(store.objects.versions(viewer, MALWARE_ID)) == 4


def test_several_versions_in_one_bundle(store: Store, community: Community) -> None:
    ingester = Ingester(store, community.analyst)
    report = ingester.ingest_bytes(
        bundle(
            malware("2026-02-01T00:00:00Z"),
            malware("2026-03-01T00:00:00Z"),
            malware("2026-02-01T00:00:00Z"),
        ),
        "a",
        IngestOptions(),
    )
    assert [o.status for o in report.objects] == ["stored", "stored", "duplicate"]
    latest = store.objects.get(Viewer.anonymous(), MALWARE_ID)
    assert latest is not None and latest.modified.startswith("2026-03-01")


def test_json_served_back_unchanged(store: Store, community: Community) -> None:
    obj = malware("2026-01-02T00:00:00.123456789Z", x_custom={"z": 1, "a": [1.5, "é"]})
    Ingester(store, community.analyst).ingest_bytes(bundle(obj), "a", IngestOptions())
    stored = store.objects.get(Viewer.anonymous(), MALWARE_ID)
    assert stored is not None
    assert stored.raw == orjson.dumps(obj).decode()  # same keys, same order, same values
    assert list(stored.json()) == list(obj)


def test_bundle_is_all_or_nothing(store: Store, community: Community) -> None:
    good = malware("2026-01-02T00:00:00Z")
    bad = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-01-01T00:00:00Z",
        "modified": "2026-01-01T00:00:00Z",
    }
    ingester = Ingester(store, community.analyst)
    report = ingester.ingest_bytes(bundle(good, bad), "mixed.json", IngestOptions())
    assert not report.ok
    assert [o.status for o in report.objects] == ["not stored", "rejected"]
    problem = report.objects[1]
    assert problem.index == 1 and problem.id == bad["id"]
    assert {p.property for p in problem.problems} >= {"pattern", "pattern_type", "valid_from"}
    assert store.objects.get(Viewer.anonymous(), MALWARE_ID) is None
    partial = ingester.ingest_bytes(bundle(good, bad), "mixed.json", IngestOptions(partial=True))
    assert [o.status for o in partial.objects] == ["stored", "rejected"]
    assert store.objects.get(Viewer.anonymous(), MALWARE_ID) is not None


def test_crash_mid_bundle_stores_nothing(
    store: Store, community: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the objects are written but before the index is: all rolled back."""
    from accord.store.dialects import backend_for

    backend = type(backend_for(store.engine))
    real_insert = backend.bulk_insert

    def failing_insert(self: Any, conn: Any, table: Any, columns: Any, rows: Any) -> None:
        if table.name == "observables":
            raise RuntimeError("power cut")
        real_insert(self, conn, table, columns, rows)

    monkeypatch.setattr(backend, "bulk_insert", failing_insert)
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-01-01T00:00:00Z",
        "modified": "2026-01-01T00:00:00Z",
        "pattern": "[ipv4-addr:value = '192.0.2.1']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    with pytest.raises(RuntimeError):
        Ingester(store, community.analyst).ingest_bytes(
            bundle(malware("2026-01-02T00:00:00Z"), obj), "a", IngestOptions()
        )
    viewer = store.directory.viewer(community.analyst)
    assert store.objects.query(viewer, ObjectQuery(types=["malware", "indicator"])) == []


def test_malformed_documents_name_the_problem(store: Store, community: Community) -> None:
    ingester = Ingester(store, community.analyst)
    report = ingester.ingest_bytes(
        b'{"type": "bundle", "objects": [1,]}', "broken.json", IngestOptions()
    )
    assert report.error is not None and "broken.json" in report.error and "line 1" in report.error
    report = ingester.ingest_bytes(b'{"type": "report"}', "notbundle.json", IngestOptions())
    assert report.error is not None and "bundle" in report.error
    report = ingester.ingest_bytes(
        b'{"type": "bundle", "spec_version": "3.0", "objects": []}', "v3.json", IngestOptions()
    )
    assert report.error is not None and "3.0" in report.error
    report = ingester.ingest_bytes(
        bundle(malware("2026-01-02T00:00:00Z"), [1]), "list.json", IngestOptions()
    )  # type: ignore[arg-type]
    assert (
        report.objects[1].status == "rejected"
        and "expected a STIX object" in report.objects[1].describe()
    )


def test_default_tlp_and_cli_tlp(store: Store, community: Community) -> None:
    from accord.model.tlp import Tlp

    plain = malware("2026-01-02T00:00:00Z")
    del plain["object_marking_refs"]
    ingester = Ingester(store, community.analyst)
    ingester.ingest_bytes(bundle(plain), "a", IngestOptions())
    outsider = store.directory.viewer(community.operator)
    assert store.objects.get(outsider, MALWARE_ID) is None  # node default: AMBER
    mine = store.objects.get(store.directory.viewer(community.colleague), MALWARE_ID)
    assert mine is not None and mine.tlp == Tlp.AMBER
    newer = plain | {"modified": "2026-01-03T00:00:00Z"}
    ingester.ingest_bytes(bundle(newer), "a", IngestOptions(tlp=Tlp.GREEN))
    assert store.objects.get(outsider, MALWARE_ID) is not None
    # a marking on the object wins over --tlp, and the most restrictive marking wins
    newest = plain | {
        "modified": "2026-01-04T00:00:00Z",
        "object_marking_refs": [Tlp.GREEN.marking_id, Tlp.RED.marking_id],
    }
    ingester.ingest_bytes(bundle(newest), "a", IngestOptions(tlp=Tlp.CLEAR))
    # Others see the newest version they may see (the GREEN one), the creator the RED one.
    for viewer in (outsider, store.directory.viewer(community.colleague)):
        seen = store.objects.get(viewer, MALWARE_ID)
        assert seen is not None and seen.tlp == Tlp.GREEN
    own = store.objects.get(store.directory.viewer(community.analyst), MALWARE_ID)
    assert own is not None and own.tlp == Tlp.RED
