"""``GET /api/v1/exports/{format}``: the leak matrix in every format, ETag and 304 (without
building the export), the audit of AMBER and stricter reads, bad parameters."""

from __future__ import annotations

import time

import orjson
import pytest

from accord.client import Client
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from leakdata import ADDRESS, DOMAIN, EXPECTED, indicator, load_matrix
from sensor_support import indicator as numbered
from sensor_support import parse_rules, read_zeek_intel, store_indicators

FORMATS = ["suricata", "zeek-intel", "rpz", "hosts", "csv", "stix", "misp"]
EMAILS = {
    "creator": "analyst@cert.example",
    "colleague": "colleague@cert.example",
    "recipient": "investigator@police.example",
    "outsider": "soc@water.example",
}


@pytest.fixture
def clients(api) -> dict[str, Client]:  # type: ignore[no-untyped-def]
    load_matrix(api.store, api.community)
    return {name: api.client(email) for name, email in EMAILS.items()}


def _get(client: Client, path: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.http.get(f"/api/v1/exports/{path}", headers=headers)


@pytest.mark.parametrize("format", FORMATS)
def test_export_leak_matrix(clients: dict[str, Client], format: str) -> None:
    for name, client in clients.items():
        response = _get(client, format)
        assert response.status_code == 200, response.text
        text = response.text
        for level in Tlp:
            seen = str(indicator(level)["id"]) in text
            if format == "misp":  # no report in the matrix: nothing for anyone
                assert not seen and DOMAIN[level] not in text
                continue
            expected = name in EXPECTED[level]
            assert seen == expected, f"{format}: {name} {'sees' if seen else 'misses'} {level}"
            if format != "stix":
                assert (DOMAIN[level] in text) == expected
    if format in ("suricata", "zeek-intel"):
        body = _get(clients["outsider"], format).text
        if format == "suricata":
            assert {r.sid for r in parse_rules(body)}
        else:
            rows = read_zeek_intel(body)
            assert {row["indicator"] for row in rows} >= {ADDRESS[Tlp.CLEAR], ADDRESS[Tlp.GREEN]}
            assert all(
                row["meta.url"].startswith("http://testserver/api/v1/objects/") for row in rows
            )


def test_media_types(clients: dict[str, Client]) -> None:
    client = clients["creator"]
    for format, media in [
        ("suricata", "text/plain; charset=utf-8"),
        ("rpz", "text/plain; charset=utf-8"),
        ("csv", "text/csv; charset=utf-8"),
        ("stix", "application/json"),
    ]:
        response = _get(client, format)
        assert response.headers["content-type"] == media
        assert response.headers["cache-control"] == "private, no-cache"
        assert response.headers["vary"] == "Authorization"
    bundle = orjson.loads(
        _get(
            client,
            "stix",
        ).content
    )
    assert bundle["type"] == "bundle" and len(bundle["objects"]) >= 5


def test_not_modified_without_building_the_export(api) -> None:  # type: ignore[no-untyped-def]
    c = api.community
    store_indicators(
        api.store,
        c.analyst,
        [numbered(n, f"[domain-name:value = 'n{n}.poll.example']") for n in range(2000)],
    )
    sensor = api.client("soc@water.example")
    etags = api.http.app.state.node.export_etags
    started = time.perf_counter()
    first = _get(sensor, "suricata")
    built = time.perf_counter() - started
    assert first.status_code == 200 and first.text.count("alert ") == 6000
    etag = first.headers["etag"]
    builds = etags.builds
    started = time.perf_counter()
    again = _get(sensor, "suricata", **{"If-None-Match": etag})
    polled = time.perf_counter() - started
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert etags.builds == builds, "a 304 in the same state builds nothing"
    assert polled < built / 5, (polled, built)
    print(f"export of 2000 domains: 200 in {built * 1000:.0f} ms, 304 in {polled * 1000:.1f} ms")

    # Another organisation's AMBER write: the state changes, the sensor's body does not.
    store_indicators(
        api.store,
        c.analyst,
        [numbered(5000, "[domain-name:value = 'hidden.example']")],
        tlp=Tlp.AMBER,
        recipients=Recipients(org_ids=frozenset({c.police.id})),
    )
    hidden = _get(sensor, "suricata", **{"If-None-Match": etag})
    assert hidden.status_code == 304 and etags.builds == builds + 1
    # Something the sensor may see: a new body, a new ETag.
    store_indicators(api.store, c.analyst, [numbered(5001, "[domain-name:value = 'new.example']")])
    changed = _get(sensor, "suricata", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert "new.example" in changed.text and "hidden.example" not in changed.text
    # The ETag depends on the parameters too.
    only_hosts = _get(sensor, "suricata?type=ipv4", **{"If-None-Match": etag})
    assert only_hosts.status_code == 200


def test_amber_reads_are_audited_and_a_304_is_not(clients: dict[str, Client], api) -> None:  # type: ignore[no-untyped-def]
    recipient = clients["recipient"]

    def reads() -> list[dict[str, object]]:
        return [
            e
            for e in api.store.audit.entries(action="read")
            if e.detail.get("via") == "GET /exports/csv"
        ]

    first = _get(recipient, "csv")
    found = reads()
    assert len(found) == 1
    assert set(found[0].detail["ids"]) == {
        str(indicator(level)["id"]) for level in (Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)
    }
    assert _get(recipient, "csv", **{"If-None-Match": first.headers["etag"]}).status_code == 304
    assert len(reads()) == 1
    _get(clients["outsider"], "csv")
    assert len(reads()) == 1  # nothing AMBER for the outsider: nothing to record


def test_bad_requests(api, clients: dict[str, Client]) -> None:  # type: ignore[no-untyped-def]
    anonymous = api.anonymous().http.get("/api/v1/exports/csv")
    assert anonymous.status_code == 401
    client = clients["outsider"]
    bad = _get(client, "csv?type=ipv4,nonsense")
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert "'nonsense'" in bad.json()["detail"]
    assert _get(client, "csv?since=yesterday").status_code == 422
    assert _get(client, "csv?min_score=101").status_code == 422
    assert _get(client, "pdf").status_code == 422
    missing = _get(client, "suricata/passwd")
    assert missing.status_code == 404 and "accord-md5.list" in missing.json()["detail"]


def test_suricata_list_files(api) -> None:  # type: ignore[no-untyped-def]
    c = api.community
    digest = "0123456789abcdef0123456789abcdef"
    store_indicators(api.store, c.analyst, [numbered(1, f"[file:hashes.MD5 = '{digest}']")])
    sensor = api.client("soc@water.example")
    rules = _get(sensor, "suricata").text
    assert "filemd5:accord-md5.list;" in rules
    listed = _get(sensor, "suricata/accord-md5.list")
    assert listed.status_code == 200
    assert (
        listed.text
        == f'{digest} indicator--11111111-0000-4000-8000-000000000001 TLP:GREEN score 50 "indicator 1"\n'
    )
    assert _get(sensor, "suricata/accord-sha256.list").text == ""
