"""The pattern index over stored indicators (accord.match.indicator_index): what it lists,
and how it follows writes and deletes in this process and writes of another process."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from accord.ingest.stix import Ingester, IngestOptions
from accord.match.indicator_index import REFRESH_SECONDS, IndicatorPatterns, observation_of
from accord.model.observables import parse_query
from accord.model.tlp import Tlp
from accord.store.node import Store
from accord.store.taxii import EVERYTHING, Match
from community import Community, make_community


def _indicator(number: int, pattern: str, **extra: object) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-0000000029{number:02d}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        **extra,
    }


def _ingest(store: Store, community: Community, *objects: dict[str, object]) -> None:
    data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": list(objects)})
    report = Ingester(store, community.analyst).ingest_bytes(
        data, "test", IngestOptions(tlp=Tlp.GREEN)
    )
    assert report.ok, report.summary()


def _ids(store: Store, seqs: list[int]) -> set[str]:
    from sqlalchemy import select

    from accord.store.schema import objects

    with store.engine.connect() as conn:
        rows = conn.execute(select(objects.c.id).where(objects.c.seq.in_(seqs)))
        return {row.id for row in rows}


def _matching(patterns: IndicatorPatterns, store: Store, value: str) -> set[str]:
    observation = observation_of(parse_query(value, None))
    assert observation is not None
    return _ids(store, patterns.matching(observation))


def test_what_is_indexed(store: Store, community: Community) -> None:
    like = _indicator(1, "[domain-name:value LIKE '%.evil.example']")
    simple = _indicator(2, "[domain-name:value = 'a.evil.example']")
    sigma = _indicator(3, "title: x", pattern_type="sigma")
    revoked = _indicator(4, "[domain-name:value LIKE 'a.%']", revoked=True)
    hashed = _indicator(5, "[file:hashes.MD5 LIKE 'd41d8cd9%']")
    unindexed_equal = _indicator(6, "[process:name = 'evil.exe']")
    _ingest(store, community, like, simple, sigma, revoked, hashed, unindexed_equal)
    patterns = IndicatorPatterns(store)
    patterns.refresh()
    assert len(patterns) == 2  # LIKE on a domain, LIKE on a hash
    assert _matching(patterns, store, "a.evil.example") == {like["id"]}
    assert _matching(patterns, store, "d41d8cd98f00b204e9800998ecf8427e") == {hashed["id"]}
    assert _matching(patterns, store, "evil.example") == set()


def test_writes_here_are_seen_at_once_and_elsewhere_within_the_refresh(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'node.db'}"
    here = Store.open(url)
    here.init()
    community = make_community(here)
    now = [1000.0]
    patterns = IndicatorPatterns(here, clock=lambda: now[0])
    patterns.refresh()
    assert len(patterns) == 0
    first = _indicator(10, "[domain-name:value LIKE '%.one.example']")
    _ingest(here, community, first)
    patterns.refresh()  # a write of this process: no clock needed
    assert _matching(patterns, here, "a.one.example") == {first["id"]}
    # Another process (another engine on the same file) writes: seen once the clock says so.
    elsewhere = Store.open(url)
    second = _indicator(11, "[domain-name:value LIKE '%.two.example']")
    _ingest(elsewhere, community, second)
    patterns.refresh()
    assert _matching(patterns, here, "a.two.example") == set()
    now[0] += REFRESH_SECONDS + 0.1
    patterns.refresh()
    assert _matching(patterns, here, "a.two.example") == {second["id"]}
    assert len(patterns._segments) == 2  # one per write (the first build had none)
    elsewhere.close()
    # A delete in this process rebuilds, in the background, without the deleted version.
    outcome, _ = here.taxii.delete(
        here.directory.viewer(community.analyst),
        community.cert.id,
        community.analyst.id,
        str(first["id"]),
        EVERYTHING,
        Match(),
    )
    assert outcome == "deleted"
    patterns.refresh()
    deadline = time.monotonic() + 10
    while len(patterns) != 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(patterns) == 1 and len(patterns._segments) == 1
    assert _matching(patterns, here, "a.one.example") == set()
    here.close()
