"""The ``decay`` job (`accord.store.expiry`): it marks each expiry once, whoever runs it and
however often; the mark moves the store's newest change and the serial of those who may see
the indicator only; matching leaves an expired indicator out at match time, before any run;
a TAXII DELETE moves the newest change too."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from accord.jobs.definitions import mark_expired
from accord.match.indicator_index import IndicatorPatterns
from accord.match.indicator_match import load, match_indicators
from accord.match.matcher_source import matcher_for
from accord.model.observables import normalise
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.settings import Settings
from accord.store.expiry import expire_due
from accord.store.node import Store
from accord.store.objects import now_key
from accord.store.taxii import Match, Scope
from community import make_community
from sensor_support import indicator, store_indicators


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hits(store: Store, viewer, cache: Path, value: str) -> tuple[list[str], str]:  # type: ignore[no-untyped-def]
    matcher, info = matcher_for(store, viewer, cache)
    return [hit.target.id for hit in matcher.value_hits(normalise("domain", value))], info.how


def test_an_expiry_is_marked_once_for_those_who_see_it(store: Store, tmp_path: Path) -> None:
    c = make_community(store)
    until = datetime.now(UTC) + timedelta(seconds=1)
    soon = indicator(1, "[domain-name:value = 'soon.example']", valid_until=_stamp(until))
    store_indicators(store, c.analyst, [indicator(2, "[domain-name:value = 'kept.example']")])
    store_indicators(
        store,
        c.analyst,
        [soon],
        tlp=Tlp.AMBER,
        recipients=Recipients(org_ids=frozenset({c.police.id})),
    )
    police = store.directory.viewer(c.investigator)
    water = store.directory.viewer(c.operator)
    values = store.indicator_values
    cache = tmp_path / "matchers"
    assert _hits(store, police, cache, "www.soon.example") == ([soon["id"]], "built")
    newest, police_serial, water_serial = (
        values.newest_seq(),
        values.newest_visible_seq(police),
        values.newest_visible_seq(water),
    )
    assert expire_due(store.engine).versions == 0  # not yet

    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.05)
    # At match time, before any run: the cached matcher holds it, and names it no more.
    assert _hits(store, police, cache, "www.soon.example") == ([], "cached")
    assert values.newest_visible_seq(police) == police_serial  # nothing marked yet

    assert mark_expired(store, Settings()) == {"expired": 1, "up_to": _up_to(store)}
    assert values.newest_seq() > newest
    assert values.newest_visible_seq(police) > police_serial
    assert values.newest_visible_seq(water) == water_serial  # it never saw the indicator
    # The mark tells the cached matcher to rebuild, without the expired indicator.
    matcher, info = matcher_for(store, police, cache)
    assert info.how == "built" and soon["id"] not in matcher.target_ids()

    marked = values.newest_seq(), values.newest_visible_seq(police)
    assert mark_expired(store, Settings())["expired"] == 0  # type: ignore[index]
    assert (values.newest_seq(), values.newest_visible_seq(police)) == marked
    assert _hits(store, police, cache, "www.soon.example") == ([], "cached")


def _up_to(store: Store) -> str:
    found = store.settings.get("decay.watermark")
    assert found is not None
    return found


def test_two_workers_mark_an_expiry_once(store: Store) -> None:
    c = make_community(store)
    later = datetime.now(UTC) + timedelta(days=1)
    store_indicators(
        store,
        c.analyst,
        [
            indicator(n, f"[ipv4-addr:value = '198.51.100.{n}']", valid_until=_stamp(later))
            for n in range(5)
        ],
    )
    # The same period run by two workers at once: one marks the five, the other nothing.
    at = _stamp(later + timedelta(seconds=1))
    done = []
    threads = [
        threading.Thread(target=lambda: done.append(expire_due(store.engine, at))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(run.versions for run in done) == [0, 5]
    assert len({run.mark for run in done if run.mark is not None}) == 1
    # A version written after a mark is numbered above it (SQLite numbers versions itself).
    newest = store.indicator_values.newest_seq()
    store_indicators(store, c.analyst, [indicator(9, "[ipv4-addr:value = '198.51.100.9']")])
    assert store.indicator_values.newest_seq() > newest


def test_expired_indicators_do_not_match(store: Store, tmp_path: Path) -> None:
    c = make_community(store)
    past = indicator(
        1,
        "[domain-name:value = 'old.example']",
        valid_until="2026-01-02T00:00:00Z",
    )
    store_indicators(store, c.analyst, [past, indicator(2, "[domain-name:value = 'new.example']")])
    viewer = store.directory.viewer(c.operator)
    assert _hits(store, viewer, tmp_path, "old.example") == ([], "built")
    assert _hits(store, viewer, tmp_path, "new.example")[0] == [indicator(2, "")["id"]]
    # Observed-data against every indicator's pattern: the expired one is not judged.
    observed = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--00000000-0000-4000-8000-000000000001",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "first_observed": "2026-03-01T00:00:00Z",
        "last_observed": "2026-03-01T00:00:00Z",
        "number_observed": 1,
        "objects": {
            "0": {"type": "domain-name", "value": "old.example"},
            "1": {"type": "domain-name", "value": "new.example"},
        },
    }
    loaded = load([orjson.loads(orjson.dumps(observed))], "2.1")
    matched = match_indicators(store, IndicatorPatterns(store), viewer, loaded)
    assert [m.id for m in matched] == [indicator(2, "")["id"]]


def test_a_taxii_delete_moves_the_newest_change(store: Store) -> None:
    c = make_community(store)
    first = indicator(1, "[domain-name:value = 'gone.example']")
    newer = {**first, "modified": "2026-02-01T00:00:00.000Z"}
    other = indicator(2, "[domain-name:value = 'whole.example']")
    store_indicators(store, c.analyst, [first, newer, other])
    viewer = store.directory.viewer(c.analyst)
    values = store.indicator_values
    serial = values.newest_visible_seq(viewer)

    def delete(object_id: str, match: Match) -> None:
        done = store.taxii.delete(viewer, c.cert.id, c.analyst.id, object_id, Scope(), match)
        assert done[0] == "deleted"

    # The newest version deleted, the older one latest again: a change everyone's caches
    # and the zone of those who see it must see.
    newest = values.newest_seq()
    delete(str(first["id"]), Match(versions=("last",)))
    assert values.newest_seq() > newest
    assert values.newest_visible_seq(viewer) > serial
    # An object deleted whole leaves no row: the store's newest change moves all the same.
    newest = values.newest_seq()
    delete(str(other["id"]), Match())
    assert values.newest_seq() > newest
    assert now_key() > _up_to(store)  # the job's watermark is untouched by deletions
