"""Issue 20: ``POST /api/v1/match``, the matching of `accord match` for remote sensors, on
SQLite and PostgreSQL.

- values (JSON): each value's kind detected, hits by index, values that are no observable
  reported by index;
- log lines (Zeek dns.log TSV, Suricata EVE, Squid): the same hits as `accord match` gives,
  bad lines by number; gzip bodies;
- limits (413 for the body, the decompressed body and the values), bad format (422), no key
  (401), a wrong media type (415);
- visibility: an AMBER indicator of CERT-EX never hits for the Water Utility, whose answers
  are byte for byte those it got before the indicator was stored;
- `sight=true` posts sightings the look-up counts; every call is audited.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from accord.api.routes.match import MAX_BODY_BYTES, MAX_DECODED_BYTES, MAX_VALUES
from accord.cli.main import app as cli
from accord.client import Client
from accord.match import scan
from accord.match.logs import iter_batches

ANALYST = "analyst@cert.example"  # CERT-EX: creates the indicators
COLLEAGUE = "colleague@cert.example"  # CERT-EX too
OUTSIDER = "soc@water.example"  # Water Utility: a member, named by no one
READER = "reader@police.example"  # may read, may not post sightings
ADMIN = "admin@node.example"
URL = "/api/v1/match"


def _indicator(number: int, pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--7a1e1b1c-56a4-4bb4-8f3e-2d1b7f0a20{number:02d}",
        "created": "2026-01-05T09:00:00.000Z",
        "modified": "2026-01-05T09:00:00.000Z",
        "name": f"indicator {number}",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2026-01-05T09:00:00Z",
        **extra,
    }


INDICATORS = [
    _indicator(1, "[domain-name:value = 'evil.example']"),
    _indicator(2, "[ipv4-addr:value = '45.33.32.0/24']"),
    _indicator(3, "[url:value = 'http://kit.example/gate/']"),
    _indicator(4, "[url:value LIKE '%/x.php']"),
]
ID = [str(item["id"]) for item in INDICATORS]
HIDDEN = _indicator(5, "[domain-name:value = 'amber.example']")  # CERT-EX's own audience
HIDDEN_ID = str(HIDDEN["id"])

ZEEK_DNS = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n"
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n"
    "1700000000.0\tC1\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\twww.Evil.example\t45.33.32.7\n"
    "1700000001.0\tC2\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\tgood.example\t1.2.3.4\n"
    "1700000002.0\tC3\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\tamber.example\t-\n"
    "this line is broken\n"
)
EVE = (
    '{"timestamp":"2024-05-01T10:00:00.000000+0000","event_type":"dns","src_ip":"10.0.0.5",'
    '"dest_ip":"10.0.0.1","dns":{"type":"query","id":1,"rrname":"c2.Evil.example",'
    '"rrtype":"A"}}\n'
    "not json at all\n"
    '{"timestamp":"2024-05-01T10:00:01.000000+0000","event_type":"http","src_ip":"10.0.0.5",'
    '"dest_ip":"45.33.32.9","http":{"hostname":"cdn.kit.example","url":"/gate/x.php"}}\n'
)
SQUID = (
    "1700000000.123    250 10.0.0.9 TCP_MISS/200 5120 GET http://cdn.kit.example/gate/x.php "
    "- HIER_DIRECT/203.0.113.10 text/html\n"
    "1700000001.123    250 10.0.0.9 TCP_MISS/200 5120 GET http://fine.example/ "
    "- HIER_DIRECT/203.0.113.11 text/html\n"
)


@pytest.fixture
def clients(api, tmp_path: Path) -> Iterator[dict[str, Client]]:  # type: ignore[no-untyped-def]
    api.http.app.state.node.matchers.cache_dir = tmp_path / "cache"
    found = {email: api.client(email) for email in (ANALYST, COLLEAGUE, OUTSIDER, READER, ADMIN)}
    result = found[ANALYST].ingest(INDICATORS[:3], tlp="green")
    assert result["stored"] == 3, result
    # The LIKE pattern for CERT-EX alone: the Water Utility's matcher holds no pattern, so a
    # Zeek dns.log is read by the fast path for it, record by record for CERT-EX.
    assert found[ANALYST].ingest(INDICATORS[3:], tlp="amber")["stored"] == 1
    yield found


def _hide(clients: dict[str, Client]) -> None:
    result = clients[ANALYST].ingest([HIDDEN], tlp="amber")
    assert result["stored"] == 1, result


def _post(
    client: Client, body: bytes, media: str, **params: Any
) -> tuple[int, dict[str, Any], bytes]:
    headers = {"Content-Type": media}
    if params.pop("gzip", False):
        headers["Content-Encoding"] = "gzip"
    response = client.http.post(URL, content=body, headers=headers, params=params)
    return response.status_code, response.json(), response.content


def _values(client: Client, values: list[Any], **params: Any) -> tuple[int, dict[str, Any]]:
    status, answer, _ = _post(
        client, orjson.dumps({"values": values}), "application/json", **params
    )
    return status, answer


def _lines(client: Client, text: str | bytes, **params: Any) -> tuple[int, dict[str, Any]]:
    data = text.encode() if isinstance(text, str) else text
    status, answer, _ = _post(client, data, "text/plain", **params)
    return status, answer


def _found(answer: dict[str, Any], key: str = "index") -> set[tuple[Any, ...]]:
    return {(h[key], i["id"], i["relation"]) for h in answer["hits"] for i in h["indicators"]}


# -- values ----------------------------------------------------------------------------------


def test_values_hit_by_kind_and_bad_values_are_reported(clients: dict[str, Client]) -> None:
    _hide(clients)
    values = [
        "www.Evil.example",
        "45.33.32.7",
        "not a value at all !!",
        "https://cdn.kit.example/gate/x.php",
        "amber.example",
        "good.example",
        "",
    ]
    status, answer = _values(clients[COLLEAGUE], values)
    assert status == 200, answer
    assert _found(answer) == {
        (0, ID[0], "parent-domain"),
        (1, ID[1], "cidr"),
        (3, ID[2], "url-prefix"),
        (3, ID[3], "pattern"),
        (4, HIDDEN_ID, "exact"),  # CERT-EX's colleague may see CERT-EX's AMBER
    }
    first = answer["hits"][0]
    assert first["value"] == "www.Evil.example" and first["kind"] == "domain"
    assert first["indicators"] == [
        {
            "id": ID[0],
            "name": "indicator 1",
            "tlp": "green",
            "relation": "parent-domain",
            "via": "evil.example",
        }
    ]
    assert answer["checked"] == len(values)
    assert [p["index"] for p in answer["problems"]] == [2, 6]
    assert "cannot tell what" in answer["problems"][0]["reason"]
    assert answer["problem_count"] == 2


def test_values_form_errors(clients: dict[str, Client]) -> None:
    client = clients[OUTSIDER]
    status, answer = _values(client, ["evil.example", 7])
    assert status == 422 and answer["errors"][0]["pointer"] == "/values/1"
    status, answer, _ = _post(client, b'{"value": []}', "application/json")
    assert status == 422 and answer["errors"][0]["pointer"] == "/value"
    status, answer, _ = _post(client, b"{not json", "application/json")
    assert status == 400
    status, answer = _values(client, ["evil.example"], format="zeek")
    assert status == 422 and answer["errors"][0]["pointer"] == "/query/format"


# -- log lines -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [ANALYST, OUTSIDER])
def test_a_zeek_dns_log_hits_as_accord_match_does(
    clients: dict[str, Client],
    tmp_path: Path,
    store_url: str,
    who: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _hide(clients)
    batches: list[object] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        batches.append(args)
        return iter_batches(*args, **kwargs)

    monkeypatch.setattr(scan, "iter_batches", counted)
    status, answer = _lines(clients[who], ZEEK_DNS, format="zeek")
    assert status == 200, answer
    assert bool(batches) == (who == OUTSIDER)  # the fast path where no pattern is held
    found = {
        (h["line"], h["field"], i["id"], i["relation"])
        for h in answer["hits"]
        for i in h["indicators"]
    }
    expected = {(8, "query", ID[0], "parent-domain"), (8, "answers", ID[1], "cidr")}
    if who == ANALYST:
        expected.add((10, "query", HIDDEN_ID, "exact"))
    assert found == expected
    assert answer["format"] == "zeek" and answer["hit_count"] == len(expected)
    assert [(p["line"], p["offset"]) for p in answer["problems"]] == [
        (11, len(ZEEK_DNS) - len("this line is broken\n"))
    ]
    # The command, over the same store and the same log, prints the same hits.
    log = tmp_path / "dns.log"
    log.write_text(ZEEK_DNS)
    result = CliRunner().invoke(
        cli, ["--db", store_url, "match", str(log), "--as", who, "--no-progress"]
    )
    assert result.exit_code == 0, result.output  # done (hits are on standard output)
    printed = [orjson.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    for hit in printed:
        assert hit.pop("file") == str(log)
    assert printed == answer["hits"]


def test_suricata_eve_and_squid_lines(clients: dict[str, Client]) -> None:
    client = clients[COLLEAGUE]
    status, answer, _ = _post(client, EVE.encode(), "application/x-ndjson")  # format: auto
    assert status == 200, answer
    assert answer["format"] == "suricata-eve"
    assert _found(answer, "line") == {
        (1, ID[0], "parent-domain"),
        (3, ID[1], "cidr"),
        (3, ID[2], "url-prefix"),
        (3, ID[3], "pattern"),
    }
    assert [p["line"] for p in answer["problems"]] == [2] and answer["problem_count"] == 1
    status, answer = _lines(client, SQUID, format="squid")
    assert status == 200, answer
    assert _found(answer, "line") == {(1, ID[2], "url-prefix"), (1, ID[3], "pattern")}
    assert answer["lines"] == 2 and answer["problems"] == []


def test_gzip_bodies(clients: dict[str, Client]) -> None:
    client = clients[OUTSIDER]
    _, plain = _lines(client, ZEEK_DNS, format="zeek")
    packed = gzip.compress(ZEEK_DNS.encode())
    status, encoded = _lines(client, packed, format="zeek", gzip=True)
    assert status == 200 and encoded == plain
    # A .gz file posted as it is, without Content-Encoding; two members, as `cat a.gz b.gz`.
    half = len(ZEEK_DNS) // 2
    members = gzip.compress(ZEEK_DNS[:half].encode()) + gzip.compress(ZEEK_DNS[half:].encode())
    status, concatenated = _lines(client, members)
    assert status == 200 and concatenated == plain
    values = gzip.compress(orjson.dumps({"values": ["x.evil.example"]}))
    status, answer, _ = _post(client, values, "application/json", gzip=True)
    assert status == 200 and _found(answer) == {(0, ID[0], "parent-domain")}
    status, answer, _ = _post(client, b"plain words", "text/plain", gzip=True)
    assert status == 400 and "not gzip" in answer["detail"]
    status, answer, _ = _post(client, packed[:-30], "application/json", gzip=True)
    assert status == 400 and "gzip" in answer["detail"]
    twice = gzip.compress(packed)
    status, answer = _lines(client, twice, gzip=True)
    assert status == 400 and "gzip inside gzip" in answer["detail"]


def test_limits(clients: dict[str, Client]) -> None:
    client = clients[OUTSIDER]
    # A zip bomb (a small body that inflates past the limit): refused once it is passed.
    bomb = gzip.compress(b"\x00" * (2 * MAX_DECODED_BYTES), compresslevel=9)
    assert len(bomb) < MAX_BODY_BYTES
    status, answer = _lines(client, bomb, format="zeek", gzip=True)
    assert status == 413 and f"{MAX_DECODED_BYTES:,}" in answer["detail"]
    status, answer, _ = _post(client, bomb, "application/json", gzip=True)
    assert status == 413
    status, answer = _lines(client, b"x" * (MAX_BODY_BYTES + 1), format="squid")
    assert status == 413 and f"{MAX_BODY_BYTES:,}" in answer["detail"]
    status, answer = _values(client, ["a.example"] * (MAX_VALUES + 1))
    assert status == 413 and answer["errors"][0]["pointer"] == "/values"


def test_bad_requests(clients: dict[str, Client], api) -> None:  # type: ignore[no-untyped-def]
    client = clients[OUTSIDER]
    status, answer = _lines(client, ZEEK_DNS, format="nonsense")
    assert status == 422 and answer["errors"][0]["pointer"] == "/query/format"
    status, answer = _lines(client, "a,b\n1,2\n", format="csv", fields="=oops")
    assert status == 422 and answer["errors"][0]["pointer"] == "/query/fields"
    status, answer = _lines(client, SQUID, format="squid", fields="host=h")
    assert status == 422 and "csv and jsonl" in answer["detail"]
    status, answer = _lines(client, "\x01\x02 nothing a reader knows\n")  # auto, no vote
    assert status == 422 and "cannot tell the format" in answer["detail"]
    status, answer, _ = _post(client, b"x", "application/xml")
    assert status == 415
    status, answer = _lines(client, SQUID, format="squid", anonymous="true")
    assert status == 422 and answer["errors"][0]["pointer"] == "/query/anonymous"
    anonymous = api.anonymous()
    response = anonymous.http.post(
        URL,
        content=orjson.dumps({"values": ["evil.example"]}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 401
    # A reader may match, not post sightings.
    reader = clients[READER]
    assert _values(reader, ["evil.example"])[0] == 200
    assert _values(reader, ["evil.example"], sight="true")[0] == 403


def test_csv_with_a_field_map(clients: dict[str, Client]) -> None:
    data = "when,client,asked\n1,10.0.0.5,a.evil.example\n2,10.0.0.6,fine.example\n"
    status, answer = _lines(clients[OUTSIDER], data, format="csv", fields="query=asked:domain")
    assert status == 200, answer
    assert _found(answer, "line") == {(2, ID[0], "parent-domain")}
    assert answer["hits"][0]["field"] == "query"


# -- visibility ------------------------------------------------------------------------------


def test_an_amber_indicator_never_hits_for_another_organisation(
    clients: dict[str, Client],
    api,  # type: ignore[no-untyped-def]
) -> None:
    outsider = clients[OUTSIDER]
    values = orjson.dumps({"values": ["amber.example", "www.evil.example", "x.amber.example"]})
    lines = ZEEK_DNS.encode()
    before = [
        _post(outsider, values, "application/json")[2],
        _post(outsider, lines, "text/plain", format="zeek")[2],
        _post(outsider, gzip.compress(lines), "text/plain", gzip=True)[2],
    ]
    _hide(clients)
    after = [
        _post(outsider, values, "application/json")[2],
        _post(outsider, lines, "text/plain", format="zeek")[2],
        _post(outsider, gzip.compress(lines), "text/plain", gzip=True)[2],
    ]
    assert after == before  # byte for byte, as if the node did not hold it
    assert HIDDEN_ID.encode() not in b"".join(after)
    # ... while CERT-EX's own members get the hit (the same matcher machinery, their view).
    status, answer = _values(clients[COLLEAGUE], ["amber.example"])
    assert status == 200 and _found(answer) == {(0, HIDDEN_ID, "exact")}
    # The audit of the Water Utility's calls names no indicator it may not see.
    water = api.community.water.id
    entries = [e for e in api.store.audit.entries() if e.org_id == water and e.action == "match"]
    assert len(entries) == 6
    assert all(HIDDEN_ID not in e.detail["answered_by"] for e in entries)


def test_matchers_are_held_and_follow_the_store(clients: dict[str, Client], api) -> None:  # type: ignore[no-untyped-def]
    matchers = api.http.app.state.node.matchers
    client = clients[OUTSIDER]
    assert _values(client, ["good.example"])[1]["hits"] == []
    builds = matchers.builds
    assert _values(client, ["good.example"])[1]["hits"] == []
    assert matchers.builds == builds  # held in memory: the store has not moved
    new = _indicator(6, "[domain-name:value = 'good.example']")
    assert clients[ANALYST].ingest([new], tlp="green")["stored"] == 1
    answer = _values(client, ["good.example"])[1]
    assert _found(answer) == {(0, str(new["id"]), "exact")}
    assert matchers.builds == builds + 1
    revoked = {**INDICATORS[0], "modified": "2026-01-06T09:00:00.000Z", "revoked": True}
    assert clients[ANALYST].ingest([revoked], tlp="green")["stored"] == 1
    assert _values(client, ["www.evil.example"])[1]["hits"] == []


# -- sightings and the audit -----------------------------------------------------------------


def test_sight_posts_sightings_that_the_look_up_counts(clients: dict[str, Client]) -> None:
    analyst, outsider = clients[ANALYST], clients[OUTSIDER]
    assert analyst.lookup("evil.example")["sightings"] == 0
    twice = ZEEK_DNS + ZEEK_DNS.split("\n", 7)[7]  # the data lines twice
    # Through the Python client (accord.client), gzip as a sensor sends it.
    answer = analyst.match_log(gzip.compress(twice.encode()), "zeek", sight=True)
    assert answer["sightings_posted"] == 2  # evil.example, 45.33.32.0/24
    assert analyst.lookup("evil.example")["sightings"] == 2  # one sighting, seen twice
    assert outsider.lookup("evil.example")["sightings"] == 0  # at the node's default, AMBER
    # Anonymous: counted for everyone who may see the indicator.
    answer = analyst.match_values(["a.evil.example"], sight=True, anonymous=True)
    assert answer["sightings_posted"] == 1
    assert outsider.lookup("evil.example")["sightings"] == 1


def test_every_call_is_audited(clients: dict[str, Client]) -> None:
    _values(clients[OUTSIDER], ["www.evil.example", "fine.example"])
    _lines(clients[OUTSIDER], SQUID, format="squid")
    entries = [
        e
        for e in clients[ADMIN].audit(action="match")
        if e["detail"]["via"] == "POST /api/v1/match"
    ]
    assert len(entries) == 2
    by_form = {e["detail"]["form"]: e["detail"] for e in entries}
    assert by_form["values"]["answered_by"] == [ID[0]] and by_form["values"]["checked"] == 2
    assert by_form["lines"]["answered_by"] == [ID[2]]  # not the LIKE: CERT-EX's
    assert by_form["lines"]["format"] == "squid" and by_form["lines"]["hits"] == 1


def test_concurrent_requests_share_one_build(clients: dict[str, Client], api) -> None:  # type: ignore[no-untyped-def]
    matchers = api.http.app.state.node.matchers
    builds = matchers.builds
    body = orjson.dumps({"values": ["www.evil.example", "45.33.32.7"]})

    def one(_: int) -> bytes:
        return _post(clients[OUTSIDER], body, "application/json")[2]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(16)))
    assert len(set(answers)) == 1 and ID[0].encode() in answers[0]
    assert matchers.builds == builds + 1  # one viewer, one matcher, made once


def test_allowlisted_indicators_are_left_out_unless_asked(
    clients: dict[str, Client],
    api,  # type: ignore[no-untyped-def]
) -> None:
    client = clients[OUTSIDER]
    assert _found(_values(client, ["www.evil.example"])[1]) == {(0, ID[0], "parent-domain")}
    # The Water Utility allowlists evil.example: a new matcher (its benign flags changed).
    api.store.allowlists.add(api.community.water.id, "evil.example")
    answer = _values(client, ["www.evil.example"])[1]
    assert answer["hits"] == [] and answer["benign_left_out"] == 1
    flagged = _values(client, ["www.evil.example"], include_benign="true")[1]
    assert flagged["hits"][0]["indicators"][0]["benign"] is True
    status, lines = _lines(client, ZEEK_DNS, format="zeek", include_benign="true")
    assert status == 200 and any(i.get("benign") for h in lines["hits"] for i in h["indicators"])
    # Another organisation's matcher is its own: CERT-EX is not affected.
    assert _found(_values(clients[ANALYST], ["www.evil.example"])[1]) == {
        (0, ID[0], "parent-domain")
    }
