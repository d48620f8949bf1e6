"""Crafted correlations: same values, networks both ways, subdomains, URL hosts, one file under
several hashes, fuzzy hashes, versions, and the over-correlation cap."""

from __future__ import annotations

import pytest
from correlation_support import (
    correlations_of,
    ident,
    indicator,
    ingest,
    related,
    value_indicator,
)

from accord.model.tlp import Tlp
from accord.store.correlation.policy import CorrelationPolicy, set_policy
from accord.store.node import Store
from community import Community


def test_same_value_and_networks_both_ways(store: Store, community: Community) -> None:
    viewer = store.directory.viewer(community.analyst)
    ingest(store, community.analyst, [value_indicator("addr", "ipv4-addr:value", "10.1.2.3")])
    ingest(store, community.analyst, [value_indicator("net", "ipv4-addr:value", "10.1.2.0/24")])
    ingest(store, community.analyst, [value_indicator("addr again", "ipv4-addr:value", "10.1.2.3")])
    ingest(store, community.analyst, [value_indicator("other", "ipv4-addr:value", "10.9.9.9")])
    assert related(store, viewer, ident("addr")) == {"net": {"cidr"}, "addr again": {"same-value"}}
    assert related(store, viewer, ident("net")) == {
        "addr": {"contains"},
        "addr again": {"contains"},
    }
    assert related(store, viewer, ident("other")) == {}


def test_subdomains_and_url_hosts(store: Store, community: Community) -> None:
    viewer = store.directory.viewer(community.analyst)
    user = community.analyst
    ingest(store, user, [value_indicator("www", "domain-name:value", "www.evil.example")])
    ingest(store, user, [value_indicator("url", "url:value", "http://cdn.evil.example/x.php")])
    ingest(store, user, [value_indicator("base", "domain-name:value", "evil.example")])
    ingest(store, user, [value_indicator("urlhost", "url:value", "http://www.evil.example/a")])
    ingest(store, user, [value_indicator("ipurl", "url:value", "http://192.0.2.77:8080/gate")])
    ingest(store, user, [value_indicator("ip", "ipv4-addr:value", "192.0.2.77")])
    ingest(store, user, [value_indicator("mail", "email-addr:value", "boss@evil.example")])
    assert related(store, viewer, ident("base")) == {
        "www": {"subdomain"},
        "url": {"host"},
        "urlhost": {"host"},
        "mail": {"host"},
    }
    assert related(store, viewer, ident("www")) == {"base": {"parent-domain"}, "urlhost": {"host"}}
    assert related(store, viewer, ident("urlhost")) == {"www": {"url-host"}, "base": {"url-host"}}
    assert related(store, viewer, ident("ip")) == {"ipurl": {"host"}}
    assert related(store, viewer, ident("ipurl")) == {"ip": {"url-host"}}


MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_one_file_under_several_hashes(store: Store, community: Community) -> None:
    viewer = store.directory.viewer(community.analyst)
    user = community.analyst
    ingest(store, user, [value_indicator("by md5", "file:hashes.MD5", MD5)])
    ingest(store, user, [value_indicator("by sha256", "file:hashes.'SHA-256'", SHA256)])
    assert related(store, viewer, ident("by md5")) == {}
    both = indicator("both", f"[file:hashes.MD5 = '{MD5}' AND file:hashes.'SHA-1' = '{SHA1}']")
    ingest(store, user, [both])
    sco = {
        "type": "file",
        "spec_version": "2.1",
        "id": "file--5a27d487-c542-5f97-a131-a8866b477b46",
        "name": "sco",
        "hashes": {"SHA-1": SHA1, "SHA-256": SHA256},
    }
    ingest(store, user, [sco])
    # md5 <-> sha1 (the indicator) <-> sha256 (the file object): one file, three names.
    assert related(store, viewer, ident("by md5")) == {
        "both": {"same-value"},
        "by sha256": {"same-file"},
        "sco": {"same-file"},
    }
    assert related(store, viewer, ident("by sha256")) == {
        "by md5": {"same-file"},
        "both": {"same-file"},
        "sco": {"same-value"},
    }
    # Two hashes ORed are two files: no unification.
    ored = indicator(
        "ored",
        "[file:hashes.MD5 = '0123456789abcdef0123456789abcdef'] OR "
        "[file:hashes.MD5 = 'fedcba9876543210fedcba9876543210']",
    )
    ingest(store, user, [ored])
    ingest(
        store,
        user,
        [value_indicator("lone", "file:hashes.MD5", "fedcba9876543210fedcba9876543210")],
    )
    assert related(store, viewer, ident("lone")) == {"ored": {"same-value"}}


SSDEEP_A = (
    "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO"
)
SSDEEP_B = (
    "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSy:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWP"
)
SSDEEP_FAR = "96:Xq93kLmQ0aZpT8vR2wYbN7cE4hJ6gU1sK5dF3oI9lM0nB2vC8xZ7aS6dF5gH:Xq93kLmQ0aZpT8vR2wYbN7cE4hJ6gU1"


def test_fuzzy_hashes(store: Store, community: Community) -> None:
    import os
    import random

    import tlsh

    viewer = store.directory.viewer(community.analyst)
    user = community.analyst
    ingest(store, user, [value_indicator("ssdeep a", "file:hashes.SSDEEP", SSDEEP_A)])
    ingest(store, user, [value_indicator("ssdeep b", "file:hashes.SSDEEP", SSDEEP_B)])
    ingest(store, user, [value_indicator("ssdeep far", "file:hashes.SSDEEP", SSDEEP_FAR)])
    found = correlations_of(store, viewer, ident("ssdeep a"))
    assert found is not None
    assert [(c.obj.json()["name"], c.relation) for c in found.correlations] == [
        ("ssdeep b", "similar")
    ]
    assert found.correlations[0].similarity is not None and found.correlations[0].similarity >= 60
    rng = random.Random(5)
    data = bytes(rng.getrandbits(8) for _ in range(4096))
    near = data[:4000] + bytes(rng.getrandbits(8) for _ in range(96))
    one, two, far = tlsh.hash(data), tlsh.hash(near), tlsh.hash(os.urandom(4096))
    assert tlsh.diff(one, two) <= 40 < tlsh.diff(one, far)
    for name, digest in (("tlsh one", one), ("tlsh two", two), ("tlsh far", far)):
        ingest(store, user, [value_indicator(name, "file:hashes.TLSH", digest)])
    assert related(store, viewer, ident("tlsh one")) == {"tlsh two": {"similar"}}


def test_new_versions_replace_old_correlations(store: Store, community: Community) -> None:
    viewer = store.directory.viewer(community.analyst)
    user = community.analyst
    ingest(store, user, [value_indicator("a", "ipv4-addr:value", "10.7.7.7")])
    ingest(store, user, [value_indicator("b", "ipv4-addr:value", "10.7.7.7")])
    assert related(store, viewer, ident("a")) == {"b": {"same-value"}}
    moved = value_indicator("b", "ipv4-addr:value", "10.8.8.8") | {
        "modified": "2026-02-01T00:00:00.000Z"
    }
    ingest(store, user, [moved])
    assert related(store, viewer, ident("a")) == {}
    back = value_indicator("b", "ipv4-addr:value", "10.7.7.7") | {
        "modified": "2026-03-01T00:00:00.000Z"
    }
    ingest(store, user, [back])
    assert related(store, viewer, ident("a")) == {"b": {"same-value"}}


@pytest.mark.parametrize("batch", [True, False])
def test_over_correlation_cap(store: Store, community: Community, batch: bool) -> None:
    set_policy(store.engine, CorrelationPolicy(cap=5))
    viewer = store.directory.viewer(community.analyst)
    user = community.analyst
    hot = [value_indicator(f"hot {n}", "ipv4-addr:value", "9.9.9.9") for n in range(8)]
    cool = [value_indicator(f"cool {n}", "ipv4-addr:value", "10.0.0.5") for n in range(3)]
    net = [value_indicator("net", "ipv4-addr:value", "10.0.0.0/8")]
    inside = [value_indicator(f"in {n}", "ipv4-addr:value", f"10.0.1.{n}") for n in range(6)]
    everything = hot + cool + net + inside
    if batch:
        ingest(store, user, everything)
    else:
        for obj in everything:
            ingest(store, user, [obj])
    found = correlations_of(store, viewer, ident("hot 0"))
    assert found is not None
    assert found.correlations == []
    assert [(o.value, o.count) for o in found.over_correlating] == [("9.9.9.9", 7)]
    # The /8 joins 3 + 6 addresses and itself: over; an address in it still sees the network
    # holder, listed live (one object, under the cap), and its same-value peers.
    assert related(store, viewer, ident("cool 0")) == {
        "cool 1": {"same-value"},
        "cool 2": {"same-value"},
        "net": {"cidr"},
    }
    net_result = correlations_of(store, viewer, ident("net"))
    assert net_result is not None
    assert [(o.value, o.count) for o in net_result.over_correlating] == [("10.0.0.0/8", 9)]
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT count(*) FROM correlations").scalar_one()
        hubs = dict(conn.exec_driver_sql("SELECT hub, over FROM correlation_hubs").all())
    assert hubs["9.9.9.9"] and hubs["10.0.0.0/8"]
    assert rows == 3  # cool 0..2 pairwise, one row a pair; nothing for the over hubs


def test_tlp_of_the_other_end(store: Store, community: Community) -> None:
    user = community.analyst
    ingest(store, user, [value_indicator("green", "ipv4-addr:value", "10.3.3.3")])
    ingest(store, user, [value_indicator("amber", "ipv4-addr:value", "10.3.3.3", Tlp.AMBER)])
    mine = store.directory.viewer(community.analyst)
    outsider = store.directory.viewer(community.operator)
    assert related(store, mine, ident("green")) == {"amber": {"same-value"}}
    assert related(store, outsider, ident("green")) == {}
    assert correlations_of(store, outsider, ident("amber")) is None
