"""The leak matrix over HTTP: every read endpoint x every TLP level x every kind of caller.
An outsider's look-up of an AMBER-only value answers exactly like an unknown value."""

from __future__ import annotations

import pytest

from accord.client import AccordError, Client
from accord.model.tlp import Tlp
from leak_reads import EMAILS, MADE, READS, visible
from leakdata import (
    ADDRESS,
    EXPECTED,
    VIEWERS,
    load_matrix,
    load_pattern_matrix,
)


@pytest.fixture
def clients(api) -> dict[str, Client]:  # type: ignore[no-untyped-def]
    load_matrix(api.store, api.community)
    load_pattern_matrix(api.store, api.community)
    found = {name: api.client(email) for name, email in EMAILS.items()}
    found["anonymous"] = api.anonymous()
    return found


@pytest.mark.parametrize("read", READS)
def test_api_leak_matrix(clients: dict[str, Client], read: str) -> None:
    for level in Tlp:
        for name in VIEWERS:
            if name == "anonymous" and not read.startswith(("lookup", "bulk")):
                with pytest.raises(AccordError) as caught:
                    visible(clients[name], name, read, level) or clients[name].get("x")
                assert caught.value.status == 401
                continue
            expected = name in EXPECTED[level]
            seen = visible(clients[name], name, read, level)
            assert seen == expected, f"{read}: {name} {'sees' if seen else 'misses'} {level.label}"


def test_hidden_value_answers_exactly_like_an_unknown_one(clients: dict[str, Client]) -> None:
    outsider = clients["outsider"]
    hidden = outsider.lookup(ADDRESS[Tlp.AMBER])
    unknown = outsider.lookup("198.51.100.200")
    for answer in (hidden, unknown):
        answer.pop("query")
        answer.pop("value")
    assert hidden == unknown
    assert hidden["verdict"] == "unknown" and hidden["reasons"] == []
    # the same length on the wire, too
    raw_hidden = outsider.http.get("/api/v1/lookup", params={"value": ADDRESS[Tlp.AMBER]})
    raw_unknown = outsider.http.get("/api/v1/lookup", params={"value": "198.51.100.98"})
    assert len(raw_hidden.content) == len(raw_unknown.content)
    assert raw_hidden.headers.keys() == raw_unknown.headers.keys()


def test_listing_counts_and_pages_never_include_hidden_objects(clients: dict[str, Client]) -> None:
    outsider = list(clients["outsider"].objects(types=["indicator"], page_size=1))
    assert {o["id"] for o in outsider} == {
        str(made(level)["id"]) for level in (Tlp.CLEAR, Tlp.GREEN) for made in MADE
    }
