"""object_refs, the index of what each version references: keyed by the referenced id,
rebuilt by migration 0007 without losing a row, and emptied with the versions TAXII deletes."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import func, select, text

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store import migrate
from accord.store.node import Store
from accord.store.schema import object_refs
from accord.store.taxii import Match, Scope

STAMP = "2026-01-02T03:04:05.000Z"


def _sdo(kind: str, name: str) -> dict[str, object]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "name": name,
        **({"is_family": True} if kind == "malware" else {}),
    }


def _relationship(source: str, target: str) -> dict[str, object]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "relationship_type": "uses",
        "source_ref": source,
        "target_ref": target,
    }


def _refs(store: Store) -> set[tuple[str, str, int]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(object_refs.c.ref, object_refs.c.role, object_refs.c.seq))
        return {(row[0], row[1], int(row[2])) for row in rows}


def test_taxii_delete_removes_the_versions_references(store: Store) -> None:
    org = store.directory.add_org("Refs CERT")
    user, _ = store.directory.add_user("refs@cert.example", "Refs CERT", Role.ANALYST)
    actor, malware = _sdo("intrusion-set", "Ember Bear"), _sdo("malware", "Whisper")
    kept, deleted = (
        _relationship(actor["id"], malware["id"]),
        _relationship(malware["id"], actor["id"]),
    )
    report = Ingester(store, user).ingest_objects(
        [actor, malware, kept, deleted], "2.1", "test", IngestOptions(tlp=Tlp.GREEN)
    )
    assert report.count("stored") == 4
    assert len(_refs(store)) == 4  # source and target of each relationship

    viewer = store.directory.viewer(user)
    outcome, count = store.taxii.delete(
        viewer, org.id, user.id, str(deleted["id"]), Scope(), Match()
    )
    assert (outcome, count) == ("deleted", 1)
    left = _refs(store)
    assert {(ref, role) for ref, role, _ in left} == {
        (actor["id"], "source"),
        (malware["id"], "target"),
    }
    found = store.objects.referencing(viewer, [str(malware["id"])], ["source", "target"])
    assert [reference.obj.id for reference in found] == [kept["id"]]


def test_migration_0007_keeps_every_reference(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        migrate.upgrade(store.engine, "0006")
        with store.engine.begin() as conn:
            for seq in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO objects (seq, id, modified, type, spec_version, revoked, "
                        "is_latest, tlp, owner_org, date_added, raw) VALUES (:seq, :id, :m, "
                        "'relationship', '2.1', 0, 1, 1, 'org', :m, '{}')"
                    ),
                    {"seq": seq, "id": f"relationship--{uuid.uuid4()}", "m": STAMP},
                )
            rows = [(1, "source", "malware--a"), (1, "target", "tool--b"), (2, "source", "x--c")]
            for seq, role, ref in [*rows, rows[0]]:  # the old table allowed a repeated row
                conn.execute(
                    text("INSERT INTO object_refs (seq, role, ref) VALUES (:s, :r, :f)"),
                    {"s": seq, "r": role, "f": ref},
                )
        migrate.upgrade(store.engine)
        assert _refs(store) == {(ref, role, seq) for seq, role, ref in rows}
        with store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(object_refs)).scalar() == 3
    finally:
        store.close()
