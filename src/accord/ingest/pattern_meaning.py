"""A STIX pattern that parses but can never be evaluated: a warning at ingest.

The OASIS grammar accepts `[a:b = 1] REPEATS 0 TIMES`, `t'2021-02-30T00:00:00Z'`, a set of
strings and numbers, or a MATCHES operand that is no regular expression; such an indicator is
stored (other nodes and tools accept it) but never matches anything, and whoever sent it
should hear so. Patterns of the common shape (`=` joined by AND/OR, no qualifier) cannot hold
any of these and are not parsed a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.match.patterns import PatternError, PatternSyntaxError, compile_pattern
from accord.model.errors import Problem
from accord.model.patterns import PatternError as GrammarError
from accord.model.patterns import observables_from_pattern


def pattern_meaning_warnings(obj: Mapping[str, Any], grammar: str) -> list[Problem]:
    """[] or one warning about the indicator's STIX pattern (`grammar`: "2.0" or "2.1")."""
    pattern = obj.get("pattern")
    if type(pattern) is not str or obj.get("pattern_type", "stix") != "stix":
        return []
    if grammar == "2.1":
        try:
            if observables_from_pattern(pattern).simple and "t'" not in pattern:
                return []
        except GrammarError:
            return []  # the grammar's rejection is reported as a problem already
    try:
        compile_pattern(pattern, grammar)
    except PatternSyntaxError as exc:
        if exc.grammatical:
            return []
        return [Problem("pattern", f"parses but cannot be evaluated: {exc}")]
    except PatternError as exc:
        return [Problem("pattern", f"parses but cannot be evaluated: {exc}")]
    return []
