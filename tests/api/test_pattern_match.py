"""Issue 19: indicators found through their STIX pattern, over HTTP on SQLite and PostgreSQL.

- the look-up answers a value that a `LIKE`, `MATCHES`, `ISSUBSET` or numeric pattern matches,
  with relation "pattern" (or the relation the observable index gives, once);
- `POST /api/v1/patterns/match` with a pattern (2.0 and 2.1 observed-data, ids, errors with
  where, limits) and without one (every indicator the caller may see, judged on the whole
  list);
- an AMBER pattern indicator of one organisation answers nothing to another, which gets the
  very answers it got before the indicator was stored;
- the pattern index follows new and revoked indicators.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from accord.api.routes.patterns import MAX_BODY_BYTES, MAX_OBSERVED_DATA, MAX_PATTERN
from accord.client import Client

ANALYST = "analyst@cert.example"  # CERT-EX: creates the indicators
OUTSIDER = "soc@water.example"  # Water Utility: a member, named by no one
INVESTIGATOR = "investigator@police.example"

SHA256 = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"
LIKE = "[domain-name:value LIKE '%.evil.example']"
MATCHES = r"[url:value MATCHES '^https?://[^/]+/gate\\.php']"
SUBSET = "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"
NUMERIC = f"[file:size > 1000 AND file:hashes.'SHA-256' = '{SHA256}']"
SEQUENCE = (
    "[domain-name:value LIKE '%.stage.example'] FOLLOWEDBY "
    "[url:value LIKE 'http://%/second-stage%'] WITHIN 600 SECONDS"
)


def _indicator(number: int, pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-0000000019{number:02d}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"pattern {number}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        **extra,
    }


INDICATORS = {
    "like": _indicator(1, LIKE, confidence=90),
    "matches": _indicator(2, MATCHES, confidence=60),
    "subset": _indicator(3, SUBSET),
    "numeric": _indicator(4, NUMERIC),
    "sequence": _indicator(5, SEQUENCE),
}


def _id(name: str) -> str:
    return str(INDICATORS[name]["id"])


ADMIN = "admin@node.example"  # reads the whole audit log


@pytest.fixture
def clients(api) -> dict[str, Client]:  # type: ignore[no-untyped-def]
    found = {email: api.client(email) for email in (ANALYST, OUTSIDER, INVESTIGATOR, ADMIN)}
    result = found[ANALYST].ingest(list(INDICATORS.values()), tlp="green")
    assert result["stored"] == len(INDICATORS), result
    return found


def _reasons(answer: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(r["relation"], r["id"], r["via"]) for r in answer["reasons"]]


# -- the look-up -------------------------------------------------------------------------------


def test_lookup_finds_indicators_through_their_patterns(clients: dict[str, Client]) -> None:
    outsider = clients[OUTSIDER]  # GREEN: every member
    like = outsider.lookup("a.evil.example")
    assert _reasons(like) == [("pattern", _id("like"), "a.evil.example")]
    assert like["reasons"][0]["pattern"] == LIKE
    assert like["reasons"][0]["confidence"] == 90
    # A pattern match is evidence like an exact match: weight 1.0 x confidence (decayed).
    assert like["verdict"] == "malicious" and like["score"] >= 70
    url = outsider.lookup("hxxps://cdn.example[.]com/gate.php?id=7")
    assert _reasons(url) == [("pattern", _id("matches"), "https://cdn.example.com/gate.php?id=7")]
    assert url["verdict"] == "suspicious"
    # Found by the observable index already (an ISSUBSET network, an `=` hash): one reason.
    subset = outsider.lookup("198.51.100.7")
    assert _reasons(subset) == [("cidr", _id("subset"), "198.51.100.0/24")]
    hashed = outsider.lookup(SHA256.upper())
    assert _reasons(hashed) == [("exact", _id("numeric"), SHA256)]
    # What the patterns do not match.
    for value in ("evil.example", "a.evil.example.net", "https://cdn.example.com/x/gate.php"):
        answer = outsider.lookup(value)
        assert answer["reasons"] == [] and answer["verdict"] == "unknown", value
    # The bulk look-up answers the same.
    bulk = outsider.lookup_many(["a.evil.example", "b.example.org", "x.y.evil.example"])
    assert [_reasons(a) for a in bulk] == [
        [("pattern", _id("like"), "a.evil.example")],
        [],
        [("pattern", _id("like"), "x.y.evil.example")],
    ]


def test_lookup_through_a_pattern_is_audited(clients: dict[str, Client]) -> None:
    clients[OUTSIDER].lookup("z.evil.example")
    entries = [e for e in clients[ADMIN].audit(action="lookup") if e["target"] == "z.evil.example"]
    assert entries and entries[-1]["detail"]["answered_by"] == [_id("like")]


# -- POST /patterns/match with a pattern ---------------------------------------------------------

OBSERVED_21 = [
    {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--00000000-0000-4000-8000-000000000001",
        "created": "2026-03-01T00:00:00Z",
        "modified": "2026-03-01T00:00:00Z",
        "first_observed": "2026-03-01T10:00:00Z",
        "last_observed": "2026-03-01T10:00:00Z",
        "number_observed": 1,
        "object_refs": ["domain-name--00000000-0000-4000-8000-000000000011"],
    },
    {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": "domain-name--00000000-0000-4000-8000-000000000011",
        "value": "cdn.stage.example",
    },
    {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--00000000-0000-4000-8000-000000000002",
        "created": "2026-03-01T00:00:00Z",
        "modified": "2026-03-01T00:00:00Z",
        "first_observed": "2026-03-01T10:05:00Z",
        "last_observed": "2026-03-01T10:05:00Z",
        "number_observed": 1,
        "object_refs": ["url--00000000-0000-4000-8000-000000000012"],
    },
    {
        "type": "url",
        "spec_version": "2.1",
        "id": "url--00000000-0000-4000-8000-000000000012",
        "value": "http://cdn.stage.example/second-stage.bin",
    },
]
OBSERVED_20 = [
    {
        "type": "observed-data",
        "id": "observed-data--00000000-0000-4000-8000-000000000020",
        "created": "2026-03-01T00:00:00Z",
        "modified": "2026-03-01T00:00:00Z",
        "first_observed": "2026-03-01T10:00:00Z",
        "last_observed": "2026-03-01T10:00:00Z",
        "number_observed": 1,
        "objects": {
            "0": {"type": "file", "size": 4096, "hashes": {"SHA-256": SHA256}},
            "1": {"type": "ipv4-addr", "value": "198.51.100.9"},
        },
    }
]


def _post(client: Client, body: dict[str, Any] | bytes) -> tuple[int, dict[str, Any]]:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    response = client.http.post(
        "/api/v1/patterns/match", content=content, headers={"Content-Type": "application/json"}
    )
    return response.status_code, response.json()


def test_match_a_pattern_against_observed_data(clients: dict[str, Client]) -> None:
    client = clients[OUTSIDER]
    first, second = OBSERVED_21[0]["id"], OBSERVED_21[2]["id"]
    assert client.match(OBSERVED_21, SEQUENCE) == {
        "matched": True,
        "matched_observed_data_ids": [first, second],
    }
    assert client.match(OBSERVED_21, "[url:value LIKE '%second-stage%']") == {
        "matched": True,
        "matched_observed_data_ids": [second],
    }
    assert client.match(OBSERVED_21, "[domain-name:value = 'other.example']") == {
        "matched": False,
        "matched_observed_data_ids": [],
    }
    # Out of order: the URL before the domain does not follow it.
    swapped = [*OBSERVED_21[2:], *OBSERVED_21[:2]]
    swapped[0] = swapped[0] | {
        "first_observed": "2026-03-01T09:00:00Z",
        "last_observed": "2026-03-01T09:00:00Z",
    }
    assert client.match(swapped, SEQUENCE)["matched"] is False
    # STIX 2.0: objects inside the observed-data.
    assert client.match(OBSERVED_20, NUMERIC, stix_version="2.0") == {
        "matched": True,
        "matched_observed_data_ids": [OBSERVED_20[0]["id"]],
    }
    small = [
        OBSERVED_20[0]
        | {"objects": {"0": {"type": "file", "size": 10, "hashes": {"SHA-256": SHA256}}}}
    ]
    assert client.match(small, NUMERIC, stix_version="2.0")["matched"] is False
    assert client.match(OBSERVED_20, SUBSET, stix_version="2.0")["matched"] is True


def test_match_errors_name_where(clients: dict[str, Client]) -> None:
    client = clients[OUTSIDER]
    status, problem = _post(
        client, {"pattern": "[url:value LIKE 'x' AND]", "observed_data": OBSERVED_21}
    )
    assert status == 422 and problem["errors"][0]["pointer"] == "/pattern"
    assert "column" in problem["detail"] and problem["errors"][0]["column"] >= 20
    assert problem["errors"][0]["line"] == 1
    # An observation that cannot be read: observed-data without number_observed.
    broken = [dict(OBSERVED_21[0]), OBSERVED_21[1]]
    del broken[0]["number_observed"]
    for body in ({"pattern": LIKE, "observed_data": broken}, {"observed_data": broken}):
        status, problem = _post(client, body)
        assert status == 422, problem
        assert problem["errors"][0]["pointer"] == "/observed_data/0"
        assert "observed_data[0]" in problem["detail"] and "number_observed" in problem["detail"]
    # A value the pattern cannot compare: a CIDR of the data that is no address.
    bad_address = [{"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "not-an-address"}]
    status, problem = _post(client, {"pattern": SUBSET, "observed_data": bad_address})
    assert status == 422 and "not-an-address" in problem["detail"], problem
    status, problem = _post(client, {"pattern": LIKE, "observed_data": {}})
    assert status == 422 and problem["errors"][0]["pointer"] == "/observed_data"
    status, problem = _post(client, {"pattern": LIKE, "stix_version": "2.2", "observed_data": []})
    assert status == 422 and problem["errors"][0]["pointer"] == "/stix_version"
    status, problem = _post(client, {"pattern": LIKE, "observed_data": [], "extra": 1})
    assert status == 422 and problem["errors"][0]["pointer"] == "/extra"
    status, problem = _post(client, b"{not json")
    assert status == 400


def test_match_limits(clients: dict[str, Client]) -> None:
    client = clients[OUTSIDER]
    long_pattern = "[domain-name:value = '" + "a" * MAX_PATTERN + "']"
    status, problem = _post(client, {"pattern": long_pattern, "observed_data": []})
    assert status == 422 and problem["errors"][0]["pointer"] == "/pattern"
    assert str(MAX_PATTERN) in problem["detail"]
    many = [
        {"type": "domain-name", "id": f"domain-name--{i}", "value": "a.example"}
        for i in range(MAX_OBSERVED_DATA + 1)
    ]
    status, problem = _post(client, {"observed_data": many})
    assert status == 413 and problem["errors"][0]["pointer"] == "/observed_data"
    big = b'{"observed_data": [], "pattern": "' + b"x" * MAX_BODY_BYTES + b'"}'
    status, problem = _post(client, big)
    assert status == 413 and str(MAX_BODY_BYTES) in problem["detail"]
    # Without a key: 401, as every route but the look-up.
    anonymous = Client("http://testserver", None, http=client.http)
    response = anonymous.http.post(
        "/api/v1/patterns/match",
        content=orjson.dumps({"observed_data": OBSERVED_21}),
        headers={"Content-Type": "application/json", "Authorization": ""},
    )
    assert response.status_code == 401


# -- POST /patterns/match without a pattern --------------------------------------------------------


def _matched(
    client: Client, observed: list[dict[str, Any]], version: str = "2.1"
) -> dict[str, list[Any]]:
    found = client.match(observed, stix_version=version)["matched_indicators"]
    return {m["id"]: m["matched_observed_data_ids"] for m in found}


def test_match_every_visible_indicator(clients: dict[str, Client]) -> None:
    client = clients[OUTSIDER]
    # FOLLOWEDBY across two observed-data: judged on the whole list.
    found = client.match(OBSERVED_21)["matched_indicators"]
    assert [m["id"] for m in found] == [_id("sequence")]
    assert found[0] == {
        "id": _id("sequence"),
        "name": "pattern 5",
        "pattern": SEQUENCE,
        "tlp": "TLP:GREEN",
        "matched_observed_data_ids": [OBSERVED_21[0]["id"], OBSERVED_21[2]["id"]],
    }
    # 2.0: the file (found by its hash in the observable index, judged with its size) and the
    # address (ISSUBSET).
    assert _matched(client, OBSERVED_20, "2.0") == {
        _id("subset"): [OBSERVED_20[0]["id"]],
        _id("numeric"): [OBSERVED_20[0]["id"]],
    }
    # Bare SCOs: one observation of them all.
    scos = [
        {"type": "domain-name", "id": "domain-name--1", "value": "x.evil.example"},
        {"type": "url", "id": "url--2", "value": "http://host.example/gate.php"},
    ]
    assert _matched(client, scos) == {_id("like"): [None], _id("matches"): [None]}
    assert (
        _matched(client, [{"type": "domain-name", "id": "domain-name--1", "value": "ok.example"}])
        == {}
    )
    assert client.match([])["matched_indicators"] == []
    entries = clients[ADMIN].audit(action="pattern-match")
    assert entries and entries[-1]["detail"]["answered_by"] == []
    assert [_id("like"), _id("matches")] in [e["detail"].get("answered_by") for e in entries]


# -- visibility ---------------------------------------------------------------------------------------

HIDDEN_LIKE = "[domain-name:value LIKE '%.amber-zone.example']"


def test_an_amber_pattern_answers_nothing_to_another_organisation(
    api,  # type: ignore[no-untyped-def]
    clients: dict[str, Client],
) -> None:
    outsider, analyst, investigator = clients[OUTSIDER], clients[ANALYST], clients[INVESTIGATOR]
    value = "c2.amber-zone.example"
    observed = [{"type": "domain-name", "id": "domain-name--1", "value": value}]

    def answers() -> tuple[bytes, dict[str, Any], bytes, int]:
        single = outsider.http.get("/api/v1/lookup", params={"value": value})
        assert single.status_code == 200
        bulk = outsider.lookup_many([value, "a.evil.example"])
        match = outsider.http.post(
            "/api/v1/patterns/match",
            content=orjson.dumps({"observed_data": observed}),
            headers={"Content-Type": "application/json"},
        )
        assert match.status_code == 200
        return single.content, bulk[0], match.content, len(bulk[1]["reasons"])

    before = answers()
    hidden = _indicator(30, HIDDEN_LIKE, confidence=100)
    result = analyst.ingest([hidden], tlp="amber", recipients=["Police Cyber Unit"])
    assert result["stored"] == 1
    # The creator's organisation and the recipient find it; the outsider does not.
    assert [r["id"] for r in analyst.lookup(value)["reasons"]] == [hidden["id"]]
    assert [r["id"] for r in investigator.lookup(value)["reasons"]] == [hidden["id"]]
    assert [m["id"] for m in investigator.match(observed)["matched_indicators"]] == [hidden["id"]]
    after = answers()
    assert after == before  # byte for byte: as on a node without the indicator
    # Its calls' audit entries name nothing of the indicator either (stored in full).
    water = api.community.water.id
    stored = [e for e in api.store.audit.entries() if e.org_id == water]
    assert {e.action for e in stored} == {"lookup", "pattern-match"}
    assert all(hidden["id"] not in orjson.dumps(e.detail).decode() for e in stored)


# -- keeping the index fresh ----------------------------------------------------------------------


def test_new_and_revoked_indicators_are_followed(clients: dict[str, Client]) -> None:
    analyst, outsider = clients[ANALYST], clients[OUTSIDER]
    value = "www.fresh.example"
    observed = [{"type": "domain-name", "id": "domain-name--1", "value": value}]
    assert outsider.lookup(value)["reasons"] == []  # the index is built by now
    fresh = _indicator(40, "[domain-name:value LIKE '%.fresh.example']")
    analyst.ingest([fresh], tlp="green")
    assert [r["id"] for r in outsider.lookup(value)["reasons"]] == [fresh["id"]]
    assert list(_matched(outsider, observed)) == [fresh["id"]]
    revoked = fresh | {"modified": "2026-02-01T00:00:00.000Z", "revoked": True}
    analyst.ingest([revoked], tlp="green")
    assert outsider.lookup(value)["reasons"] == []
    assert _matched(outsider, observed) == {}
    # A new version with another pattern answers by the new one only.
    again = _indicator(41, "[domain-name:value LIKE '%.fresh.example']")
    analyst.ingest([again], tlp="green")
    changed = again | {
        "modified": "2026-02-01T00:00:00.000Z",
        "pattern": "[domain-name:value LIKE 'mail.%.example']",
    }
    analyst.ingest([changed], tlp="green")
    assert outsider.lookup(value)["reasons"] == []
    assert [r["id"] for r in outsider.lookup("mail.fresh.example")["reasons"]] == [again["id"]]


ERRING = "[ipv4-addr:value ISSUBSET '198.51.100.0/24' OR ipv4-addr:value != '203.0.113.1']"


def test_errors_of_stored_patterns_are_silent(clients: dict[str, Client]) -> None:
    """A stored pattern that cannot be evaluated on the data (ISSUBSET of a value that is no
    address) does not match, and says nothing: the caller may not know the indicator."""
    analyst, outsider = clients[ANALYST], clients[OUTSIDER]
    erring = _indicator(50, ERRING)
    analyst.ingest([erring], tlp="green")
    observed = [{"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "not-an-address"}]
    assert outsider.match(observed) == {"matched_indicators": []}
    status, problem = _post(outsider, {"pattern": ERRING, "observed_data": observed})
    assert status == 422 and "not-an-address" in problem["detail"]
    # The same pattern, where it can be evaluated, matches.
    good = [{"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "192.0.2.77"}]
    assert erring["id"] in _matched(outsider, good)
    assert [r["id"] for r in outsider.lookup("192.0.2.78")["reasons"]] == [erring["id"]]
