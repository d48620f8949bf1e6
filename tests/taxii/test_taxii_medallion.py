"""Beside medallion 3.0.0: its test data served by Accord in the same collections, and the
feed client pulling from a real medallion server and from a second Accord node, resuming
exactly after a pull is interrupted or killed half-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
from medallion_loader import load_medallion
from taxii_support import MEDALLION_DATA, make_node, medallion, put_generated, serve, stop
from typer.testing import CliRunner

from accord.cli.main import app
from accord.federation.feed_pull import pull
from accord.ingest.stix import with_marking
from accord.jobs.definitions import pull_due_feeds
from accord.model.tlp import Tlp, tlp_of
from accord.settings import Settings
from accord.store.node import Store
from accord.taxii.collections import DEFAULT_ID

__all__ = ["medallion"]  # a fixture

runner = CliRunner()
ANALYST = "analyst@cert.example"
TAXII = "application/taxii+json;version=2.1"
HIGH_VALUE = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


def _cli(db: str, *args: str) -> object:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout) if "--json" in args else result.stdout


def test_accord_serves_medallions_collections(tmp_path: Path, shared_data: Path) -> None:
    data = orjson.loads((shared_data / MEDALLION_DATA).read_bytes())
    db = f"sqlite:///{tmp_path / 'a.db'}"
    store, community, keys = make_node(db)
    load_medallion(store, data, community.analyst, "trustgroup1")
    store.close()
    base, process = serve(tmp_path, db)
    try:
        with httpx.Client(auth=(ANALYST, keys[ANALYST]), headers={"Accept": TAXII}) as http:
            listed = http.get(f"{base}/taxii2/accord/collections/").json()["collections"]
            mine = {c["id"]: c["title"] for c in listed}
            theirs = {c["id"]: c["title"] for c in data["trustgroup1"]["collections"]}
            assert {k: mine[k] for k in theirs} == theirs
            for source in data["trustgroup1"]["collections"]:
                url = f"{base}/taxii2/accord/collections/{source['id']}/"
                manifest = http.get(url + "manifest/", params={"match[version]": "all"})
                assert manifest.status_code == 200
                assert manifest.headers["content-type"] == TAXII
                got = {(m["id"], m["version"]) for m in manifest.json().get("objects", [])}
                want = {(m["id"], m["version"]) for m in source["manifest"]}
                assert got == want
                objects = http.get(url + "objects/", params={"match[version]": "all"})
                envelope = objects.json()
                assert set(envelope) <= {"more", "next", "objects"} and envelope["more"] is False
                assert len(envelope.get("objects", [])) == len(source.get("objects", []))
                for obj in envelope.get("objects", []):
                    original = next(
                        o
                        for o in source["objects"]
                        if o["id"] == obj["id"] and o.get("modified") == obj.get("modified")
                    )
                    if tlp_of(original) is None:  # it leaves with the TLP it was stored at
                        original = with_marking(original, tlp_of(obj) or Tlp.AMBER)
                    assert {k: v for k, v in obj.items() if k != "spec_version"} == {
                        k: v for k, v in original.items() if k != "spec_version"
                    }
                    assert obj["spec_version"] == "2.1"  # STIX 2.0 versions are upgraded
                if source.get("objects"):
                    assert (
                        objects.headers["X-TAXII-Date-Added-First"]
                        <= objects.headers["X-TAXII-Date-Added-Last"]
                    )
            latest = http.get(f"{base}/taxii2/accord/collections/{HIGH_VALUE}/objects/").json()[
                "objects"
            ]
            assert len(latest) == 5  # match[version]=last by default: one per id
    finally:
        stop(process)


def test_pull_from_medallion(tmp_path: Path, medallion: str) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    make_node(db)[0].close()
    _cli(
        db,
        "feed",
        "add",
        "medallion",
        "--taxii",
        f"{medallion}/trustgroup1/",
        "--collection",
        HIGH_VALUE,
        "--user",
        "admin",
        "--password",
        "Password0",
        "--as",
        ANALYST,
        "--tlp",
        "green",
    )
    first = _cli(db, "feed", "pull", "medallion", "--json")
    assert first == [first[0]] and first[0]["error"] is None  # type: ignore[index]
    assert (first[0]["received"], first[0]["stored"]) == (8, 8)  # type: ignore[index]
    again = _cli(db, "feed", "pull", "medallion", "--json")
    assert again[0]["received"] == 0 and again[0]["error"] is None  # type: ignore[index]
    listed = _cli(db, "feed", "list", "--json")
    assert listed[0]["objects"] == 8 and listed[0]["cursor"] == "2017-12-31T13:49:53.935000Z"  # type: ignore[index]


def _accord_pair(
    tmp_path: Path, count: int
) -> tuple[str, str, list[str], str, subprocess.Popen[bytes]]:
    """Node B serving ``count`` objects (added in chunks, so several date_added values), and
    node A with a feed of B's default collection."""
    db_b = f"sqlite:///{tmp_path / 'b.db'}"
    store_b, community_b, keys_b = make_node(db_b)
    ids = put_generated(store_b, community_b.cert.id, count, chunk=count // 10)
    store_b.close()
    base, process = serve(tmp_path, db_b, "node-b")
    db_a = f"sqlite:///{tmp_path / 'a.db'}"
    make_node(db_a)[0].close()
    _cli(
        db_a,
        "feed",
        "add",
        "node-b",
        "--taxii",
        f"{base}/taxii2/",
        "--collection",
        DEFAULT_ID,
        "--key",
        keys_b[ANALYST],
        "--as",
        ANALYST,
    )
    return db_a, db_b, ids, base, process


def _check_exact(db_a: str, ids: list[str]) -> None:
    store = Store.open(db_a)
    feed = store.feeds.get("node-b")
    pulled = store.feeds.count(feed.id)
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT id FROM objects WHERE id LIKE 'indicator--%beef'").all()
    store.close()
    assert len(rows) == len(ids) and {r[0] for r in rows} == set(ids)  # no gaps, no duplicates
    assert pulled == len(ids) + 7  # and B's TLP markings and definitions


class Interrupted(Exception):
    pass


def test_interrupted_pull_resumes_exactly(tmp_path: Path) -> None:
    db_a, _, ids, _, process = _accord_pair(tmp_path, 3000)
    try:
        store = Store.open(db_a)

        def crash(report: object) -> None:
            if report.pages == 4:  # stored, cursor not yet moved
                raise Interrupted

        with pytest.raises(Interrupted):
            pull(store, store.feeds.get("node-b"), Tlp.GREEN, page_size=250, on_page=crash)
        feed = store.feeds.get("node-b")
        assert feed.cursor is not None and feed.last_error and "interrupted" in feed.last_error
        resumed = pull(store, feed, Tlp.GREEN, page_size=250)
        assert resumed.error is None and resumed.stored > 0 and resumed.received < len(ids)
        store.close()
        _check_exact(db_a, ids)
    finally:
        stop(process)


def test_killed_pull_resumes_exactly(tmp_path: Path) -> None:
    db_a, _, ids, _, process = _accord_pair(tmp_path, 10_000)
    try:
        args = [
            sys.executable,
            "-m",
            "accord.cli.main",
            "--db",
            db_a,
            "feed",
            "pull",
            "node-b",
            "--page-size",
            "50",
            "--json",
        ]
        puller = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ
        )
        store = Store.open(db_a)
        deadline = time.monotonic() + 60
        while (
            store.feeds.get("node-b").cursor is None
            and puller.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        puller.send_signal(signal.SIGKILL)
        puller.wait()
        assert puller.returncode == -signal.SIGKILL, "the pull finished before it could be killed"
        _cli(db_a, "feed", "pull", "node-b", "--json")
        store.close()
        _check_exact(db_a, ids)
    finally:
        stop(process)


def test_scheduled_pull_runs_when_due(tmp_path: Path) -> None:
    db_a, _, ids, _, process = _accord_pair(tmp_path, 500)
    try:
        store = Store.open(db_a)
        feed = store.feeds.get("node-b")
        hourly = store.feeds.add(
            "node-b-hourly",
            "taxii",
            feed.as_user,
            url=feed.url,
            collection=feed.collection,
            secret=feed.secret,
            interval=3600,
        )
        settings = Settings(database_url=db_a)
        assert pull_due_feeds(store, settings) == 1
        assert pull_due_feeds(store, settings) == 0  # not due again for an hour
        assert store.feeds.count(hourly.id) == len(ids) + 7
        assert store.feeds.get(hourly.id).last_error is None
        store.close()
    finally:
        stop(process)
