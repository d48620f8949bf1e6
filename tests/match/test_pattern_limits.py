"""Patterns at the engine's limits: large but real shapes evaluate; hostile ones are refused
or stopped with a clear error, never a RecursionError or a worker busy for hours."""

from __future__ import annotations

import time

import pytest

from accord.match.patterns import PatternEvaluationError, PatternSyntaxError, compile_pattern
from accord.match.patterns.parser import MAX_BRACKETS, MAX_COMPARISONS


def _file(name: str, count: int = 1, minute: int = 0) -> dict[str, object]:
    stamp = f"2024-01-01T00:{minute:02d}:00Z"
    return {
        "type": "observed-data",
        "id": f"observed-data--00000000-0000-4000-8000-{minute:012d}",
        "first_observed": stamp,
        "last_observed": stamp,
        "number_observed": count,
        "objects": {"0": {"type": "file", "name": name}},
    }


def test_the_longest_allowed_or_list_evaluates() -> None:
    # Short terms, so that the length limit is not reached first.
    pattern = "[" + "OR ".join(["a:b=1"] * (MAX_COMPARISONS - 1) + ["a:c='x'"]) + "]"
    observed = _file("x")
    observed["objects"] = {"0": {"type": "a", "c": "x"}}
    assert compile_pattern(pattern, "2.0").match([observed]).matched


def test_one_comparison_more_is_refused_at_its_column() -> None:
    pattern = "[" + "OR ".join(["a:b=1"] * (MAX_COMPARISONS + 1)) + "]"
    with pytest.raises(PatternSyntaxError) as caught:
        compile_pattern(pattern)
    assert caught.value.column == pattern.rindex("a:b=1") + 1
    assert "more than 10,000 comparisons" in str(caught.value)


def test_the_most_observation_expressions_allowed_evaluate() -> None:
    pattern = " OR ".join(f"[file:name = 'x{i}']" for i in range(MAX_BRACKETS))
    assert compile_pattern(pattern, "2.0").match([_file(f"x{MAX_BRACKETS - 1}")]).matched
    with pytest.raises(PatternSyntaxError, match="more than 100 observation expressions"):
        compile_pattern(pattern + " OR [file:name = 'y']")


def test_a_huge_number_observed_binds_only_what_a_match_can_use() -> None:
    pattern = compile_pattern("[file:name = 'a'] REPEATS 3 TIMES AND [file:name = 'b']", "2.0")
    started = time.perf_counter()
    assert pattern.match([_file("a", count=10**9), _file("b", minute=1)]).matched
    assert not pattern.match([_file("a", count=10**9)]).matched
    assert time.perf_counter() - started < 1


def test_repeats_beyond_the_limit_is_refused() -> None:
    with pytest.raises(PatternSyntaxError, match="REPEATS more than"):
        compile_pattern("[file:name = 'a'] REPEATS 100001 TIMES")
    with pytest.raises(PatternSyntaxError, match="would bind more than"):
        compile_pattern("([file:name = 'a'] REPEATS 1000 TIMES) REPEATS 1000 TIMES")


def test_a_combinatorial_evaluation_is_stopped() -> None:
    # 60 "b" observations, all before 60 "a" ones: no pair of a's is followed by a pair of
    # b's, and finding that out means trying 1,770 x 1,770 pairs of pairs.
    observed = [_file("b", minute=minute % 30) for minute in range(60)]
    observed += [_file("a", minute=30 + minute % 30) for minute in range(60)]
    for position, sdo in enumerate(observed):
        sdo["id"] = f"observed-data--00000000-0000-4000-8000-{position:012d}"
    pattern = compile_pattern(
        "([file:name = 'a'] REPEATS 2 TIMES) FOLLOWEDBY ([file:name = 'b'] REPEATS 2 TIMES)",
        "2.0",
    )
    started = time.perf_counter()
    with pytest.raises(PatternEvaluationError, match="candidate combinations"):
        pattern.match(observed)
    assert time.perf_counter() - started < 30
    # The same pattern over a few observations is answered.
    assert not pattern.match(observed[:3] + observed[60:63]).matched
