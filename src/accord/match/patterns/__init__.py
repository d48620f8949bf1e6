"""The STIX pattern engine: the whole patterning language of STIX 2.0 and 2.1.

    pattern = compile_pattern("[domain-name:value LIKE '%.evil.example']")
    result = pattern.match(observed_data)     # observed-data (2.0), or 2.1 objects
    result.matched, result.observed_data_ids

`compile_pattern` raises `PatternSyntaxError` (with line and column); evaluation raises
`PatternEvaluationError` where the data or a literal cannot be compared as the pattern asks.
Semantics follow STIX 2.1 section 9 as the OASIS matcher reads it: the conformance test runs
every vector recorded from that matcher's own tests (docs/patterns.md).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accord.match.patterns import observations
from accord.match.patterns.errors import PatternError, PatternEvaluationError, PatternSyntaxError
from accord.match.patterns.evaluate import Evaluator
from accord.match.patterns.observations import Observation
from accord.match.patterns.parser import parse
from accord.match.patterns.syntax import ObservationExpression

__all__ = [
    "CompiledPattern",
    "MatchResult",
    "Observation",
    "PatternError",
    "PatternEvaluationError",
    "PatternSyntaxError",
    "compile_pattern",
    "observations",
]


@dataclass(frozen=True, slots=True)
class MatchResult:
    matched: bool
    observed_data_ids: list[str | None]
    """The observed-data of the first binding found, in input order (None for one without
    an id); empty when the pattern did not match."""
    observation_indexes: list[int]


class CompiledPattern:
    """A parsed pattern, ready to evaluate any number of times."""

    __slots__ = ("evaluator", "stix_version", "text", "tree")

    def __init__(self, text: str, stix_version: str, tree: ObservationExpression) -> None:
        self.text = text
        self.stix_version = stix_version
        self.tree = tree
        self.evaluator = Evaluator(tree)

    def evaluate(self, loaded: Sequence[Observation]) -> MatchResult:
        """Judge observations already loaded (`observations.load`)."""
        indexes = self.evaluator.first_binding(loaded)
        return MatchResult(bool(indexes), [loaded[i].id for i in indexes], indexes)

    def match(self, observed_data: Sequence[Any]) -> MatchResult:
        """Judge observed-data as STIX gives it (2.0 with embedded objects; 2.1 with
        object_refs and the SCOs beside them, or in bundles)."""
        return self.evaluate(observations.load(observed_data, self.stix_version))


@functools.lru_cache(maxsize=8192)
def compile_pattern(text: str, stix_version: str = "2.1") -> CompiledPattern:
    """The compiled pattern; raises `PatternSyntaxError` or `PatternEvaluationError` (a
    regular expression that does not compile)."""
    if stix_version not in ("2.0", "2.1"):
        raise ValueError(f"stix_version must be 2.0 or 2.1, not {stix_version!r}")
    return CompiledPattern(text, stix_version, parse(text, stix_version))
