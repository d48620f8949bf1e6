"""Read replicas against a real streaming replica (docs/replicas.md): the module starts its own
primary and replica clusters (`pg_clusters`) and removes them afterwards.

How a test knows which database answered: the replica's replay is paused
(``pg_wal_replay_pause()``) and an object is then written to the primary; an answer that does
not know it came from the replica, one that does came from the primary."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pg_clusters import Clusters, missing
from typer.testing import CliRunner

from accord.api.app import create_app
from accord.cli.main import app as cli
from accord.client import AccordError, Client
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.store.node import Store
from accord.store.replicas import ReplicaOptions, lsn_number, open_replica
from accord.store.taxii import EVERYTHING_ID
from community import Community, make_community
from leak_reads import EMAILS, READS, visible
from leakdata import DOCUMENTATION_LISTS, EXPECTED, VIEWERS, load_matrix, load_pattern_matrix

pytestmark = pytest.mark.postgres

TAXII = "application/taxii+json;version=2.1"
OBJECTS = f"/taxii2/accord/collections/{EVERYTHING_ID}/objects/"


@dataclass
class Node:
    clusters: Clusters
    community: Community
    key: str  # the analyst's API key


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    reason = missing()
    if reason is not None:
        pytest.skip(f"read-replica tests need PostgreSQL's programs: {reason}")
    clusters = Clusters()
    try:  # the servers are stopped and the folder removed, whatever happens
        clusters.start()
        store = Store.open(clusters.primary.url())
        store.init()
        community = make_community(store)
        key = store.directory.new_key(community.analyst.email)
        store.close()
        yield Node(clusters, community, key)
    finally:
        clusters.remove()


def _open(node: Node, max_lag: float = 3600.0, check: float = 0.2) -> Store:
    replica = node.clusters.replica.url(application_name="accord-replica-test")
    options = ReplicaOptions((replica,), max_lag_seconds=max_lag, check_seconds=check)
    return Store.open(node.clusters.primary.url(), options)


def _app(node: Node, store: Store) -> TestClient:
    settings = Settings(
        database_url=node.clusters.primary.url(),
        rate_burst=100_000,
        public_lookups=True,  # the leak matrix's anonymous caller
        warninglists_ignore=DOCUMENTATION_LISTS,
    )
    return TestClient(create_app(settings, store=store), raise_server_exceptions=False)


def _indicator(value: str, name: str) -> dict[str, Any]:
    number = abs(hash(value)) % 10**12
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--0c0c0c0c-0000-4000-8000-{number:012d}",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "name": name,
        "pattern": f"[domain-name:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00.000Z",
    }


def _ingest(store: Store, node: Node, *objects: dict[str, Any]) -> None:
    Ingester(store, node.community.analyst).ingest_objects(
        list(objects), "2.1", "test", IngestOptions(tlp=Tlp.GREEN)
    )


def _until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def _verdict(http: TestClient, key: str, value: str) -> str:
    answer = http.get(
        "/api/v1/lookup", params={"value": value}, headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.text
    verdict: str = answer.json()["verdict"]
    return verdict


def _audited(store: Store, value: str) -> int:
    with store.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT count(*) FROM audit_log WHERE action = 'lookup' AND target = %(v)s",
            {"v": value},
        ).scalar_one()
    return int(found)


def _chain_verifies(node: Node) -> None:
    """`accord audit verify` on the primary: the chain is whole."""
    result = CliRunner().invoke(cli, ["--db", node.clusters.primary.url(), "audit", "verify"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def pause(node: Node) -> Iterator[Callable[[], None]]:
    """Pauses the replica's replay when called; resumed (and caught up) afterwards."""
    replica = node.clusters.replica

    def paused() -> None:
        node.clusters.caught_up()
        replica.scalar("SELECT pg_wal_replay_pause()", database="postgres")

    try:
        yield paused
    finally:
        if replica.running:
            replica.scalar("SELECT pg_wal_replay_resume()", database="postgres")
            node.clusters.caught_up()


def test_look_ups_read_from_the_replica_and_audit_on_the_primary(
    node: Node, pause: Callable[[], None]
) -> None:
    store = _open(node)
    try:
        _ingest(store, node, _indicator("old.replica.example", "old one"))
        assert [s.usable for s in store.replicas.states()] == [True]
        pause()
        _ingest(store, node, _indicator("new.replica.example", "new one"))
        with _app(node, store) as http:
            # The replica does not have the new indicator yet: its answer says unknown.
            assert _verdict(http, node.key, "old.replica.example") != "unknown"
            assert _verdict(http, node.key, "new.replica.example") == "unknown"
            bulk = http.post(
                "/api/v1/lookup",
                json={"values": ["new.replica.example", "old.replica.example"]},
                headers={"Authorization": f"Bearer {node.key}"},
            )
            assert bulk.status_code == 200
            assert [a["verdict"] == "unknown" for a in bulk.json()["answers"]] == [True, False]
            # The held look-up connection is the replica's.
            held = store.lookup_sessions.held
            assert held is not None and held.engine is store.replicas.replicas[0]
            named = node.clusters.replica.scalar(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = 'accord-replica-test'"
            )
            assert isinstance(named, int) and named >= 1
            # Every look-up's audit entry is on the primary (the replica is paused before
            # them), and the chain verifies there.
            assert _audited(store, "new.replica.example") == 1
            assert _audited(store, "old.replica.example") == 1
            assert store.audit.entries(action="lookup")[-1].detail.get("count") == 2
            assert (
                node.clusters.replica.scalar(
                    "SELECT count(*) FROM audit_log WHERE target = 'new.replica.example'"
                )
                == 0
            )
            _chain_verifies(node)
            # Writes go to the primary, with the replica paused.
            written = http.post(
                "/api/v1/bundles",
                json={"type": "bundle", "id": "bundle--0c0c0c0c-0000-4000-8000-000000000001",
                      "objects": [_indicator("posted.replica.example", "posted")]},
                headers={"Authorization": f"Bearer {node.key}"},
                params={"tlp": "green"},
            )  # fmt: skip
            assert written.status_code in (200, 201), written.text
            assert (
                node.clusters.primary.scalar(
                    "SELECT count(*) FROM objects WHERE raw LIKE '%posted.replica.example%'"
                )
                == 1
            )
    finally:
        store.close()


def test_searches_and_taxii_listings_read_from_the_replica(
    node: Node, pause: Callable[[], None]
) -> None:
    store = _open(node)
    auth = {"Authorization": f"Bearer {node.key}", "Accept": TAXII}
    try:
        # One indicator the replica holds whatever ran before (the test runs alone too).
        _ingest(store, node, _indicator("before.replica.example", "replica baseline"))
        pause()
        _ingest(store, node, _indicator("listed.replica.example", "listed after the pause"))
        with _app(node, store) as http:
            # The search: the replica's state, without the new object.
            found = http.get("/api/v1/objects", params={"q": "pause"}, headers=auth)
            assert found.status_code == 200 and found.json()["objects"] == []
            # A TAXII listing and a manifest: the replica's too.
            listing = http.get(OBJECTS, params={"match[type]": "indicator"}, headers=auth)
            assert listing.status_code == 200
            names = {o.get("name") for o in listing.json().get("objects", [])}
            assert "listed after the pause" not in names
            assert "replica baseline" in names
            # A TAXII add: its status, and the object by its id, are read on the primary (a
            # client reads its own write at once).
            posted = _indicator("taxii.replica.example", "added by TAXII")
            added = http.post(
                OBJECTS,
                content=f'{{"objects": [{_json(posted)}]}}',
                headers={**auth, "Content-Type": TAXII},
            )
            assert added.status_code == 202, added.text
            status = http.get(f"/taxii2/accord/status/{added.json()['id']}/", headers=auth)
            assert status.status_code == 200 and status.json()["success_count"] == 1
            one = http.get(f"{OBJECTS}{posted['id']}/", headers=auth)
            assert one.status_code == 200 and one.json()["objects"][0]["id"] == posted["id"]
        # Once the replica replays again, the listing has both.
        node.clusters.replica.scalar("SELECT pg_wal_replay_resume()", database="postgres")
        node.clusters.caught_up()
        with _app(node, store) as http:
            listing = http.get(OBJECTS, params={"match[type]": "indicator"}, headers=auth)
            names = {o.get("name") for o in listing.json().get("objects", [])}
            assert {"listed after the pause", "added by TAXII"} <= names
            found = http.get("/api/v1/objects", params={"q": "pause"}, headers=auth)
            assert [o["name"] for o in found.json()["objects"]] == ["listed after the pause"]
    finally:
        store.close()


def test_the_leak_matrix_holds_when_reads_come_from_the_replica(
    node: Node, pause: Callable[[], None]
) -> None:
    """The API's leak matrix (tests/api/test_api_leaks.py) with the node's reads on the
    replica: every read endpoint, TLP level and kind of caller, answered from the replica
    (its replay paused, so that an answer from the primary would show)."""
    store = _open(node)
    try:
        load_matrix(store, node.community)
        load_pattern_matrix(store, node.community)
        keys = {name: store.directory.new_key(email) for name, email in EMAILS.items()}
        pause()
        _ingest(store, node, _indicator("after-pause.leaks.example", "on the primary only"))
        with _app(node, store) as http:
            clients = {
                name: Client("http://testserver", key, http=TestClient(http.app))
                for name, key in keys.items()
            }
            clients["anonymous"] = Client("http://testserver", None, http=TestClient(http.app))
            for read in READS:
                for level in Tlp:
                    for name in VIEWERS:
                        if name == "anonymous" and not read.startswith(("lookup", "bulk")):
                            with pytest.raises(AccordError) as caught:
                                visible(clients[name], name, read, level) or clients[name].get("x")
                            assert caught.value.status == 401
                            continue
                        seen = visible(clients[name], name, read, level)
                        expected = name in EXPECTED[level]
                        assert seen == expected, f"{read}: {name} {level.label}: {seen}"
            # The reads were the replica's: it does not have what came after the pause.
            assert clients["creator"].lookup("after-pause.leaks.example")["verdict"] == "unknown"
            held = store.lookup_sessions.held
            assert held is not None and held.engine is store.replicas.replicas[0]
    finally:
        store.close()


def test_a_replica_lagging_past_the_bound_is_skipped(node: Node, pause: Callable[[], None]) -> None:
    store = _open(node, max_lag=1.0, check=0.2)
    try:
        pause()
        _ingest(store, node, _indicator("lagging.replica.example", "lagging"))
        with _app(node, store) as http:
            # Within the bound it is read from ...
            assert store.replicas.states()[0].usable
            assert _verdict(http, node.key, "lagging.replica.example") == "unknown"
            # ... past it, skipped: the primary answers.
            _until(lambda: not store.replicas.states()[0].usable, "the replica skipped")
            state = store.replicas.states()[0]
            assert state.lag_seconds is not None and state.lag_seconds > 1.0
            assert "lags" in state.reason
            assert _verdict(http, node.key, "lagging.replica.example") != "unknown"
            held = store.lookup_sessions.held
            assert held is not None and held.engine is store.engine
            # Caught up again, it is used again.
            node.clusters.replica.scalar("SELECT pg_wal_replay_resume()", database="postgres")
            _until(lambda: store.replicas.states()[0].usable, "the replica in use again")
            assert store.replicas.states()[0].lag_seconds == 0.0
            assert _verdict(http, node.key, "lagging.replica.example") != "unknown"
            held = store.lookup_sessions.held
            assert held is not None and held.engine is store.replicas.replicas[0]
    finally:
        store.close()


def test_an_idle_caught_up_replica_does_not_look_behind(node: Node) -> None:
    """The replay timestamp of a replica of an idle primary grows old; its lag stays 0."""
    store = _open(node, max_lag=0.5, check=0.1)
    try:
        node.clusters.caught_up()
        time.sleep(1.0)
        state = store.replicas.states()[0]
        assert state.usable and state.lag_seconds == 0.0
    finally:
        store.close()


def test_a_replica_killed_moves_reads_to_the_primary(node: Node) -> None:
    """The replica is killed between two health checks (an hour apart here): the reads that
    find it gone are answered by the primary, and no client sees an error."""
    _ingest_store = Store.open(node.clusters.primary.url())
    _ingest(_ingest_store, node, _indicator("killed.replica.example", "replica killed"))
    _ingest_store.close()
    node.clusters.caught_up()
    lookups, reads = _open(node, check=3600), _open(node, check=3600)
    auth = {"Authorization": f"Bearer {node.key}", "Accept": TAXII}
    try:
        with _app(node, lookups) as by_lookup, _app(node, reads) as by_read:
            assert _verdict(by_lookup, node.key, "killed.replica.example") != "unknown"
            assert by_read.get(OBJECTS, headers=auth).status_code == 200
            node.clusters.replica.stop("immediate")
            # A single look-up on the held connection, a bulk one, a search and a listing.
            for _ in range(3):
                assert _verdict(by_lookup, node.key, "killed.replica.example") != "unknown"
            bulk = by_lookup.post(
                "/api/v1/lookup",
                json={"values": ["killed.replica.example"]},
                headers={"Authorization": f"Bearer {node.key}"},
            )
            assert bulk.status_code == 200 and bulk.json()["answers"][0]["verdict"] != "unknown"
            listing = by_read.get(OBJECTS, params={"match[type]": "indicator"}, headers=auth)
            assert listing.status_code == 200
            assert "replica killed" in {o.get("name") for o in listing.json()["objects"]}
            found = by_read.get("/api/v1/objects", params={"q": "killed"}, headers=auth)
            assert found.status_code == 200 and len(found.json()["objects"]) == 1
            for replicas in (lookups.replicas, reads.replicas):
                assert not replicas.states()[0].usable
            # The next check finds it down too; once it is back, it is used again.
            reads.replicas.check()
            assert "unreachable" in reads.replicas.states()[0].reason
            node.clusters.replica.start()
            node.clusters.caught_up()
            reads.replicas.check()
            assert reads.replicas.states()[0].usable
            assert _audited(lookups, "killed.replica.example") == 4  # and the bulk one
    finally:
        lookups.close()
        reads.close()
        if not node.clusters.replica.running:
            node.clusters.replica.start()
    _chain_verifies(node)


def test_the_primary_killed_during_look_ups_loses_nothing_committed(node: Node) -> None:
    """Look-ups run while the primary is killed and started again: those that fail fail with
    a server error (never a wrong answer), every answered one is in the audit log after the
    restart, and the chain verifies."""
    seeded = Store.open(node.clusters.primary.url())
    _ingest(seeded, node, _indicator("known.kill.example", "known before the kill"))
    seeded.close()
    node.clusters.caught_up()
    store = _open(node)
    answered: list[str] = []
    failed: list[int] = []
    wrong: list[str] = []
    stop = threading.Event()

    def load(http: TestClient) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            value = "known.kill.example" if number % 3 == 0 else f"v{number}.kill.example"
            response = http.get(
                "/api/v1/lookup",
                params={"value": value},
                headers={"Authorization": f"Bearer {node.key}"},
            )
            if response.status_code != 200:
                failed.append(response.status_code)
                continue
            verdict = response.json()["verdict"]
            if (verdict == "unknown") != (value != "known.kill.example"):
                wrong.append(f"{value}: {verdict}")
            answered.append(value)

    try:
        with _app(node, store) as http:
            worker = threading.Thread(target=load, args=(http,))
            worker.start()
            try:
                _until(lambda: len(answered) >= 30, "30 look-ups before the kill")
                node.clusters.primary.stop("immediate")
                _until(lambda: len(failed) >= 5, "look-ups failing while the primary is down")
                node.clusters.primary.start()
                after = len(answered)
                _until(lambda: len(answered) >= after + 30, "30 look-ups after the restart")
            finally:
                stop.set()
                worker.join(timeout=60)
        assert not wrong
        assert all(status >= 500 for status in failed), failed
        # Everything answered is recorded (an answer waits for its entry's commit).
        with store.engine.connect() as conn:
            recorded = conn.exec_driver_sql(
                "SELECT target, count(*) FROM audit_log WHERE target LIKE '%%.kill.example' "
                "GROUP BY target"
            ).all()
        counts: dict[str, int] = {str(t): int(n) for t, n in recorded}
        for value in set(answered):
            assert counts.get(value, 0) >= answered.count(value), value
        check = store.audit.verify_chain()
        assert check.intact, check.breaks
    finally:
        store.close()
        if not node.clusters.primary.running:
            node.clusters.primary.start()
    _chain_verifies(node)


def _json(obj: dict[str, Any]) -> str:
    return orjson.dumps(obj).decode()


def test_settings_name_the_replicas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_READ_DATABASE_URL", " postgresql://a/x , postgresql://b/x,")
    monkeypatch.setenv("ACCORD_READ_MAX_LAG_SECONDS", "2.5")
    options = Settings.from_env().replicas()
    assert options == ReplicaOptions(("postgresql://a/x", "postgresql://b/x"), 2.5, 2.0)


def test_replicas_need_postgresql(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="PostgreSQL primary"):
        Store.open(f"sqlite:///{tmp_path / 'a.db'}", ReplicaOptions(("postgresql://a/x",)))
    with pytest.raises(ValueError, match="must be PostgreSQL"):
        open_replica(f"sqlite:///{tmp_path / 'b.db'}")


def test_wal_positions_compare_as_numbers() -> None:
    assert lsn_number("0/16B3748") == 0x16B3748
    assert lsn_number("1/0") > lsn_number("0/FFFFFFFF")
