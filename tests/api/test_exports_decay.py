"""Issue 21: an indicator that expires, and the ``decay`` job that marks it. A sensor that may
see it gets, after one run, an RPZ zone with a new serial and a new ETag, without the
indicator; a sensor that may not see it gets its 304 as before (no side channel)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from accord.client import Client
from accord.jobs.definitions import mark_expired
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.settings import Settings
from sensor_support import indicator, store_indicators

POLICE = "investigator@police.example"
WATER = "soc@water.example"


def _get(client: Client, path: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.http.get(f"/api/v1/exports/{path}", headers=headers)


def _serial(zone: str) -> int:
    found = re.search(r"IN SOA \S+ \S+ \( (\d+) ", zone)
    assert found is not None, zone
    return int(found.group(1))


def test_an_expiry_moves_the_zone_of_those_who_see_it_only(api) -> None:  # type: ignore[no-untyped-def]
    c = api.community
    until = datetime.now(UTC) + timedelta(seconds=1)
    store_indicators(api.store, c.analyst, [indicator(1, "[domain-name:value = 'kept.example']")])
    store_indicators(
        api.store,
        c.analyst,
        [
            indicator(
                2,
                "[domain-name:value = 'soon.example']",
                valid_until=until.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            )
        ],
        tlp=Tlp.AMBER,
        recipients=Recipients(org_ids=frozenset({c.police.id})),
    )
    police, water = api.client(POLICE), api.client(WATER)
    before = {who: _get(client, "rpz") for who, client in (("police", police), ("water", water))}
    assert "soon.example" in before["police"].text
    assert "soon.example" in _get(police, "suricata").text
    assert "soon.example" not in before["water"].text and "kept.example" in before["water"].text

    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.05)
    assert mark_expired(api.store, Settings())["expired"] == 1  # type: ignore[index]

    after = _get(police, "rpz", **{"If-None-Match": before["police"].headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before["police"].headers["etag"]
    assert "soon.example" not in after.text and "kept.example" in after.text
    assert _serial(after.text) > _serial(before["police"].text)
    assert "soon.example" not in _get(police, "suricata").text
    # The Water Utility never saw it: the same zone, serial and ETag, and its poll a 304.
    etags = api.http.app.state.node.export_etags
    builds = etags.builds
    same = _get(water, "rpz", **{"If-None-Match": before["water"].headers["etag"]})
    assert same.status_code == 304 and same.headers["etag"] == before["water"].headers["etag"]
    assert etags.builds == builds + 1  # built again (the store moved), to the same bytes
    assert _get(water, "rpz").text == before["water"].text

    # A second run marks nothing: the police's zone keeps its serial, its poll a 304.
    assert mark_expired(api.store, Settings())["expired"] == 0  # type: ignore[index]
    again = _get(police, "rpz", **{"If-None-Match": after.headers["etag"]})
    assert again.status_code == 304
