"""The many-pattern index gives the engine's answers, pattern by pattern, observation by
observation: it only chooses which patterns to judge."""

from __future__ import annotations

import random

import pattern_generator as generated
import pytest

from accord.match.patterns import PatternError, compile_pattern, observations
from accord.match.patterns.index import PatternIndex, build


def _one_by_one(patterns: list[str], observation: observations.Observation) -> list[int]:
    out = []
    for number, text in enumerate(patterns):
        try:
            if compile_pattern(text, "2.0").evaluate([observation]).matched:
                out.append(number)
        except PatternError:
            pass
    return out


def test_the_index_agrees_with_judging_each_pattern_alone() -> None:
    rng = random.Random(7)
    patterns = [generated.pattern(rng) for _ in range(400)]
    index = PatternIndex()
    for number, text in enumerate(patterns):
        index.add(number, text, "2.0")
    hits = 0
    for _ in range(300):
        for observation in observations.load(generated.observations(rng), "2.0"):
            errors: list = []
            got = index.match(observation, errors)
            failed = {key for key, _ in errors}
            expected = [n for n in _one_by_one(patterns, observation) if n not in failed]
            assert got == expected
            hits += len(got)
    assert hits > 1000


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("[domain-name:value LIKE '%.evil.example']", "a.evil.example", True),
        ("[domain-name:value LIKE '%.evil.example']", "evil.example", False),
        ("[domain-name:value LIKE '%.evil.example']", "a.evil.example\n", True),  # as re's $
        ("[url:value LIKE 'http://evil.test/%']", "http://evil.test/a/b", True),
        ("[url:value LIKE 'http://evil.test/%']", "https://evil.test/a", False),
        ("[url:value LIKE '%/gate_.php']", "http://x/gate1.php", True),  # general: Hyperscan
        ("[url:value MATCHES '^https?://[^/]+/gate\\\\.php']", "http://x.test/gate.php?id=1", True),
        ("[url:value MATCHES '^https?://[^/]+/gate\\\\.php']", "ftp://x.test/gate.php", False),
        ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "198.51.100.7", True),
        ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "198.51.101.7", False),
        ("[ipv6-addr:value ISSUBSET '2001:db8::/32']", "2001:db8:1::5", True),
        ("[domain-name:value IN ('a.test', 'b.test')]", "b.test", True),
        ("[domain-name:value != 'a.test']", "b.test", True),
        ("[domain-name:value MATCHES '(?P<x>evil)']", "evil.test", True),  # left to Python
    ],
)
def test_each_kind_of_trigger(pattern: str, value: str, matches: bool) -> None:
    sco_type = pattern[1 : pattern.index(":")]
    observation = observations.of_objects(
        [{"type": sco_type, "id": f"{sco_type}--1", "value": value}]
    )
    index = build([("p", pattern)])
    assert index.match(observation) == (["p"] if matches else [])


def test_numeric_thresholds() -> None:
    index = build(
        [
            ("big", "[file:size > 1000]"),
            ("at-least", "[file:size >= 1000]"),
            ("small", "[file:size < 1000]"),
            ("at-most", "[file:size <= 1000]"),
        ]
    )
    for size, expected in [
        (999, ["small", "at-most"]),
        (1000, ["at-least", "at-most"]),
        (1001, ["big", "at-least"]),
    ]:
        observation = observations.of_objects([{"type": "file", "id": "file--1", "size": size}])
        assert index.match(observation) == expected


def test_a_pattern_that_fails_on_one_observation_does_not_stop_the_others() -> None:
    index = build(
        [
            ("bad", "[x:when = t'2020-01-01T00:00:00Z']"),
            ("good", "[x:name = 'n']"),
        ]
    )
    observation = observations.of_objects(
        [{"type": "x", "id": "x--1", "when": "yesterday", "name": "n"}]
    )
    errors: list = []
    assert index.match(observation, errors) == ["good"]
    assert [key for key, _ in errors] == ["bad"]
    with pytest.raises(PatternError):
        index.match(observation)


def test_patterns_added_after_matching_are_matched_too() -> None:
    index = build([("first", "[domain-name:value LIKE '%.evil_example']")])
    observation = observations.of_objects(
        [{"type": "domain-name", "id": "domain-name--1", "value": "x.bad_example"}]
    )
    assert index.match(observation) == []
    index.add("second", "[domain-name:value LIKE '%.bad_example']")
    assert index.match(observation) == ["second"]
