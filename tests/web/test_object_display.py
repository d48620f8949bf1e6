"""The object page's pieces that need no node: the pattern's colouring, the diff of two
versions, display names, ATT&CK links and which links are made clickable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.web.object_display import (
    attack_reference,
    attack_url,
    display_name,
    other_properties,
    web_link,
)
from accord.web.pattern_tokens import pattern_pieces
from accord.web.version_diff import diff_versions


def test_pattern_pieces_colour_each_token_and_give_the_pattern_back() -> None:
    pattern = (
        "[file:hashes.'SHA-256' = 'ab\\'c' AND ipv4-addr:value ISSUBSET '198.51.100.0/24']"
        " FOLLOWEDBY [x-thing:list[*].name MATCHES '^a'] WITHIN 300 SECONDS"
        " START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'"
    )
    pieces = pattern_pieces(pattern)
    assert "".join(piece.text for piece in pieces) == pattern
    kinds = {(piece.text, piece.kind) for piece in pieces}
    assert {
        ("[", "bracket"),
        ("file", "path"),
        ("'SHA-256'", "string"),
        ("=", "operator"),
        ("'ab\\'c'", "string"),
        ("AND", "boolean"),
        ("ISSUBSET", "operator"),
        ("FOLLOWEDBY", "boolean"),
        ("MATCHES", "operator"),
        ("WITHIN", "qualifier"),
        ("300", "number"),
        ("t'2026-01-01T00:00:00Z'", "timestamp"),
    } <= kinds


@pytest.mark.parametrize("text", ["", "not a pattern at all é \x00", "[a:b = 'unclosed", "]]]"])
def test_pattern_pieces_keep_what_does_not_lex(text: str) -> None:
    assert "".join(piece.text for piece in pattern_pieces(text)) == text


def test_every_real_pattern_comes_back_whole(shared_data: Path) -> None:
    vectors = json.loads((shared_data / "patterns/stix-pattern-match-vectors.json").read_text())
    patterns = {v["pattern"] for v in vectors["vectors"]}
    assert len(patterns) > 100
    for pattern in patterns:
        assert "".join(piece.text for piece in pattern_pieces(pattern)) == pattern


def test_diff_versions_property_by_property() -> None:
    old = {"id": "x", "name": "A", "labels": ["a", "b"], "gone": 1, "same": True, "n": None}
    new = {"id": "x", "name": "B", "labels": ["a", "c"], "added": {"k": 1}, "same": True, "n": 0}
    diff = diff_versions(old, new)
    changes = {change.name: change for change in diff.changes}
    assert diff.unchanged == ["id", "same"]
    assert [c.name for c in diff.changes] == ["name", "labels", "added", "n", "gone"]
    assert changes["name"].lines == [("-", "A"), ("+", "B")]
    assert changes["labels"].change == "changed"
    assert ("-", '  "b"') in changes["labels"].lines and ("+", '  "c"') in changes["labels"].lines
    assert (" ", '  "a",') in changes["labels"].lines
    assert changes["added"].change == "added" and changes["added"].lines[0] == ("+", "{")
    assert changes["gone"].change == "removed" and changes["gone"].lines == [("-", "1")]
    assert changes["n"].lines == [("-", "null"), ("+", "0")]


def test_display_names() -> None:
    assert display_name({"type": "malware", "name": "Loader"}) == "Loader"
    assert display_name({"type": "ipv4-addr", "value": "198.51.100.1"}) == "198.51.100.1"
    assert display_name({"type": "relationship", "relationship_type": "uses"}) == "uses"
    assert display_name({"type": "file", "hashes": {"MD5": "abc"}}) == "abc"
    assert display_name({"type": "autonomous-system", "number": 64500}) == "AS64500"
    assert display_name({"type": "sighting"}) is None


def test_attack_links() -> None:
    assert attack_url("T1071") == "https://attack.mitre.org/techniques/T1071/"
    assert attack_url("T1071.001") == "https://attack.mitre.org/techniques/T1071/001/"
    assert attack_url("TA0011") == "https://attack.mitre.org/tactics/TA0011/"
    assert attack_url("S0154") == "https://attack.mitre.org/software/S0154/"
    assert attack_url("G0007") == "https://attack.mitre.org/groups/G0007/"
    assert attack_url("CAPEC-1") is None
    made = {"external_references": [{"source_name": "mitre-attack", "external_id": "T1059"}]}
    assert attack_reference(made) == ("T1059", "https://attack.mitre.org/techniques/T1059/")
    elsewhere = {
        "external_references": [
            {"source_name": "capec", "external_id": "CAPEC-163"},
            {
                "source_name": "mitre-attack",
                "external_id": "T1566",
                "url": "javascript:alert(1)",
            },
        ]
    }
    assert attack_reference(elsewhere) == ("T1566", "https://attack.mitre.org/techniques/T1566/")
    assert attack_reference({"external_references": [{"source_name": "capec"}]}) is None


def test_only_web_addresses_are_links() -> None:
    assert web_link("https://example.org/a") == "https://example.org/a"
    assert web_link(" http://example.org ") == "http://example.org"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//example.org", "https://", 3, None):
        assert web_link(bad) is None


def test_other_properties_leave_out_what_the_type_lays_out_and_references() -> None:
    body = {
        "type": "indicator",
        "id": "indicator--1",
        "name": "n",
        "pattern": "[a:b = 'c']",
        "x_custom": [1, 2],
        "sample_refs": ["file--1"],
        "created_by_ref": "identity--1",
    }
    assert other_properties(body) == [("x_custom", [1, 2])]
