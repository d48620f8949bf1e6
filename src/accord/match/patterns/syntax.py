"""The syntax tree of a STIX pattern (STIX 2.1 section 9), as the parser builds it.

Two levels, as in the grammar: comparison expressions (inside `[...]`, over the objects of
one observation) and observation expressions (over observations: AND, OR, FOLLOWEDBY and
the qualifiers WITHIN, REPEATS and START/STOP). Binary operators are left-associative, as
the grammar's `<assoc=left>` rules are, so `a AND b AND c` is `(a AND b) AND c`: the order
in which observations are bound, and so which observed-data a match names, depends on it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Final, Literal


@dataclass(frozen=True, slots=True)
class KeyStep:
    name: str


@dataclass(frozen=True, slots=True)
class IndexStep:
    index: int | None
    """None for `[*]`."""


PathStep = KeyStep | IndexStep

LiteralValue = str | int | float | bool | bytes | datetime.datetime
LiteralKind = Literal["string", "int", "float", "bool", "binary", "hex", "timestamp"]


@dataclass(frozen=True, slots=True)
class ObjectPath:
    object_type: str
    steps: tuple[PathStep, ...]
    column: int
    """1-based column of the path's first character in the pattern."""

    def text(self) -> str:
        """The path written canonically: `file:hashes.'SHA-256'`, `x:list[*].name`."""
        out = self.object_type + ":"
        for position, step in enumerate(self.steps):
            if isinstance(step, IndexStep):
                out += "[*]" if step.index is None else f"[{step.index}]"
            else:
                name = step.name
                bare = name.isidentifier() and name.isascii() and name not in KEYWORDS
                out += ("." if position else "") + (name if bare else quote(name))
        return out


@dataclass(frozen=True, slots=True)
class Comparison:
    """One property test: `path [NOT] operator literal`, or `[NOT] EXISTS path`."""

    path: ObjectPath
    operator: str
    """One of = != < > <= >= IN LIKE MATCHES ISSUBSET ISSUPERSET EXISTS."""
    negated: bool
    value: LiteralValue | tuple[LiteralValue, ...] | None
    """The literal; a tuple for IN; None for EXISTS."""
    kind: LiteralKind | None
    """The literal's kind (of the first member for IN); None for EXISTS and an empty set."""
    column: int
    line: int = 1

    def where(self) -> str:
        """Where the comparison starts, as errors say it."""
        return f"line {self.line}, column {self.column}"


@dataclass(frozen=True, slots=True)
class ComparisonJoin:
    operator: Literal["AND", "OR"]
    left: ComparisonExpression
    right: ComparisonExpression


ComparisonExpression = Comparison | ComparisonJoin


@dataclass(frozen=True, slots=True)
class Bracket:
    """`[ comparison expression ]`: one observation."""

    expression: ComparisonExpression
    column: int


@dataclass(frozen=True, slots=True)
class ObservationJoin:
    operator: Literal["AND", "OR", "FOLLOWEDBY"]
    left: ObservationExpression
    right: ObservationExpression


@dataclass(frozen=True, slots=True)
class Within:
    seconds: float
    column: int


@dataclass(frozen=True, slots=True)
class Repeats:
    times: int
    column: int


@dataclass(frozen=True, slots=True)
class StartStop:
    start: datetime.datetime
    stop: datetime.datetime
    column: int


Qualifier = Within | Repeats | StartStop


@dataclass(frozen=True, slots=True)
class Qualified:
    expression: ObservationExpression
    qualifier: Qualifier


ObservationExpression = Bracket | ObservationJoin | Qualified


KEYWORDS: Final = frozenset(
    [
        "AND",
        "OR",
        "NOT",
        "FOLLOWEDBY",
        "LIKE",
        "MATCHES",
        "ISSUPERSET",
        "ISSUBSET",
        "EXISTS",
        "LAST",
        "IN",
        "START",
        "STOP",
        "SECONDS",
        "true",
        "false",
        "WITHIN",
        "REPEATS",
        "TIMES",
    ]
)
"""Words the grammar's lexer always reads as keywords (STIXPattern.g4), never as names."""


def quote(text: str) -> str:
    """A pattern string literal: `'` and `\\` escaped (STIX 2.1 section 9.3)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def comparisons(expression: ObservationExpression | ComparisonExpression) -> list[Comparison]:
    """Every property test of a pattern (or part of one), in text order."""
    out: list[Comparison] = []
    stack: list[ObservationExpression | ComparisonExpression] = [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, Comparison):
            out.append(node)
        elif isinstance(node, Bracket | Qualified):
            stack.append(node.expression)
        else:
            stack.append(node.right)
            stack.append(node.left)
    return out


def brackets(expression: ObservationExpression) -> list[Bracket]:
    """Every `[...]` of a pattern, in text order."""
    out: list[Bracket] = []
    stack: list[ObservationExpression] = [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, Bracket):
            out.append(node)
        elif isinstance(node, Qualified):
            stack.append(node.expression)
        else:
            stack.append(node.right)
            stack.append(node.left)
    return out
