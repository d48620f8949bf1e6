"""The MISP feed served at /misp-feed/ (issue 15, item 6), on SQLite and PostgreSQL: fetched
the way a subscribing MISP fetches it (the manifest, then each event it names, loaded by
PyMISP, and hashes.csv), authenticated with the key as MISP's feed headers send it, through
the visibility rule, with ETag / Last-Modified and 304."""

from __future__ import annotations

import hashlib
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pymisp import MISPEvent

from accord.export import misp_feed
from accord.ingest.misp import MispImporter
from accord.ingest.stix import IngestOptions
from api.conftest import Api

ANALYST = "analyst@cert.example"  # CERT-EX: the creator
OPERATOR = "soc@water.example"  # Water Utility: an outsider
ORGC = {"name": "CERT-EX", "uuid": "5bbe5b1c-0000-4000-8000-00000000c0de"}
GREEN = "5bbe5b1c-1000-4000-8000-000000000000"
AMBER = "5bbe5b1c-2000-4000-8000-000000000000"
CLEAR = "5bbe5b1c-3000-4000-8000-000000000000"
MISSING = "5bbe5b1c-9999-4000-8000-000000000000"
MD5 = "b1946ac92492d2347c6235b4d2611184"


def _event(uuid: str, tag: str, distribution: str, published: bool) -> dict[str, Any]:
    stem = uuid[:-4]
    name = tag.removeprefix("tlp:")
    return {
        "uuid": uuid,
        "info": f"{name} campaign",
        "date": "2024-05-01",
        "timestamp": "1714521600",
        "publish_timestamp": "1714525200",
        "published": published,
        "distribution": distribution,
        "threat_level_id": "2",
        "analysis": "1",
        "Orgc": ORGC,
        "Tag": [{"name": tag}],
        "Attribute": [
            {
                "uuid": stem + "0001",
                "type": "domain",
                "category": "Network activity",
                "value": f"{name}.evil.example",
                "to_ids": True,
            },
            {
                "uuid": stem + "0002",
                "type": "ip-dst",
                "category": "Network activity",
                "value": f"198.51.100.{len(name)}",
                "to_ids": False,
            },
            {
                "uuid": stem + "0003",
                "type": "filename|md5",
                "category": "Payload delivery",
                "value": f"{name}-invoice.exe|{MD5}",
                "to_ids": True,
            },
        ],
        "Object": [
            {
                "uuid": stem + "0010",
                "name": "domain-ip",
                "meta-category": "network",
                "Attribute": [
                    {
                        "uuid": stem + "0011",
                        "type": "domain",
                        "object_relation": "domain",
                        "category": "Network activity",
                        "value": f"c2.{name}.evil.example",
                        "to_ids": False,
                    },
                    {
                        "uuid": stem + "0012",
                        "type": "ip-dst",
                        "object_relation": "ip",
                        "category": "Network activity",
                        "value": f"203.0.113.{len(name)}",
                        "to_ids": False,
                    },
                ],
            }
        ],
    }


@pytest.fixture
def feed(api: Api) -> Api:
    importer = MispImporter(api.store, api.community.analyst)
    for event in (
        _event(GREEN, "tlp:green", "3", True),
        _event(AMBER, "tlp:amber", "0", True),
        _event(CLEAR, "tlp:clear", "3", False),
    ):
        report = importer.ingest_event(event, event["info"], IngestOptions())
        assert report.ok, report.summary()
    return api


def _http(api: Api, email: str | None, bare: bool = True) -> TestClient:
    """A client that sends the key as a MISP feed's headers do: the key alone."""
    headers = {} if email is None else {"Authorization": api.keys[email]}
    if email is not None and not bare:
        headers["Authorization"] = "Bearer " + api.keys[email]
    return TestClient(api.http.app, headers=headers)


def _events_hashes(event: dict[str, Any]) -> set[str]:
    values = [str(a["value"]) for a in event["Attribute"]]
    values += [str(a["value"]) for o in event["Object"] for a in o["Attribute"]]
    parts = [part for value in values for part in value.split("|")]
    return {hashlib.md5(part.encode(), usedforsecurity=False).hexdigest() for part in parts}


def test_a_misp_subscribes_to_the_feed(feed: Api) -> None:
    """As MISP pulls a feed: the manifest, each event it names (loaded by PyMISP), then
    hashes.csv, every row of which names a value of an attribute of the event it names."""
    http = _http(feed, ANALYST)
    answer = http.get("/misp-feed/manifest.json")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    manifest = answer.json()
    assert set(manifest) == {GREEN, AMBER, CLEAR}
    viewer = feed.store.directory.viewer(feed.community.analyst)
    assert manifest == misp_feed.manifest(feed.store, viewer)

    events: dict[str, dict[str, Any]] = {}
    for event_uuid, summary in manifest.items():
        answer = http.get(f"/misp-feed/{event_uuid}.json")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        loaded = MISPEvent()
        loaded.load(answer.text)
        assert loaded.uuid == event_uuid
        assert loaded.info == summary["info"]
        assert loaded.Orgc.name == "CERT-EX" == summary["Orgc"]["name"]
        assert {tag.name for tag in loaded.tags} >= {tag["name"] for tag in summary["Tag"]}
        assert {a.type for a in loaded.attributes} == {"domain", "ip-dst", "filename|md5"}
        assert [o.name for o in loaded.objects] == ["domain-ip"]
        # The published flag (and everything else) as `accord export misp` gives it.
        exported = misp_feed.event(feed.store, viewer, event_uuid)
        assert exported is not None
        assert answer.json() == exported
        assert loaded.published == exported["Event"]["published"]
        events[event_uuid] = answer.json()["Event"]

    answer = http.get("/misp-feed/hashes.csv")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    rows = [line.split(",") for line in answer.text.splitlines()]
    assert rows and all(len(row) == 2 for row in rows)
    for digest, event_uuid in rows:
        assert digest in _events_hashes(events[event_uuid]), (digest, event_uuid)
    for event_uuid, event in events.items():  # and every value is there
        assert {d for d, u in rows if u == event_uuid} == _events_hashes(event)
    md5_of_md5 = hashlib.md5(MD5.encode(), usedforsecurity=False).hexdigest()
    assert [md5_of_md5, GREEN] in rows  # each part of a filename|md5 value


def test_the_key_as_bearer_or_alone_and_never_anonymous(feed: Api) -> None:
    paths = ("/misp-feed/manifest.json", f"/misp-feed/{GREEN}.json", "/misp-feed/hashes.csv")
    for path in paths:
        bare = _http(feed, ANALYST).get(path)
        bearer = _http(feed, ANALYST, bare=False).get(path)
        assert bare.status_code == bearer.status_code == 200, path
        assert bare.content == bearer.content
        # Public look-ups are on in this node; the feed still wants a key.
        nobody = _http(feed, None).get(path)
        assert nobody.status_code == 401, path
        assert nobody.headers["content-type"] == "application/problem+json"
        wrong = TestClient(feed.http.app, headers={"Authorization": "acc_000000000000_nope"})
        assert wrong.get(path).status_code == 401


def test_failed_feed_authentications_are_rate_limited(api_with: Any) -> None:
    """The feed goes through the node's Authenticator: issue 14's limits apply to it."""
    api = api_with(auth_failure_burst=2, auth_failures_per_minute=0.01)
    attacker = TestClient(api.http.app, client=("203.0.113.9", 40000))
    for number in range(2):
        guess = {"Authorization": f"acc_{number:012x}_guess"}
        assert attacker.get("/misp-feed/manifest.json", headers=guess).status_code == 401
    good = {"Authorization": api.keys[ANALYST]}
    answer = attacker.get("/misp-feed/manifest.json", headers=good)
    assert answer.status_code == 429
    assert "Retry-After" in answer.headers


def test_an_outsider_does_not_see_an_amber_event(feed: Api) -> None:
    http = _http(feed, OPERATOR)
    manifest = http.get("/misp-feed/manifest.json").json()
    assert set(manifest) == {GREEN, CLEAR}
    hidden = http.get(f"/misp-feed/{AMBER}.json")
    missing = http.get(f"/misp-feed/{MISSING}.json")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.headers["content-type"] == missing.headers["content-type"]
    assert hidden.json()["detail"] == missing.json()["detail"]
    assert AMBER not in http.get("/misp-feed/hashes.csv").text
    amber_domain = hashlib.md5(b"amber.evil.example", usedforsecurity=False).hexdigest()
    assert amber_domain not in http.get("/misp-feed/hashes.csv").text
    # The creator's organisation does see it.
    assert _http(feed, ANALYST).get(f"/misp-feed/{AMBER}.json").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/misp-feed/manifest",
        "/misp-feed/hashes",
        f"/misp-feed/{GREEN}",
        f"/misp-feed/{GREEN}.json.bak",
        f"/misp-feed/{GREEN}.JSON.txt",
        f"/misp-feed/report--{GREEN}.json",
        "/misp-feed/..%2Fmanifest.json",
        "/misp-feed/..%2F..%2Fetc%2Fpasswd",
        "/misp-feed/%2e%2e",
        f"/misp-feed/x/{GREEN}.json",
        "/misp-feed/",
    ],
)
def test_a_name_that_is_not_an_event_uuid_is_404(feed: Api, path: str) -> None:
    answer = _http(feed, ANALYST).get(path)
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def test_the_event_uuid_in_capitals_is_the_same_event(feed: Api) -> None:
    http = _http(feed, ANALYST)
    assert http.get(f"/misp-feed/{GREEN.upper()}.json").json()["Event"]["uuid"] == GREEN


@pytest.mark.parametrize(
    "path", ["/misp-feed/manifest.json", f"/misp-feed/{GREEN}.json", "/misp-feed/hashes.csv"]
)
def test_etag_last_modified_and_304(feed: Api, path: str) -> None:
    http = _http(feed, ANALYST)
    first = http.get(path)
    assert first.status_code == 200
    etag, date = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert etag == '"' + hashlib.sha256(first.content).hexdigest() + '"'
    assert first.headers["cache-control"] == "private, no-cache"
    assert first.headers["vary"] == "Authorization"
    assert http.get(path).headers["etag"] == etag  # the same body, the same tag

    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"other", W/{etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": date},
    ):
        again = http.get(path, headers=headers)
        assert again.status_code == 304, headers
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["last-modified"] == date

    assert http.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 section 13.2.2).
    both = {"If-None-Match": '"other"', "If-Modified-Since": date}
    assert http.get(path, headers=both).status_code == 200
    earlier = format_datetime(
        parsedate_to_datetime(date).replace(year=2000), usegmt=True
    )  # before anything in the feed was stored
    assert http.get(path, headers={"If-Modified-Since": earlier}).status_code == 200
    assert http.get(path, headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_a_new_event_changes_the_tags(feed: Api) -> None:
    http = _http(feed, ANALYST)
    manifest = http.get("/misp-feed/manifest.json")
    hashes = http.get("/misp-feed/hashes.csv")
    event = _event("5bbe5b1c-4000-4000-8000-000000000000", "tlp:green", "3", True)
    assert (
        MispImporter(feed.store, feed.community.analyst)
        .ingest_event(event, "new", IngestOptions())
        .ok
    )
    for path, before in (("/misp-feed/manifest.json", manifest), ("/misp-feed/hashes.csv", hashes)):
        after = http.get(path, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        assert parsedate_to_datetime(after.headers["last-modified"]) >= parsedate_to_datetime(
            before.headers["last-modified"]
        )
    # Each caller has its own tag: an outsider's manifest differs from the creator's.
    outsider = _http(feed, OPERATOR).get("/misp-feed/manifest.json")
    assert outsider.headers["etag"] != http.get("/misp-feed/manifest.json").headers["etag"]


def test_reads_of_amber_events_are_audited(feed: Api) -> None:
    http = _http(feed, ANALYST)

    def reads() -> list[Any]:
        return [e for e in feed.store.audit.entries(action="read", limit=100_000)]

    before = len(reads())
    answer = http.get(f"/misp-feed/{AMBER}.json")
    assert answer.status_code == 200
    entries = reads()[before:]
    assert len(entries) == 1
    assert entries[0].detail["via"] == "GET /misp-feed/{uuid}.json"
    assert f"report--{AMBER}" in entries[0].detail["ids"]
    assert entries[0].user_id == feed.community.analyst.id
    # A GREEN event is not a read to record; a 304 sends nothing new.
    assert http.get(f"/misp-feed/{GREEN}.json").status_code == 200
    etag = answer.headers["etag"]
    assert http.get(f"/misp-feed/{AMBER}.json", headers={"If-None-Match": etag}).status_code == 304
    assert len(reads()) == before + 1
    for path in ("/misp-feed/manifest.json", "/misp-feed/hashes.csv"):
        assert http.get(path).status_code == 200
        last = reads()[-1]
        assert last.detail["via"] == f"GET {path}"
        assert f"report--{AMBER}" in last.detail["ids"]
        assert f"report--{GREEN}" not in last.detail["ids"]
