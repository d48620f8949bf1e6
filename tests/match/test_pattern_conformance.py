"""The engine agrees with the OASIS matcher: on every recorded vector, on generated patterns
over generated observations (both STIX versions), and the parser accepts exactly what the
OASIS grammar accepts."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pattern_generator as generated
import pytest

from accord.match.patterns import PatternError, PatternSyntaxError, compile_pattern
from accord.match.patterns.parser import parse

VECTORS = "patterns/stix-pattern-match-vectors.json"


def _run(pattern: str, version: str, observed: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    try:
        result = compile_pattern(pattern, version).match(observed)
    except PatternError:
        return "error", []
    return ("match" if result.matched else "no-match"), result.observed_data_ids


def test_every_recorded_vector_agrees(shared_data: Path) -> None:
    data = json.loads((shared_data / VECTORS).read_text())
    failures = []
    for vector in data["vectors"]:
        observed = data["observation_sets"][vector["observations"]]
        version = vector["stix_version"]
        if version == "2.1":
            # The matcher was given bundles, merged them, and names the merged bundle (whose
            # id is the last one's) once per matched observed-data.
            flat = [obj for bundle in observed for obj in bundle.get("objects", [])]
            outcome, ids = _run(vector["pattern"], version, flat)
            ids = [observed[-1].get("id") for _ in ids]
        else:
            outcome, ids = _run(vector["pattern"], version, observed)
        expected = vector["expected"]
        if outcome != expected or (
            expected == "match" and ids != vector["matched_observed_data_ids"]
        ):
            failures.append((version, vector["pattern"], expected, outcome, ids))
    assert len(data["vectors"]) == 572
    assert failures == []


def _oasis(pattern: str, version: str, observed: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    stix2matcher = pytest.importorskip("stix2matcher.matcher")
    from stix2patterns.exceptions import ParseException

    try:
        if version == "2.1":
            bundle = {"type": "bundle", "id": "bundle--x", "objects": observed}
            sdos = stix2matcher.match(pattern, [bundle], stix_version="2.1")
            return ("match" if sdos else "no-match"), [s["objects"][0]["id"] for s in sdos]
        sdos = stix2matcher.match(pattern, observed, stix_version="2.0")
    except (stix2matcher.MatcherException, ParseException):
        return "error", []
    return ("match" if sdos else "no-match"), [s.get("id") for s in sdos]


@pytest.mark.parametrize("version", ["2.0", "2.1"])
def test_generated_patterns_agree_with_the_oasis_matcher(version: str) -> None:
    rng = random.Random(19)
    outcomes: dict[str, int] = {}
    for _ in range(1000):
        observed = generated.observations(rng)
        if version == "2.1":
            observed = generated.as_v21(observed)
        # The OASIS matcher fails on START/STOP in 2.0 (it reads the 2.0 grammar's timestamps
        # as strings: AttributeError), so there is nothing to compare with.
        pattern = generated.pattern(rng, start_stop=version == "2.1")
        ours = _run(pattern, version, observed)
        assert ours == _oasis(pattern, version, observed), (pattern, observed)
        outcomes[ours[0]] = outcomes.get(ours[0], 0) + 1
    # The generator is worth something only if both answers are common.
    assert outcomes.get("match", 0) > 200 and outcomes.get("no-match", 0) > 200


def _stix2patterns_accepts(pattern: str, version: str) -> bool:
    from stix2patterns.exceptions import ParseException
    from stix2patterns.v20.pattern import Pattern as Pattern20
    from stix2patterns.v21.pattern import Pattern as Pattern21

    try:
        (Pattern20 if version == "2.0" else Pattern21)(pattern)
    except (ParseException, RecursionError):
        return False
    return True


def _accord_accepts(pattern: str, version: str) -> bool:
    try:
        parse(pattern, version)
    except PatternSyntaxError as exc:
        return not exc.grammatical
    return True


def _indicator_patterns(shared_data: Path) -> list[str]:
    found: set[str] = set()
    for path in sorted(shared_data.glob("**/*.json")):
        text = path.read_text(errors="replace")
        if '"pattern"' not in text:
            continue
        try:
            stack: list[Any] = [json.loads(text)]
        except ValueError:
            continue
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                pattern = item.get("pattern")
                if (
                    item.get("type") == "indicator"
                    and isinstance(pattern, str)
                    and item.get("pattern_type", "stix") == "stix"
                ):
                    found.add(pattern)
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return sorted(found)


_FRAGMENTS = [
    "[",
    "]",
    "(",
    ")",
    "'",
    "\\",
    " AND ",
    " OR ",
    " NOT ",
    " FOLLOWEDBY ",
    "=",
    "!=",
    "<>",
    "==",
    ":",
    ".",
    ",",
    "*",
    "[*]",
    "[0]",
    "[-1]",
    " IN ('a')",
    " LIKE ",
    " EXISTS ",
    "t'",
    "h'0a'",
    "b'AA=='",
    "1.5",
    "-2",
    "+3",
    "true",
    " WITHIN 5 SECONDS",
    " REPEATS 2 TIMES",
    "/* c */",
    "// c\n",
    "x-y",
    "'k-1'",
    "\u00a0",
    "LAST",
    "START",
    "\n",
]


def _mutations(patterns: list[str], count: int) -> list[str]:
    rng = random.Random(1919)
    out = []
    for _ in range(count):
        text = rng.choice(patterns)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            roll = rng.random()
            if roll < 0.4:
                text = text[:at] + rng.choice(_FRAGMENTS) + text[at:]
            elif roll < 0.7:
                text = text[:at] + text[at + rng.randint(1, 3) :]
            else:
                text = text[:at] + rng.choice(_FRAGMENTS) + text[at + 1 :]
        out.append(text)
    return out


def test_the_parser_accepts_what_the_oasis_grammar_accepts(shared_data: Path) -> None:
    real = _indicator_patterns(shared_data)
    vectors = json.loads((shared_data / VECTORS).read_text())["vectors"]
    corpus = sorted({*real, *(v["pattern"] for v in vectors)})
    assert len(corpus) > 2000
    corpus += _mutations(corpus, 3000)
    disagreements = [
        (version, pattern)
        for pattern in corpus
        for version in ("2.0", "2.1")
        if _accord_accepts(pattern, version) != _stix2patterns_accepts(pattern, version)
    ]
    assert disagreements == []
