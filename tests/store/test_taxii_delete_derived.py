"""A TAXII delete takes the rows derived from the deleted versions with it: sighting facts,
fuzzy-hash buckets and correlations (which would otherwise keep naming an object that is gone
and keep counting it towards its hub)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.correlation_backlog import backlog_size
from accord.store.node import Store
from accord.store.organisations import User
from accord.store.schema import correlations, fuzzy_hashes, sighting_facts
from accord.store.taxii import Match, Scope

STAMP = "2026-01-02T03:04:05.000Z"
SSDEEP = "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrw1mA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx"


def _indicator(pattern: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": STAMP,
    }


def _member(store: Store, name: str) -> User:
    store.directory.add_org(name)
    user, _ = store.directory.add_user(f"analyst@{name.lower()}.example", name, Role.ANALYST)
    return user


def _ingest(store: Store, user: User, *objs: dict[str, object], defer: bool = False) -> None:
    report = Ingester(store, user).ingest_objects(
        list(objs), "2.1", "test", IngestOptions(tlp=Tlp.GREEN, defer_correlation=defer)
    )
    assert report.count("stored") == len(objs), report.summary()


def _delete(store: Store, user: User, object_id: object) -> None:
    outcome = store.taxii.delete(
        store.directory.viewer(user), user.org_id, user.id, str(object_id), Scope(), Match()
    )
    assert outcome == ("deleted", 1)


def _count(store: Store, stmt: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())  # type: ignore[call-overload]


def _seq(store: Store, object_id: object) -> int:
    found = store.objects.get(store.directory.viewer(_any_user(store)), str(object_id))
    assert found is not None
    return found.seq


def _any_user(store: Store) -> User:
    return store.directory.users()[0]


def test_deleting_a_sighting_drops_its_facts(store: Store) -> None:
    user = _member(store, "Alpha")
    indicator = _indicator("[ipv4-addr:value = '203.0.113.9']")
    sighting = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "sighting_of_ref": indicator["id"],
        "count": 3,
    }
    _ingest(store, user, indicator, sighting)
    assert _count(store, select(func.count()).select_from(sighting_facts)) == 1
    _delete(store, user, sighting["id"])
    assert _count(store, select(func.count()).select_from(sighting_facts)) == 0


def test_deleting_an_indicator_drops_its_fuzzy_hashes_and_correlations(store: Store) -> None:
    alpha, beta = _member(store, "Alpha"), _member(store, "Beta")
    mine = _indicator(f"[file:hashes.'SSDEEP' = '{SSDEEP}'] OR [domain-name:value = 'c2.example']")
    theirs = _indicator("[domain-name:value = 'c2.example']")
    _ingest(store, alpha, mine)
    _ingest(store, beta, theirs)
    gone = _seq(store, mine["id"])
    touching = (
        select(func.count())
        .select_from(correlations)
        .where(or_(correlations.c.seq == gone, correlations.c.other_seq == gone))
    )
    assert _count(store, touching) >= 1
    assert _count(store, select(func.count()).select_from(fuzzy_hashes)) == 1
    _delete(store, alpha, mine["id"])
    assert _count(store, touching) == 0
    assert _count(store, select(func.count()).select_from(fuzzy_hashes)) == 0


def test_deleting_a_version_waiting_for_correlation_takes_it_off_the_backlog(
    store: Store,
) -> None:
    user = _member(store, "Alpha")
    waiting, staying = (
        _indicator("[domain-name:value = 'c2.example']"),
        _indicator("[domain-name:value = 'c3.example']"),
    )
    _ingest(store, user, waiting, staying, defer=True)
    assert backlog_size(store.engine) == 2
    _delete(store, user, waiting["id"])
    assert backlog_size(store.engine) == 1
