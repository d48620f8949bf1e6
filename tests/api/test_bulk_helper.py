"""A large bulk look-up shared with the node's helper process (`accord.api.lookup_workers`)
answers exactly as the same values looked up in smaller requests in one process: same
verdicts, same context, same order, the same visibility rule, one audit entry naming every
value."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from accord.api import lookup_workers
from accord.api.app import create_app
from accord.client import Client
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.store.node import Store
from community import make_community


def _indicator(number: int, pattern: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--0b0b0b0b-0000-4000-8000-{number:012d}",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00.000Z",
        "confidence": 40 + number % 60,
    }


def test_a_large_bulk_look_up_shared_with_the_helper_answers_as_one_process(
    store: Store, store_url: str
) -> None:
    community = make_community(store)
    green = [_indicator(n, f"[ipv4-addr:value = '11.1.100.{n}']") for n in range(1, 200)]
    green.append(_indicator(200, "[ipv4-addr:value = '11.1.200.0/24']"))
    green.append(_indicator(201, "[domain-name:value = 'bad.example.net']"))
    amber = [_indicator(300, "[domain-name:value = 'only-cert.example.org']")]
    ingester = Ingester(store, community.analyst)
    assert ingester.ingest_objects(green, "2.1", "t", IngestOptions(tlp=Tlp.GREEN)).ok
    assert ingester.ingest_objects(amber, "2.1", "t", IngestOptions(tlp=Tlp.AMBER)).ok
    cert_key = store.directory.new_key(community.analyst.email)
    water_key = store.directory.new_key(community.operator.email)
    # Known values, addresses inside the network, subdomains, the AMBER-only name, unknown
    # values and a value that is not one, spread over both halves.
    values = [
        [
            f"11.1.100.{n % 256}",
            f"11.1.200.{n % 256}",
            f"host{n}.bad.example.net",
            "only-cert.example.org",
            f"unknown{n}.example.com",
            "not a value",
        ][n % 6]
        for n in range(2 * lookup_workers.SPLIT_FROM + 11)
    ]
    settings = Settings(database_url=store_url, bulk_helper=True, rate_burst=100_000)
    app = create_app(settings, store=store)
    with TestClient(app) as http:
        helper = app.state.node.bulk
        assert helper is not None
        deadline = time.monotonic() + 120
        while not helper.ready():
            assert time.monotonic() < deadline, "the helper process did not start"
            time.sleep(0.1)
        cert = Client("http://testserver", cert_key, http=http)
        whole = cert.lookup_many(values)
        assert helper.shared == 1  # the first half came from the helper process
        half = len(values) // 2
        assert half >= 1000
        in_parts = [
            *cert.lookup_many(values[: half // 2]),
            *cert.lookup_many(values[half // 2 : half]),
            *cert.lookup_many(values[half : half + 1500]),
            *cert.lookup_many(values[half + 1500 :]),
        ]
        assert helper.shared == 1  # those were below SPLIT_FROM: answered in one process
        assert whole == in_parts
        assert [answer["query"] for answer in whole] == values
        verdicts = {answer["query"]: answer["verdict"] for answer in whole}
        assert verdicts["only-cert.example.org"] == "suspicious"
        assert verdicts["11.1.100.6"] in ("suspicious", "malicious")
        assert verdicts["unknown4.example.com"] == "unknown"
        assert all("error" in a for a in whole if a["query"] == "not a value")

        # The helper reads for the caller's organisation: the AMBER-only name, in both
        # halves, answers an outsider exactly as a name nobody knows.
        water = Client("http://testserver", water_key, http=http)
        outsider = water.lookup_many(values)
        assert helper.shared == 2
        hidden = [a for a in outsider if a["query"] == "only-cert.example.org"]
        nobody = water.lookup("nobody-knows.example.org")
        assert len(hidden) > 100
        for answer in hidden:
            assert {k: v for k, v in answer.items() if k not in ("query", "value")} == {
                k: v for k, v in nobody.items() if k not in ("query", "value")
            }

    # One audit entry per bulk look-up, naming every value in order with its verdict.
    entries = [e for e in store.audit.entries(action="lookup") if e.target is None]
    detail = entries[0].detail
    assert detail["count"] == len(values)
    assert detail["values"] == [answer["value"] or answer["query"] for answer in whole]
    assert detail["verdicts"] == [answer["verdict"] for answer in whole]


def test_a_helper_still_starting_does_not_hold_up_the_server_s_stop(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server stopped while its helper is still starting (importing, opening the store,
    compiling the lists: seconds on a busy machine) stops at once, and the helper goes with
    it. Here the helper's interpreter takes a minute to start (a `sitecustomize` that
    sleeps, found first on its PYTHONPATH)."""
    (tmp_path / "sitecustomize.py").write_text("import time\ntime.sleep(60)\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), *sys.path]))
    helper = lookup_workers.BulkHelper(Settings(database_url=store_url)).start()
    time.sleep(1.0)
    assert not helper.ready()
    started = time.monotonic()
    helper.close()
    assert time.monotonic() - started < 10.0
    assert multiprocessing.active_children() == []
