"""The leak matrix's reads: how each read endpoint shows whether a caller sees the matrix's
indicator of a TLP level (`leakdata`). Shared by the HTTP matrix (tests/api/test_api_leaks.py)
and its run through a read replica (tests/store/test_read_replicas.py)."""

from __future__ import annotations

import orjson

from accord.client import AccordError, Client
from accord.model.tlp import Tlp
from leakdata import ADDRESS, DOMAIN, NETWORK, PATTERN_ZONE, indicator, pattern_indicator

EMAILS = {
    "creator": "analyst@cert.example",
    "colleague": "colleague@cert.example",
    "recipient": "investigator@police.example",
    "outsider": "soc@water.example",
}


MADE = (indicator, pattern_indicator)


def zeek_dns(values: list[str]) -> bytes:
    """A Zeek dns.log whose lines hold the values: addresses as answers, names as queries."""
    header = (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        "#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\tanswers\n"
        "#types\ttime\tstring\taddr\taddr\tstring\tvector[string]\n"
    )
    lines = [
        f"1700000000.{n}\tC{n}\t10.0.0.5\t10.0.0.1\t"
        + (f"host.example\t{value}" if value[0].isdigit() else f"{value}\t-")
        for n, value in enumerate(values)
    ]
    return (header + "\n".join(lines) + "\n").encode()


def visible(client: Client, name: str, read: str, level: Tlp) -> bool:
    object_id = str(indicator(level)["id"])
    try:
        if read == "get":
            return client.get(object_id)["id"] == object_id
        if read == "versions":
            return len(client.versions(object_id)) == 2
        if read == "list":
            return object_id in {o["id"] for o in client.objects(types=["indicator"])}
        if read == "list-by-tlp":
            return any(o["id"] == object_id for o in client.objects(tlp=level.slug))
        if read == "search-words":
            return object_id in {o["id"] for o in client.objects(q=f'"{level.label} test"')}
        if read == "search-label":
            found = client.objects(label=f"leak-{level.slug}", q="indicator", newest_first=True)
            return object_id in {o["id"] for o in found}
        if read == "lookup":
            return client.lookup(ADDRESS[level])["verdict"] != "unknown"
        if read == "lookup-cidr":
            return bool(client.lookup(NETWORK[level].replace(".0/24", ".9"))["reasons"])
        if read == "lookup-parent":
            return bool(client.lookup("a.b." + DOMAIN[level])["reasons"])
        if read == "bulk-lookup":
            answers = client.lookup_many(["192.0.2.250", ADDRESS[level]])
            return bool(answers[1]["reasons"])
        # Issue 19: indicators found through their STIX pattern (LIKE), not the index.
        pattern_id = str(pattern_indicator(level)["id"])
        if read == "lookup-pattern":
            answer = client.lookup("host." + PATTERN_ZONE[level])
            return any(
                r["id"] == pattern_id and r["relation"] == "pattern" for r in answer["reasons"]
            )
        if read == "bulk-lookup-pattern":
            answers = client.lookup_many(["a.example.com", "mail." + PATTERN_ZONE[level]])
            return any(r["id"] == pattern_id for r in answers[1]["reasons"])
        if read == "match-indicators":
            observed = [
                {"type": "domain-name", "id": "domain-name--1", "value": "x." + PATTERN_ZONE[level]}
            ]
            found = client.match(observed)["matched_indicators"]
            return any(m["id"] == pattern_id for m in found)
        if read.startswith("match-"):
            # Issue 20: POST /api/v1/match, values and log lines: every way of hitting the
            # indicator (address, network, parent domain) and the pattern indicator (LIKE).
            values = [
                ADDRESS[level],
                NETWORK[level].replace(".0/24", ".9"),
                "a.b." + DOMAIN[level],
                "x." + PATTERN_ZONE[level],
            ]
            if read == "match-values":
                body, media = orjson.dumps({"values": values}), "application/json"
            else:
                body, media = zeek_dns(values), "text/plain"
            response = client.http.post(
                "/api/v1/match", content=body, headers={"Content-Type": media}
            )
            if response.status_code != 200:
                raise AccordError(response.status_code, response.text, {})
            hits = response.json()["hits"]
            named = {i["id"] for hit in hits for i in hit["indicators"]}
            assert named <= {object_id, pattern_id}, named
            assert (object_id in named) == (pattern_id in named)
            if object_id in named:  # each value hit, the way it should
                relations = {(h["value"], i["relation"]) for h in hits for i in h["indicators"]}
                assert relations == {
                    (values[0], "exact"),
                    (values[1], "cidr"),
                    (values[2], "parent-domain"),
                    (values[3], "pattern"),
                }
            return object_id in named
        if read.startswith("export-"):
            # GET /api/v1/exports/{format}: the indicator's id, and its domain, in any line
            response = client.http.get(f"/api/v1/exports/{read.removeprefix('export-')}")
            if response.status_code != 200:
                raise AccordError(response.status_code, response.text, {})
            named = object_id in response.text
            if read != "export-stix":
                assert (DOMAIN[level] in response.text) == named
            return named
    except AccordError as exc:
        if exc.status in (401, 404):
            return False
        raise
    raise AssertionError(read)


READS = [
    "get",
    "versions",
    "list",
    "list-by-tlp",
    "search-words",
    "search-label",
    "lookup",
    "lookup-cidr",
    "lookup-parent",
    "bulk-lookup",
    "lookup-pattern",
    "bulk-lookup-pattern",
    "match-indicators",
    "match-values",
    "match-lines",
    *(f"export-{format}" for format in ("suricata", "zeek-intel", "rpz", "hosts", "csv", "stix")),
]
