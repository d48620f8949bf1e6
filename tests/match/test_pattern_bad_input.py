"""Hostile and broken patterns (issue 19): each is a clear `PatternError` that says where the
problem is, soon, never a hang or a Python error from deep inside the engine."""

from __future__ import annotations

import gc
import time

import pytest

from accord.match.patterns import (
    PatternError,
    PatternEvaluationError,
    PatternSyntaxError,
    compile_pattern,
    observations,
)
from accord.match.patterns.index import PatternIndex, build
from accord.match.patterns.parser import MAX_DEPTH, MAX_PATTERN_LENGTH
from accord.match.patterns.predicates import REGEX_TIMEOUT

CATASTROPHIC = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"  # 49 a's and a '!': 50


def _syntax_error(pattern: str, stix_version: str = "2.1") -> PatternSyntaxError:
    compile_pattern.cache_clear()
    started = time.perf_counter()
    with pytest.raises(PatternSyntaxError) as caught:
        compile_pattern(pattern, stix_version)
    assert time.perf_counter() - started < 2.0
    return caught.value


def _one(value: str) -> observations.Observation:
    return observations.of_objects([{"type": "x", "id": "x--1", "v": value}])


def test_a_pattern_of_a_megabyte_is_refused_before_it_is_read() -> None:
    pattern = "[file:name = '" + "a" * 1_000_000 + "']"
    error = _syntax_error(pattern)
    assert error.reason == (
        f"the pattern is {len(pattern):,} characters long; at most {MAX_PATTERN_LENGTH:,} are read"
    )
    assert (error.line, error.column) == (1, MAX_PATTERN_LENGTH + 1)
    assert str(error).startswith(
        f"line 1, column {MAX_PATTERN_LENGTH + 1}: the pattern is 1,000,016"
    )
    index = PatternIndex()
    with pytest.raises(PatternSyntaxError):
        index.add("big", pattern)
    assert len(index) == 0  # nothing is added


@pytest.mark.parametrize(
    "pattern",
    [
        "(" * 10_000 + "[x:v = 1]" + ")" * 10_000,  # observation expressions
        "[" + "(" * 10_000 + "x:v = 1" + ")" * 10_000 + "]",  # comparison expressions
    ],
    ids=["observation", "comparison"],
)
def test_ten_thousand_nested_parentheses(pattern: str) -> None:
    error = _syntax_error(pattern)
    # The first parenthesis beyond the limit is named.
    assert str(error) == f"line 1, column {MAX_DEPTH + 1}: nested more than {MAX_DEPTH} levels deep"
    assert (error.line, error.column) == (1, MAX_DEPTH + 1)


def test_nesting_up_to_the_limit_still_parses_and_matches() -> None:
    depth = MAX_DEPTH - 1  # the bracket itself is one level
    pattern = "[" + "(" * depth + "x:v = 'a'" + ")" * depth + "]"
    assert compile_pattern(pattern).evaluate([_one("a")]).matched


@pytest.mark.parametrize("expression", ["(a|aa)+$", "(a|a)+$"])
def test_a_catastrophic_regular_expression_is_stopped_by_the_time_limit(expression: str) -> None:
    pattern = compile_pattern(f"[x:v MATCHES '{expression}']")
    started = time.perf_counter()
    with pytest.raises(PatternEvaluationError) as caught:
        pattern.evaluate([_one(CATASTROPHIC)])
    took = time.perf_counter() - started
    assert REGEX_TIMEOUT <= took < 1.5, took
    assert str(caught.value) == (
        f"line 1, column 2: the MATCHES expression ran longer than {REGEX_TIMEOUT} s on one value and "
        "was stopped"
    )


def test_the_issue_s_example_does_not_backtrack_in_the_regex_module() -> None:
    # '(a+)+$' is the textbook case for backtracking engines; the `regex` module sees
    # through it and answers at once (hence the expressions above).
    started = time.perf_counter()
    assert not compile_pattern("[x:v MATCHES '(a+)+$']").evaluate([_one(CATASTROPHIC)]).matched
    assert compile_pattern("[x:v MATCHES '(a+)+$']").evaluate([_one("baaa")]).matched
    assert time.perf_counter() - started < REGEX_TIMEOUT


def test_a_catastrophic_regular_expression_in_the_index() -> None:
    # Hyperscan does not backtrack: where it proves there is no match the pattern is not
    # judged at all (no error, no wait).
    index = build([("slow", "[x:v MATCHES '(a|aa)+$']"), ("fine", "[x:v = 'b']")])
    started = time.perf_counter()
    assert index.match(_one(CATASTROPHIC)) == []
    assert time.perf_counter() - started < REGEX_TIMEOUT
    # A lookahead is left to Python's engine: the time limit stops it, the error names the
    # pattern, and the other patterns are still judged.
    index = build(
        [("slow", "[x:v MATCHES '(?=a)(a|aa)+$' OR x:v = 'b']"), ("fine", "[x:v LIKE 'a%']")]
    )
    errors: list[tuple[object, PatternEvaluationError]] = []
    started = time.perf_counter()
    assert index.match(_one(CATASTROPHIC), errors) == ["fine"]
    assert time.perf_counter() - started < 1.5
    assert [key for key, _ in errors] == ["slow"]
    assert "ran longer than" in str(errors[0][1]) and "column 2" in str(errors[0][1])
    with pytest.raises(PatternEvaluationError, match="ran longer than"):
        index.match(_one(CATASTROPHIC))


@pytest.mark.parametrize(
    ("pattern", "line", "column", "reason"),
    [
        (
            "[x:when = t'2021-02-30T00:00:00Z']",
            1,
            11,
            "t'2021-02-30T00:00:00Z' is not a real date and time",
        ),
        (  # the second line names the second timestamp
            "[x:when > t'2021-02-28T00:00:00Z' AND\n x:until < t'2021-02-30T00:00:00Z']",
            2,
            12,
            "t'2021-02-30T00:00:00Z' is not a real date and time",
        ),
        (
            "[x:v = 1] START t'2021-02-29T00:00:00Z' STOP t'2022-01-01T00:00:00Z'",
            1,
            17,
            "t'2021-02-29T00:00:00Z' is not a real date and time",
        ),
    ],
)
def test_impossible_timestamps(pattern: str, line: int, column: int, reason: str) -> None:
    error = _syntax_error(pattern)
    assert (error.line, error.column, error.reason) == (line, column, reason)
    assert str(error) == f"line {line}, column {column}: {reason}"
    assert not error.grammatical  # the grammar takes it; the date does not exist


@pytest.mark.parametrize(
    ("pattern", "line", "column", "found"),
    [
        ("[file:x = b'abc']", 1, 11, "b"),  # not base64 (3 characters)
        ("[file:x = b'YWJ=j']", 1, 11, "b"),  # padding inside
        ("[file:x_hex = h'abc']", 1, 15, "h"),  # an odd number of hex digits
        ("[file:x_hex =\n  h'0g']", 2, 3, "h"),  # not hex
    ],
)
def test_binary_literals_that_are_not_binary(
    pattern: str, line: int, column: int, found: str
) -> None:
    error = _syntax_error(pattern)
    assert str(error) == (
        f"line {line}, column {column}: expected a literal value (a string, number, boolean, "
        f"b'', h'' or t''), found '{found}'"
    )
    assert error.grammatical


def test_valid_binary_literals_still_compare() -> None:
    observation = observations.of_objects(
        [{"type": "file", "id": "file--1", "name": "abc", "x_hex": "616263"}]
    )
    assert compile_pattern("[file:name = b'YWJj']").evaluate([observation]).matched
    assert compile_pattern("[file:x_hex = h'616263']").evaluate([observation]).matched


def test_every_bad_pattern_is_a_pattern_error_for_the_caller() -> None:
    # What a caller (the ingest path, the API) catches: PatternError, a ValueError.
    assert issubclass(PatternSyntaxError, PatternError)
    assert issubclass(PatternEvaluationError, PatternError)
    assert issubclass(PatternError, ValueError)


@pytest.mark.parametrize(
    "joiner",
    [" OR ", "] OR [", "] FOLLOWEDBY ["],
    ids=["or-in-bracket", "or-of-brackets", "followedby"],
)
def test_a_long_flat_list_of_terms(joiner: str) -> None:
    # 1,500 MD5 hashes: about 85 KB, the shape of the long hash lists in real indicators. A
    # run of one operator is evaluated in a loop; 1,500 observation expressions are over the
    # limit of 100 and refused, saying where.
    hashes = [f"{number:032x}" for number in range(1500)]
    pattern = "[" + joiner.join(f"file:hashes.MD5 = '{value}'" for value in hashes) + "]"
    assert len(pattern) < MAX_PATTERN_LENGTH
    observation = observations.of_objects(
        [{"type": "file", "id": "file--1", "hashes": {"MD5": hashes[-1]}}]
    )
    compile_pattern.cache_clear()
    try:
        compiled = compile_pattern(pattern)
    except PatternSyntaxError as error:  # a limit on the terms would do too, if it says where
        assert str(error).startswith("line 1, column ")
        return
    result = compiled.evaluate([observation])
    assert result.matched == (joiner != "] FOLLOWEDBY [")
    assert build([("long", pattern)]).match(observation) == (["long"] if result.matched else [])


def test_build_raises_on_a_bad_pattern_and_leaves_the_collector_as_it_was() -> None:
    # build() pauses the cyclic garbage collector while it adds (a speed-up, see its docstring).
    assert gc.isenabled()
    with pytest.raises(PatternSyntaxError, match="line 1, column 11: t'2021-02-30"):
        build([("good", "[x:v = 1]"), ("bad", "[x:when = t'2021-02-30T00:00:00Z']")])
    assert gc.isenabled()
    gc.disable()
    try:
        assert build([("good", "[x:v = 'a']")]).match(_one("a")) == ["good"]
        assert not gc.isenabled()  # not switched on behind the caller's back
    finally:
        gc.enable()
