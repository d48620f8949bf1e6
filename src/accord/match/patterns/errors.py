"""What goes wrong with a pattern: it does not parse, or it cannot be evaluated."""

from __future__ import annotations


class PatternError(ValueError):
    """Base of the engine's errors; the message names where the problem is."""


class PatternSyntaxError(PatternError):
    """The pattern is not STIX patterning (or is beyond the engine's limits)."""

    def __init__(self, message: str, *, line: int, column: int, grammatical: bool = True) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.reason = message
        self.line = line
        self.column = column
        self.grammatical = grammatical
        """False where the grammar accepts the text but it means nothing (`REPEATS 0 TIMES`,
        `t'2021-02-30T00:00:00Z'`, a set of strings and numbers)."""


class PatternEvaluationError(PatternError):
    """The pattern parses but cannot be evaluated against these observations: a literal that
    means nothing (an impossible timestamp, a set of mixed types), a value in the data of the
    wrong form for the comparison, a regular expression that runs too long."""
