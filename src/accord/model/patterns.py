"""Observables inside STIX patterns: what an indicator's pattern can be found by.

A pattern (STIX 2.1 section 9) is parsed with the OASIS grammar (`stix2patterns`, ANTLR).
Every comparison that pins an indexed property to one value contributes that value:
`=` (and `NOT !=`), each string of an `IN (...)` set, and `ISSUBSET`/`ISSUPERSET` on an
address value (a CIDR). `!=`, `LIKE`, `MATCHES` and orderings pin nothing and are skipped.

The ANTLR parser costs about a millisecond per pattern, and almost every real pattern is
`[type:path = 'value']` or a few of those joined by OR/AND. A hand-written recogniser
for exactly that shape (the fast path) answers those without ANTLR, and only ever accepts
text the grammar accepts; everything else goes to the parser. Results are cached by pattern.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from accord.model.addresses import parse_address
from accord.model.detection import normalise
from accord.model.domains import normalise_domain
from accord.model.hashes import kind_for_hash_name
from accord.model.observable_types import (
    HASH_NAME_OF_KIND,
    SCO_TYPE_OF_KIND,
    Observable,
    ObservableError,
)


class PatternError(ValueError):
    """A pattern the STIX 2.1 grammar rejects; the message is the parser's."""


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class PatternObservables:
    """What a pattern can be looked up by."""

    observables: list[tuple[str, Observable]]
    """(object path, observable) per indexable comparison, in pattern order, without repeats.
    The path is written canonically, e.g. "file:hashes.'SHA-256'" or "ipv4-addr:value"."""
    simple: bool
    """True iff every comparison is a plain `=`, joined by AND/OR (inside or between
    observation expressions), with no qualifier (START/STOP, WITHIN, REPEATS) and no
    FOLLOWEDBY: one matching observation can then be judged without a time window."""


# --- object paths ---------------------------------------------------------------------------

# STIX 2.1 pattern grammar keywords; they lex as keywords, never as identifiers.
_KEYWORDS: Final = frozenset(
    """AND OR NOT FOLLOWEDBY LIKE MATCHES ISSUPERSET ISSUBSET EXISTS LAST IN START STOP SECONDS
    true false WITHIN REPEATS TIMES""".split()  # noqa: SIM905
)
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNESCAPE: Final = re.compile(r"\\(['\\])")
_HASHED_TYPES: Final = frozenset({"file", "artifact", "x509-certificate"})
_VALUE_KINDS: Final[dict[str, str]] = {
    "ipv4-addr": "ipv4",
    "ipv6-addr": "ipv6",
    "domain-name": "domain",
    "url": "url",
    "email-addr": "email",
}
_EMAIL_REFS: Final = frozenset({"from_ref", "sender_ref"})
_TRAFFIC_REFS: Final = frozenset({"src_ref", "dst_ref"})
_ADDRESS_TYPES: Final = frozenset({"ipv4-addr", "ipv6-addr"})

# A path step: a property name, or an index step kept as its text ("[0]", "[*]").
Step = str


def _string_value(literal: str) -> str:
    """The value of a StringLiteral token: quotes removed, \\' and \\\\ unescaped."""
    if "\\" not in literal:
        return literal[1:-1]
    return _UNESCAPE.sub(r"\1", literal[1:-1])


def _quote_key(key: str) -> str:
    if _IDENTIFIER.fullmatch(key) and key not in _KEYWORDS:
        return key
    return "'" + key.replace("\\", "\\\\").replace("'", "\\'") + "'"


def format_path(object_type: str, steps: Sequence[Step], index_steps: frozenset[int]) -> str:
    """Canonical text of an object path: keys bare where the grammar allows, else quoted."""
    text = object_type + ":"
    for position, step in enumerate(steps):
        if position in index_steps:
            text += step
        else:
            text += ("." if position else "") + _quote_key(step)
    return text


def observable_at(object_type: str, keys: Sequence[str], value: str) -> Observable | None:
    """The observable for `value` compared at path `object_type:keys`, if that path is
    indexed and the value normalises; None otherwise (the index is best-effort)."""
    try:
        if len(keys) == 1 and keys[0] == "value":
            kind = _VALUE_KINDS.get(object_type)
            return normalise(kind, value) if kind is not None else None
        if len(keys) != 2:
            return None
        if keys[0] == "hashes" and object_type in _HASHED_TYPES:
            kind = kind_for_hash_name(keys[1])
            return normalise(kind, value) if kind is not None else None
        if keys[1] != "value":
            return None
        if object_type == "email-message" and keys[0] in _EMAIL_REFS:
            return normalise("email", value)
        if object_type == "network-traffic" and keys[0] in _TRAFFIC_REFS:
            # The ref may point at an ipv4-addr, ipv6-addr or domain-name object.
            try:
                return parse_address(value)
            except ObservableError:
                return normalise_domain(value)
    except ObservableError:
        return None
    return None


def _dedupe(pairs: Iterable[tuple[str, Observable]]) -> tuple[tuple[str, Observable], ...]:
    return tuple(dict.fromkeys(pairs))


# --- the fast path --------------------------------------------------------------------------

# Only the grammar's most common whitespace; anything rarer (or a comment) goes to the parser.
_WS: Final = r"[ \t\r\n]*"
_STRING: Final = r"'(?:[^'\\]|\\['\\])*'"
_KEY: Final = rf"(?:[A-Za-z_][A-Za-z0-9_]*|{_STRING})"
_OPEN: Final = re.compile(rf"{_WS}\[{_WS}")
# A value is a string, or a plain non-negative integer (``network-traffic:dst_port = 443``:
# the grammar's IntPosLiteral without its optional sign), which indexes nothing.
_COMPARISON: Final = re.compile(
    rf"(?P<type>[A-Za-z_][A-Za-z0-9_-]*):(?P<path>{_KEY}(?:\.{_KEY})*)"
    rf"{_WS}={_WS}(?:(?P<value>{_STRING})|(?:0|[1-9][0-9]*)(?![0-9A-Za-z_.:'-]))"
)
_KEY_STEP: Final = re.compile(rf"\.?({_KEY})")
_JOIN: Final = re.compile(r"[ \t\r\n]+(?:AND|OR)[ \t\r\n]+")
_CLOSE: Final = re.compile(rf"{_WS}\]{_WS}\Z")
# Paths whose keys `_KEY_STEP` would find anyway, split once.
_PLAIN_PATHS: Final[dict[str, tuple[str, ...]]] = {
    "value": ("value",),
    "src_ref.value": ("src_ref", "value"),
    "dst_ref.value": ("dst_ref", "value"),
    "src_ref.type": ("src_ref", "type"),
    "dst_ref.type": ("dst_ref", "type"),
    "src_port": ("src_port",),
    "dst_port": ("dst_port",),
    "from_ref.value": ("from_ref", "value"),
    "sender_ref.value": ("sender_ref", "value"),
    "name": ("name",),
    **{
        f"hashes.{quoted}": ("hashes", name)
        for name in ("MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH")
        for quoted in (name, f"'{name}'")
        if "-" not in quoted or quoted.startswith("'")
    },
}


def _split_keys(path: str) -> list[str] | None:
    if path in _PLAIN_PATHS:  # "value", "hashes.MD5", ...: most paths of most patterns
        return list(_PLAIN_PATHS[path])
    keys: list[str] = []
    for match in _KEY_STEP.finditer(path):
        key = match.group(1)
        if key.startswith("'"):
            keys.append(_string_value(key))
        elif key in _KEYWORDS:
            return None  # the grammar lexes it as a keyword: not for the fast path to judge
        else:
            keys.append(key)
    return keys


@functools.lru_cache(maxsize=1024)
def _plain_path(object_type: str, keys: tuple[str, ...]) -> str:
    return format_path(object_type, keys, frozenset())


def fast_path_observables(pattern: str) -> PatternObservables | None:
    """The result for a pattern of the form `[a:p = 'v' OR b:q = 'w' AND ...]`, without
    ANTLR; None when the pattern is not of that form (the parser must decide).

    Never accepts a pattern the grammar rejects; tests compare it with `parse_observables`.
    """
    opened = _OPEN.match(pattern)
    if opened is None:
        return None
    position = opened.end()
    pairs: list[tuple[str, Observable]] = []
    while True:
        comparison = _COMPARISON.match(pattern, position)
        if comparison is None:
            return None
        object_type = comparison.group("type")
        keys = _split_keys(comparison.group("path"))
        if object_type in _KEYWORDS or keys is None:
            return None
        value = comparison.group("value")
        observable = (
            None if value is None else observable_at(object_type, keys, _string_value(value))
        )
        if observable is not None:
            pairs.append((_plain_path(object_type, tuple(keys)), observable))
        position = comparison.end()
        joined = _JOIN.match(pattern, position)
        if joined is None:
            break
        position = joined.end()
    if _CLOSE.match(pattern, position) is None:
        return None
    return PatternObservables(list(_dedupe(pairs)), simple=True)


# --- the parser -----------------------------------------------------------------------------


def _not_simple(self: _Collector, ctx: Any) -> None:
    """Listener event for anything that makes a pattern more than '=' joined by AND/OR."""
    self.simple = False


def _collector_class() -> type[_Collector]:
    # Imported here: ANTLR and the generated parser take ~0.1 s to import, and most callers
    # never get past the fast path.
    from stix2patterns.v21.grammars.STIXPatternListener import STIXPatternListener

    class Collector(_Collector, STIXPatternListener):  # type: ignore[misc]
        exitObservationExpressionStartStop = _not_simple
        exitObservationExpressionWithin = _not_simple
        exitObservationExpressionRepeated = _not_simple
        exitPropTestOrder = _not_simple
        exitPropTestLike = _not_simple
        exitPropTestRegex = _not_simple
        exitPropTestExists = _not_simple

    return Collector


class _Collector:
    """Listener state: the object path being read and what has been found so far.

    Events fire in text order; a comparison's path events come before its exit event.
    """

    def __init__(self) -> None:
        self.simple = True
        self.pairs: list[tuple[str, Observable]] = []
        self._type = ""
        self._steps: list[Step] = []
        self._index_steps: set[int] = set()

    # observation level
    def exitObservationExpressions(self, ctx: Any) -> None:
        if ctx.FOLLOWEDBY() is not None:
            self.simple = False

    # object paths
    def exitObjectType(self, ctx: Any) -> None:
        self._type = ctx.getText()

    def exitFirstPathComponent(self, ctx: Any) -> None:
        literal = ctx.StringLiteral()
        self._steps = [_string_value(literal.getText()) if literal else ctx.getText()]
        self._index_steps = set()

    def exitKeyPathStep(self, ctx: Any) -> None:
        literal = ctx.StringLiteral()
        if literal is None:
            self._steps.append(ctx.IdentifierWithoutHyphen().getText())
        else:
            self._steps.append(_string_value(literal.getText()))

    def exitIndexPathStep(self, ctx: Any) -> None:
        self._index_steps.add(len(self._steps))
        self._steps.append(ctx.getText())

    # comparisons
    def _add(self, literal: Any) -> None:
        if literal is None:
            return  # not a string: numbers, booleans, binary, timestamps index nothing
        keys = [] if self._index_steps else self._steps
        observable = observable_at(self._type, keys, _string_value(literal.getText()))
        if observable is not None:
            path = format_path(self._type, self._steps, frozenset(self._index_steps))
            self.pairs.append((path, observable))

    def exitPropTestEqual(self, ctx: Any) -> None:
        negated = ctx.NOT() is not None
        equal = ctx.EQ() is not None
        if negated or not equal:
            self.simple = False
        if negated != equal:  # "=" or "NOT !="
            self._add(_string_literal(ctx.primitiveLiteral()))

    def exitPropTestSet(self, ctx: Any) -> None:
        self.simple = False
        if ctx.NOT() is None:
            for literal in ctx.setLiteral().primitiveLiteral():
                self._add(_string_literal(literal))

    def _exit_subset(self, ctx: Any) -> None:
        self.simple = False
        if ctx.NOT() is None and self._type in _ADDRESS_TYPES:
            self._add(ctx.StringLiteral())

    exitPropTestIsSubset = _exit_subset
    exitPropTestIsSuperset = _exit_subset


def _string_literal(primitive: Any) -> Any:
    orderable = primitive.orderableLiteral()
    return None if orderable is None else orderable.StringLiteral()


@functools.cache
def _collector() -> type[_Collector]:
    return _collector_class()


def parse_observables(pattern: str) -> PatternObservables:
    """The result for any pattern, always through the ANTLR parser (uncached).

    Raises `PatternError` with the parser's message for an invalid pattern.
    """
    from stix2patterns.exceptions import ParseException
    from stix2patterns.v21.pattern import Pattern

    try:
        tree = Pattern(pattern)
    except ParseException as exc:
        raise PatternError(str(exc)) from None
    except RecursionError:
        raise PatternError("pattern is nested too deeply to parse") from None
    collector = _collector()()
    tree.walk(collector)
    return PatternObservables(list(_dedupe(collector.pairs)), collector.simple)


# --- writing patterns -------------------------------------------------------------------------


def quote_literal(value: str) -> str:
    """A pattern string literal (STIX 2.1 section 9.3: "\\" and "'" escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern_for(observable: Observable, port: int | None = None) -> str:
    """The STIX pattern that matches one observable (a file by its hash; an address at
    ``port`` as the destination of network traffic)."""
    value = quote_literal(observable.value)
    hash_name = HASH_NAME_OF_KIND.get(observable.kind)
    if hash_name is not None:
        return f"[file:hashes.'{hash_name}' = {value}]"
    sco = SCO_TYPE_OF_KIND[observable.kind]
    if port is not None:
        return (
            f"[network-traffic:dst_ref.type = '{sco}' AND "
            f"network-traffic:dst_ref.value = {value} AND network-traffic:dst_port = {port}]"
        )
    return f"[{sco}:value = {value}]"


# --- the cached entry points ----------------------------------------------------------------

_Analysis = tuple[tuple[tuple[str, Observable], ...], bool] | str


@functools.lru_cache(maxsize=4096)
def _analyse(pattern: str) -> _Analysis:
    result = fast_path_observables(pattern)
    if result is None:
        try:
            result = parse_observables(pattern)
        except PatternError as exc:
            return str(exc)
    return tuple(result.observables), result.simple


def observables_from_pattern(pattern: str) -> PatternObservables:
    """What `pattern` can be looked up by; raises `PatternError` if it is not valid STIX 2.1."""
    analysis = _analyse(pattern)
    if isinstance(analysis, str):
        raise PatternError(analysis)
    pairs, simple = analysis
    return PatternObservables(list(pairs), simple)


def pattern_problem(pattern: str) -> str | None:
    """None if `pattern` parses as a STIX 2.1 pattern, else the parser's reason."""
    analysis = _analyse(pattern)
    return analysis if isinstance(analysis, str) else None


@functools.lru_cache(maxsize=4096)
def _problem_v20(pattern: str) -> str | None:
    """None if `pattern` parses with the STIX 2.0 grammar, else the parser's reason. The fast
    path's shape means the same in both grammars, so what it accepts needs no parser."""
    if fast_path_observables(pattern) is not None:
        return None
    from stix2patterns.exceptions import ParseException
    from stix2patterns.v20.pattern import Pattern

    try:
        Pattern(pattern)
    except ParseException as exc:
        return str(exc)
    except RecursionError:
        return "pattern is nested too deeply to parse"
    return None


def pattern_problem_for(pattern: str, stix_version: str) -> str | None:
    """None if `pattern` parses with the grammar of STIX ``stix_version`` ("2.0" or "2.1"),
    else the parser's reason (with the line and column where it failed)."""
    if stix_version == "2.0":
        return _problem_v20(pattern)
    return pattern_problem(pattern)
