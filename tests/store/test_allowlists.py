"""Organisation allowlists: exact values, networks and domain suffixes, one organisation's
entries never applying to another's (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import pytest

from accord.model.observables import ObservableError, detect
from accord.store.node import Store
from accord.store.organisations import AlreadyExists, NotFound
from community import Community


def matched(store: Store, org_id: str, value: str) -> list[str]:
    observable = detect(value)
    assert observable is not None, value
    return [entry.display for entry in store.allowlists.matches(org_id, observable)]


def test_entries_match_exact_network_and_suffix(store: Store, community: Community) -> None:
    cert = community.cert.id
    lists = store.allowlists
    lists.add(cert, "198.51.100.0/24", comment="our DMZ", added_by="admin@cert.example")
    lists.add(cert, "2001:db8::/32")
    lists.add(cert, "*.cert.example")
    lists.add(cert, "partner.example")
    lists.add(cert, "hxxp://intranet[.]example/login")
    lists.add(cert, "D41D8CD98F00B204E9800998ECF8427E")
    assert matched(store, cert, "198.51.100.23") == ["198.51.100.0/24"]
    assert matched(store, cert, "198.51.100.128/25") == ["198.51.100.0/24"]
    assert matched(store, cert, "198.51.101.1") == []
    assert matched(store, cert, "198.51.0.0/16") == []  # wider than the entry
    assert matched(store, cert, "2001:db8:1::5") == ["2001:db8::/32"]
    assert matched(store, cert, "www.cert.example") == ["*.cert.example"]
    assert matched(store, cert, "a.b.cert.example") == ["*.cert.example"]
    assert matched(store, cert, "cert.example") == ["*.cert.example"]
    assert matched(store, cert, "evilcert.example") == []
    # An exact domain covers itself, not the names below it.
    assert matched(store, cert, "partner.example") == ["partner.example"]
    assert matched(store, cert, "www.partner.example") == []
    # URLs and e-mail addresses are covered through their host too.
    assert matched(store, cert, "http://intranet.example/login") == [
        "http://intranet.example/login"
    ]
    assert matched(store, cert, "https://portal.cert.example/x") == ["*.cert.example"]
    assert matched(store, cert, "http://198.51.100.7:8080/a") == ["198.51.100.0/24"]
    assert matched(store, cert, "soc@cert.example") == ["*.cert.example"]
    assert matched(store, cert, "d41d8cd98f00b204e9800998ecf8427e") == [
        "d41d8cd98f00b204e9800998ecf8427e"
    ]
    first = next(e for e in lists.entries(cert) if e.value == "198.51.100.0/24")
    assert (first.comment, first.added_by) == ("our DMZ", "admin@cert.example")
    assert len(lists.entries(cert)) == 6


def test_an_allowlist_is_one_organisations_own(store: Store, community: Community) -> None:
    store.allowlists.add(community.cert.id, "10.20.0.0/16")
    store.allowlists.add(community.cert.id, ".cert.example")
    assert matched(store, community.cert.id, "10.20.1.1") == ["10.20.0.0/16"]
    assert matched(store, community.police.id, "10.20.1.1") == []
    assert matched(store, community.police.id, "www.cert.example") == []
    assert store.allowlists.entries(community.police.id) == []


def test_add_remove_and_errors(store: Store, community: Community) -> None:
    cert = community.cert.id
    entry = store.allowlists.add(cert, "Example.COM")
    assert entry.value == "example.com"
    with pytest.raises(AlreadyExists):
        store.allowlists.add(cert, "example.com.")
    with pytest.raises(ObservableError):
        store.allowlists.add(cert, "not a value")
    # Removal by any spelling that normalises the same, or by id.
    assert store.allowlists.remove(cert, "EXAMPLE.com").id == entry.id
    network = store.allowlists.add(cert, "10.1.2.3/8")
    assert network.value == "10.0.0.0/8"
    store.allowlists.remove(cert, network.id)
    with pytest.raises(NotFound):
        store.allowlists.remove(cert, "10.0.0.0/8")
    assert store.allowlists.entries(cert) == []
