"""Warninglists in look-ups (issue 15, item 5): a context list (shared infrastructure) is
named and explained and leaves the verdict alone; a benign list (benign by nature) damps it;
a node may change a list's class. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.model.tlp import Tlp
from api.conftest import Api

CREATED = "2026-03-01T10:00:00.000Z"
VPN = "Specialized list of vpn-ipv4 addresses belonging to common VPN providers and datacenters"
RESOLVERS = "List of known IPv4 public DNS resolvers"
VPS = "104.131.0.1"  # a DigitalOcean address: on the VPN/datacenter list, on no benign list


def c2(number: int, address: str) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--5e1f0c2d-0000-4000-8000-{number:012d}",
        "created": CREATED,
        "modified": CREATED,
        "name": "C2 server",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": CREATED,
        "confidence": 90,
        "object_marking_refs": [Tlp.GREEN.marking_id],
    }


def by_name(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {hit["name"]: hit for hit in answer["lists"]}


def test_a_c2_on_a_vps_address_stays_malicious(api: Api) -> None:
    cert = api.client("analyst@cert.example")
    cert.ingest([c2(1, VPS)])
    answer = cert.lookup(VPS)
    assert (answer["verdict"], answer["score"]) == ("malicious", 90)
    vpn = by_name(answer)[VPN]
    assert vpn == {
        "source": "warninglist",
        "name": VPN,
        "benign": False,
        "class": "context",
        "reason": "VPN and datacenter ranges: anyone can rent an address there",
        "effect": "none",
        "score_factor": 1.0,
        "via_parent": False,
        "note": "shared infrastructure: context only, no effect on the verdict",
    }
    # With nothing known about it, a VPS address is unknown, not benign.
    bare = cert.lookup("104.131.0.2")
    assert (bare["verdict"], bare["score"]) == ("unknown", 0)
    assert by_name(bare)[VPN]["class"] == "context"


def test_a_public_resolver_is_still_damped(api: Api) -> None:
    cert = api.client("analyst@cert.example")
    cert.ingest([c2(2, "8.8.4.4")])
    answer = cert.lookup("8.8.4.4")
    assert (answer["verdict"], answer["score"]) == ("benign", 27)  # 90 x 0.3
    resolvers = by_name(answer)[RESOLVERS]
    assert (resolvers["class"], resolvers["effect"], resolvers["score_factor"]) == (
        "benign",
        "damped",
        0.3,
    )
    assert resolvers["note"] == "benign by nature: score x0.3" and resolvers["benign"] is True
    # The resolver is in a datacenter range too: named, as context.
    assert by_name(answer)[VPN]["effect"] == "none"


def test_a_node_sets_its_own_classes(api_with: Callable[..., Api]) -> None:
    api = api_with(warninglist_classes=((VPN, "benign"), (RESOLVERS, "context")))
    cert = api.client("analyst@cert.example")
    cert.ingest([c2(3, VPS), c2(4, "8.8.4.4")])
    vps, resolver = cert.lookup(VPS), cert.lookup("8.8.4.4")
    assert (vps["verdict"], vps["score"]) == ("benign", 27)
    assert by_name(vps)[VPN]["reason"].startswith("benign by this node's setting")
    # 8.8.4.4 is on the resolvers (now context) and the datacenter list (now benign).
    assert by_name(resolver)[RESOLVERS]["effect"] == "none"
    assert by_name(resolver)[VPN]["effect"] == "damped" and resolver["score"] == 27
