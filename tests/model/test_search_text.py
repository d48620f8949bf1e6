"""What full-text search indexes of an object, and how a person's search is read
(accord.model.search_text): the reference the store's index is tested against."""

from __future__ import annotations

import pytest

from accord.model.search_text import (
    MAX_SEARCH_CHARS,
    MAX_TERMS,
    MAX_TEXT_CHARS,
    BadSearch,
    Term,
    labels_of,
    matches,
    parse_search,
    searchable_text,
    tokens,
)

INTRUSION_SET = {
    "type": "intrusion-set",
    "id": "intrusion-set--bef4c620-0787-42a8-a96d-b7eb6e85917c",
    "name": "APT28",
    "description": "Sofacy's tools talk to c2-server.example.net (see T1059.001).",
    "aliases": ["Fancy Bear", "STRONTIUM"],
    "labels": ["nation-state", "nation-state", ""],
    "external_references": [
        {"source_name": "mitre-attack", "external_id": "G0007"},
        {"source_name": "somewhere", "url": "https://example.org"},
    ],
}


def test_the_text_holds_names_descriptions_aliases_labels_and_external_ids() -> None:
    text = searchable_text(INTRUSION_SET)
    for word in ("APT28", "Sofacy", "Fancy Bear", "STRONTIUM", "nation-state", "G0007"):
        assert word in text
    assert "example.org" not in text  # a reference's URL is not its name
    assert "intrusion-set" not in text  # nor the type or id


def test_relationships_and_sightings_have_no_text() -> None:
    for kind in ("relationship", "sighting"):
        assert searchable_text({"type": kind, "description": "APT28 uses Mimikatz"}) == ""


def test_long_text_is_cut_and_nul_is_a_space() -> None:
    assert len(searchable_text({"type": "note", "content": "a " * MAX_TEXT_CHARS})) == (
        MAX_TEXT_CHARS
    )
    assert searchable_text({"type": "malware", "name": "x\x00y"}) == "x y"


def test_labels_are_kept_once_as_written() -> None:
    assert labels_of(INTRUSION_SET) == ("nation-state",)
    assert labels_of({"labels": ["A", "a", 3, "x" * 201]}) == ("A", "a")
    assert labels_of({"labels": "not a list"}) == ()


def test_words_are_runs_of_letters_and_digits() -> None:
    assert tokens("C2-Server.example.net T1059.001 x_y Ünïcode Сканер 日本") == [
        "c2",
        "server",
        "example",
        "net",
        "t1059",
        "001",
        "x",
        "y",
        "ünïcode",
        "сканер",
        "日本",
    ]


@pytest.mark.parametrize(
    ("typed", "terms"),
    [
        ("mimikatz", [Term(("mimikatz",))]),
        ("APT28 sofacy", [Term(("apt28",)), Term(("sofacy",))]),
        ("T1059.001", [Term(("t1059", "001"))]),
        ('"fancy bear"', [Term(("fancy", "bear"))]),
        ('"fancy bea"*', [Term(("fancy", "bea"), prefix=True)]),
        ("cobalt*", [Term(("cobalt",), prefix=True)]),
        ('"unclosed phrase', [Term(("unclosed", "phrase"))]),
        ("a a A", [Term(("a",))]),  # each term once
        # Operators of FTS5 and tsquery are words or separators, nothing more.
        (
            'NEAR(a b) OR c:d & e | !f "',
            [
                *(Term(("near", "a")), Term(("b",)), Term(("or",)), Term(("c", "d"))),
                *(Term(("e",)), Term(("f",))),
            ],
        ),
    ],
)
def test_parse_search(typed: str, terms: list[Term]) -> None:
    assert list(parse_search(typed).terms) == terms


@pytest.mark.parametrize(
    "typed", ["", "   ", '"', '""', "*", "&|!", ":", "()", "-", '"*"', "_", "'", "\\", "\x00"]
)
def test_a_search_without_words_is_refused_clearly(typed: str) -> None:
    with pytest.raises(BadSearch, match="no word"):
        parse_search(typed)


def test_searches_too_long_are_refused() -> None:
    with pytest.raises(BadSearch, match="longer than"):
        parse_search("a" * (MAX_SEARCH_CHARS + 1))
    with pytest.raises(BadSearch, match="at most"):
        parse_search(" ".join(f"w{n}" for n in range(MAX_TERMS + 1)))
    with pytest.raises(BadSearch, match="word longer"):
        parse_search("x" * 201)


def test_canonical_is_the_same_for_the_same_search() -> None:
    assert (
        parse_search('APT28  "Fancy   Bear"').canonical()
        == parse_search('apt28 "fancy bear"').canonical()
    )
    assert parse_search("fancy.bear cob*").canonical() == '"fancy bear" cob*'


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("apt28", True),
        ("APT28 sofacy", True),
        ("apt", False),  # whole words, unless asked for a beginning
        ("apt*", True),
        ("fancy bear", True),
        ('"fancy bear"', True),
        ('"bear fancy"', False),
        ('"fancy be"*', True),
        ("c2-server.example.net", True),
        ("example", True),  # a host name's parts are words
        ("server.example", True),
        ("example.server", False),
        ("T1059.001", True),
        ("t1059", True),
        ("g0007", True),
        ("sofacy mimikatz", False),  # every term must be found
        ("sofacys", False),
        ("sofacy's", True),  # "Sofacy's" is two words, "sofacy" and "s"
        ("sofacy s", True),
    ],
)
def test_matches(typed: str, found: bool) -> None:
    assert matches(parse_search(typed), searchable_text(INTRUSION_SET)) is found
