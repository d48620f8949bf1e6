"""Many patterns against a stream of observations: compile once, touch only candidates.

Each bracket (`[...]`) of every pattern gets triggers, a necessary condition for it to
match that can be looked up from the observation's own values:

- `=` and `IN`: the exact value at the path, in one hash map;
- `ISSUBSET` a CIDR: the address at the path, by its prefixes (one map per prefix length);
- `LIKE '%text'` and `LIKE 'text%'` (the common shapes: a domain and its subdomains, a URL
  prefix): the value's ends, by length, in hash maps;
- other `LIKE` and `MATCHES`: one Hyperscan database per object path, scanned with the value;
- `<`, `>`, `<=`, `>=` on numbers: thresholds sorted per path, found by bisection;
- anything else (`!=`, NOT, EXISTS, timestamps, regular expressions Hyperscan cannot take):
  the object type alone.

An AND needs any one side, so it takes the side with the sharpest triggers; an OR needs one
of its sides, so it takes the triggers of both. A bracket whose trigger fires is then judged
exactly, by the same evaluator as a single pattern (`accord.match.patterns.evaluate`), and a
pattern of several brackets is judged from its brackets' results: the index never decides a
match, it only saves work, so its answers are the engine's answers.

Each observation is judged on its own (a pattern of several brackets can still match one
observed-data that was seen several times: `number_observed`).
"""

from __future__ import annotations

import bisect
import math
import time
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from accord.match.patterns import CompiledPattern, compile_pattern
from accord.match.patterns.errors import PatternError, PatternEvaluationError
from accord.match.patterns.evaluate import Roots, RootsFunction, chain
from accord.match.patterns.observations import Observation
from accord.match.patterns.predicates import like_to_regex, network_of
from accord.match.patterns.selection import Selector, selector
from accord.match.patterns.syntax import (
    Bracket,
    Comparison,
    ComparisonExpression,
    ObjectPath,
)
from accord.store.gc_pause import collector_paused

PathKey = tuple[str, str]
"""(object type, canonical path text)."""

# Trigger kinds, sharpest first: AND keeps the side whose worst trigger is sharpest.
_EQ, _AFFIX, _NET, _REGEX, _ORDER, _TYPE = range(6)

# Regular expressions whose meaning in Hyperscan might differ from Python's, or that it
# cannot take: left to the object-type trigger (and judged by Python's engine).
_UNSAFE_REGEX: Final = (
    *("[:", r"\Z", r"\z", r"\N", r"\G"),  # POSIX classes, anchors that differ
    *("(?P", "(?#", "(?<", "(?=", "(?!"),  # named groups, comments, lookarounds
    *(f"\\{digit}" for digit in range(1, 10)),  # back-references
)


@dataclass(frozen=True, slots=True)
class _Trigger:
    kind: int
    path: PathKey
    key: Any = None
    """eq: the value key; net: (version, prefix length, masked address); regex: the regular
    expression; order: (operator, number)."""


def _value_key(value: Any) -> Hashable | None:
    """The equality key of a value: equal values (by the engine's `=`) share it."""
    kind = type(value)
    if kind is str:
        return ("s", value)
    if kind is bytes:
        return ("s", value.decode("latin-1"))
    if kind is bool:
        return ("b", value)
    if kind is int or kind is float:
        return ("n", value)
    return None


def _member_keys(value: Any) -> list[Hashable]:
    """Keys a value of an IN set can be found by (Python's `in` finds 1 for True)."""
    if type(value) is bool:
        return [("b", value), ("n", int(value))]
    key = _value_key(value)
    if key is None:
        return []
    if type(value) in (int, float) and value in (0, 1):
        return [key, ("b", bool(value))]
    return [key]


def _network_key(text: str) -> tuple[int, int, int] | None:
    """(IP version, prefix length, network bits) of an ISSUBSET operand, read exactly as the
    comparison reads it (`predicates.network_of`), so that the trigger and the test agree."""
    try:
        version, address, prefix = network_of(text, address_allowed=False)
    except PatternEvaluationError:
        return None
    return version, prefix, address >> ((32 if version == 4 else 128) - prefix)


def _address_int(value: Any) -> tuple[int, int] | None:
    """(IP version, first address) of a value, as the comparison reads it; None if it is not
    an address or network (the comparison would fail on it: not a candidate)."""
    if type(value) is not str:
        return None
    try:
        version, address, _ = network_of(value, address_allowed=True)
    except PatternEvaluationError:
        return None
    return version, address


def _triggers(expression: ComparisonExpression) -> list[_Trigger]:
    if isinstance(expression, Comparison):
        return _comparison_triggers(expression)
    operands = [_triggers(operand) for operand in chain(expression)]
    if expression.operator == "OR":
        return [trigger for triggers in operands for trigger in triggers]
    return min(operands, key=_sharpness)


def _sharpness(triggers: list[_Trigger]) -> tuple[int, int]:
    """Lower is sharper: the bluntest trigger's kind, then how many."""
    return max(trigger.kind for trigger in triggers), len(triggers)


def _comparison_triggers(test: Comparison) -> list[_Trigger]:
    path = (test.path.object_type, test.path.text())
    type_only = [_Trigger(_TYPE, path)]
    if test.negated or test.operator in ("!=", "EXISTS", "ISSUPERSET"):
        return type_only
    if test.operator == "=":
        key = _value_key(test.value)
        return type_only if key is None else [_Trigger(_EQ, path, key)]
    if test.operator == "IN":
        assert isinstance(test.value, tuple)
        keys = [key for member in test.value for key in _member_keys(member)]
        if len(keys) < len(test.value):  # a member with no key (a timestamp)
            return type_only
        return [_Trigger(_EQ, path, key) for key in keys]
    if test.operator == "ISSUBSET":
        network = _network_key(str(test.value))
        return type_only if network is None else [_Trigger(_NET, path, network)]
    if test.operator in ("LIKE", "MATCHES"):
        text = unicodedata.normalize("NFC", str(test.value))
        if test.operator == "LIKE" and "_" not in text and text.count("%") == 1:
            if text.startswith("%"):
                return [_Trigger(_AFFIX, path, ("suffix", text[1:]))]
            if text.endswith("%"):
                return [_Trigger(_AFFIX, path, ("prefix", text[:-1]))]
        expression = like_to_regex(text) if test.operator == "LIKE" else text
        if any(marker in expression for marker in _UNSAFE_REGEX):
            return type_only
        return [_Trigger(_REGEX, path, expression)]
    if type(test.value) in (int, float) and not (
        isinstance(test.value, float) and math.isnan(test.value)
    ):
        return [_Trigger(_ORDER, path, (test.operator, test.value))]
    return type_only


@dataclass(slots=True)
class _Entry:
    """One pattern of the index."""

    key: Hashable
    pattern: CompiledPattern
    brackets: list[int]
    """Global numbers of its brackets, in the pattern's order."""
    lone: bool
    """The pattern is one bracket, unqualified: it matches iff the bracket does."""


@dataclass(slots=True)
class _PathIndex:
    """Everything indexed at one (object type, path)."""

    select: Selector
    equal: dict[Hashable, list[int]] = field(default_factory=dict)
    networks: dict[tuple[int, int, int], list[int]] = field(default_factory=dict)
    prefixes: dict[int, set[int]] = field(default_factory=dict)
    """IP version -> prefix lengths present."""
    affixes: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    """("suffix" | "prefix", text) -> brackets (LIKE '%text', LIKE 'text%')."""
    affix_lengths: dict[str, set[int]] = field(default_factory=dict)
    regexes: list[tuple[str, int]] = field(default_factory=list)
    database: Any = None
    thresholds: dict[str, tuple[list[float], list[int]]] = field(default_factory=dict)
    """operator -> (sorted numbers, their brackets)."""
    pending_thresholds: dict[str, list[tuple[float, int]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IndexStats:
    patterns: int
    brackets: int
    by_trigger: dict[str, int]
    regexes: int
    regexes_left_to_python: int
    compile_seconds: float


class PatternIndex:
    """A set of patterns, compiled once, judged against each observation of a stream."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._roots: list[RootsFunction] = []
        self._bracket_entry: list[int] = []
        self._exact: list[bool] = []
        """Per bracket: one `=` test whose trigger is the test itself (no check needed)."""
        self._paths: dict[PathKey, _PathIndex] = {}
        self._by_type: dict[str, list[int]] = {}
        self._paths_by_type: dict[str, list[_PathIndex]] = {}
        self._counts = dict.fromkeys(("eq", "affix", "net", "regex", "order", "type"), 0)
        self._python_regexes = 0
        self._compile_seconds = 0.0
        self._ready = False

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, key: Hashable, pattern: str, stix_version: str = "2.1") -> None:
        """Add a pattern; raises `PatternError` if it does not compile (nothing is added)."""
        started = time.perf_counter()
        compiled = compile_pattern(pattern, stix_version)
        brackets = compiled.evaluator.brackets
        numbers = list(range(len(self._roots), len(self._roots) + len(brackets)))
        entry_number = len(self._entries)
        for number, bracket in zip(numbers, brackets, strict=True):
            self._roots.append(compiled.evaluator.bracket_roots[numbers.index(number)])
            self._bracket_entry.append(entry_number)
            self._add_bracket(number, bracket)
        self._entries.append(_Entry(key, compiled, numbers, isinstance(compiled.tree, Bracket)))
        self._ready = False
        self._compile_seconds += time.perf_counter() - started

    def add_many(
        self,
        patterns: Iterable[tuple[Hashable, str]],
        stix_version: str = "2.1",
        refused: list[tuple[Hashable, PatternError]] | None = None,
    ) -> None:
        """Add many patterns. One that does not compile raises, or, given a `refused` list,
        is reported there and the others are added.

        The cyclic garbage collector is paused meanwhile: the patterns' trees, closures and
        regular expressions are tens of objects each and all live on, and the collector, which
        walks every live object each time the heap grows by a quarter, spent two thirds of the
        time of 100,000 `add` calls (bench/patterns.py). Reference counting still frees as
        usual, and the collector runs again afterwards (`accord.store.gc_pause`)."""
        with collector_paused():
            for key, text in patterns:
                try:
                    self.add(key, text, stix_version)
                except PatternError as exc:
                    if refused is None:
                        raise
                    refused.append((key, exc))

    def _path(self, path: ObjectPath) -> _PathIndex:
        key = (path.object_type, path.text())
        found = self._paths.get(key)
        if found is None:
            found = self._paths[key] = _PathIndex(selector(path))
            self._paths_by_type.setdefault(path.object_type, []).append(found)
        return found

    def _add_bracket(self, number: int, bracket: Bracket) -> None:
        triggers = _triggers(bracket.expression)
        expression = bracket.expression
        self._exact.append(
            isinstance(expression, Comparison)
            and expression.operator == "="
            and not expression.negated
            and triggers[0].kind == _EQ
        )
        for trigger in triggers:
            object_type = trigger.path[0]
            if trigger.kind == _TYPE:
                self._counts["type"] += 1
                self._by_type.setdefault(object_type, []).append(number)
                continue
            index = self._path(self._find_path(expression, trigger))
            if trigger.kind == _EQ:
                self._counts["eq"] += 1
                index.equal.setdefault(trigger.key, []).append(number)
            elif trigger.kind == _AFFIX:
                self._counts["affix"] += 1
                side, text = trigger.key
                index.affixes.setdefault(trigger.key, []).append(number)
                index.affix_lengths.setdefault(side, set()).add(len(text))
            elif trigger.kind == _NET:
                self._counts["net"] += 1
                version, prefix, _ = trigger.key
                index.networks.setdefault(trigger.key, []).append(number)
                index.prefixes.setdefault(version, set()).add(prefix)
            elif trigger.kind == _REGEX:
                self._counts["regex"] += 1
                index.regexes.append((trigger.key, number))
                index.database = None  # rebuilt with the new expression at the next compile
            else:
                self._counts["order"] += 1
                operator, value = trigger.key
                index.pending_thresholds.setdefault(operator, []).append((value, number))

    @staticmethod
    def _find_path(expression: ComparisonExpression, trigger: _Trigger) -> ObjectPath:
        stack = [expression]
        while stack:
            node = stack.pop()
            if isinstance(node, Comparison):
                if (node.path.object_type, node.path.text()) == trigger.path:
                    return node.path
            else:
                stack.extend((node.left, node.right))
        raise AssertionError(trigger)

    # --- compiling -----------------------------------------------------------------------

    def compile(self) -> None:
        """Build what `add` gathered (sorted thresholds, Hyperscan databases). Called by
        `match` when needed; call it yourself to time it."""
        if self._ready:
            return
        started = time.perf_counter()
        for index in self._paths.values():
            for operator, pending in index.pending_thresholds.items():
                merged = sorted(
                    [*zip(*index.thresholds.get(operator, ([], [])), strict=True), *pending]
                )
                index.thresholds[operator] = ([v for v, _ in merged], [n for _, n in merged])
            index.pending_thresholds.clear()
            if index.regexes and index.database is None:
                index.database = self._hyperscan(index)
        self._ready = True
        self._compile_seconds += time.perf_counter() - started

    def _hyperscan(self, index: _PathIndex) -> Any:
        import hyperscan

        flags = hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_UCP | hyperscan.HS_FLAG_SINGLEMATCH
        kept = list(index.regexes)
        while kept:
            database = hyperscan.Database()
            try:
                database.compile(
                    expressions=[expression.encode() for expression, _ in kept],
                    ids=[number for _, number in kept],
                    elements=len(kept),
                    flags=[flags] * len(kept),
                )
            except hyperscan.error as exc:
                # Find the expressions Hyperscan refuses; they fall back to their type.
                refused = self._refused(kept, flags, hyperscan)
                if not refused:
                    raise RuntimeError(f"Hyperscan refused the set: {exc}") from exc
                for expression, number in refused:
                    kept.remove((expression, number))
                    index.regexes.remove((expression, number))
                    self._python_regexes += 1
                    self._fallback(number)
                continue
            return database
        return None

    @staticmethod
    def _refused(kept: list[tuple[str, int]], flags: int, hyperscan: Any) -> list[tuple[str, int]]:
        refused = []
        for expression, number in kept:
            try:
                hyperscan.Database().compile(
                    expressions=[expression.encode()], ids=[number], elements=1, flags=[flags]
                )
            except hyperscan.error:
                refused.append((expression, number))
        return refused

    def _fallback(self, number: int) -> None:
        entry = self._entries[self._bracket_entry[number]]
        bracket = entry.pattern.evaluator.brackets[entry.brackets.index(number)]
        for test in _all_comparisons(bracket.expression):
            self._by_type.setdefault(test.path.object_type, []).append(number)

    # --- matching --------------------------------------------------------------------------

    def candidates(self, observation: Observation) -> set[int]:
        """Brackets whose triggers fire on `observation`."""
        found: set[int] = set()
        for object_type, members in observation.by_type.items():
            typed = self._by_type.get(object_type)
            if typed:
                found.update(typed)
            for index in self._paths_by_type.get(object_type, ()):
                for _, root in members:
                    for value in index.select(observation, root):
                        self._fire(index, value, found)
        return found

    @staticmethod
    def _fire(index: _PathIndex, value: Any, found: set[int]) -> None:
        if index.equal:
            key = _value_key(value)
            if key is not None:
                hits = index.equal.get(key)
                if hits:
                    found.update(hits)
        if index.networks:
            address = _address_int(value)
            if address is not None:
                version, number = address
                bits = 32 if version == 4 else 128
                for prefix in index.prefixes.get(version, ()):
                    hits = index.networks.get((version, prefix, number >> (bits - prefix)))
                    if hits:
                        found.update(hits)
        if index.affixes:
            PatternIndex._fire_affixes(index, value, found)
        if index.database is not None and type(value) is str:
            text = value if value.isascii() else unicodedata.normalize("NFC", value)
            try:
                encoded = text.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates: not for Hyperscan's UTF-8 mode
                found.update(number for _, number in index.regexes)
            else:
                index.database.scan(encoded, match_event_handler=_collect, context=found)
        elif index.regexes and type(value) is bytes:
            found.update(number for _, number in index.regexes)
        if index.thresholds and type(value) in (int, float):
            for operator, (numbers, brackets) in index.thresholds.items():
                if operator == ">":  # value > threshold
                    found.update(brackets[: bisect.bisect_left(numbers, value)])
                elif operator == ">=":
                    found.update(brackets[: bisect.bisect_right(numbers, value)])
                elif operator == "<":
                    found.update(brackets[bisect.bisect_right(numbers, value) :])
                else:
                    found.update(brackets[bisect.bisect_left(numbers, value) :])

    @staticmethod
    def _fire_affixes(index: _PathIndex, value: Any, found: set[int]) -> None:
        if type(value) is bytes:  # LIKE reads binary as UTF-8, or fails: let it judge
            found.update(n for numbers in index.affixes.values() for n in numbers)
            return
        if type(value) is not str:
            return
        text = value if value.isascii() else unicodedata.normalize("NFC", value)
        # LIKE's `$` also matches before a final newline, as Python's does.
        texts = (text, text[:-1]) if text.endswith("\n") else (text,)
        for side, lengths in index.affix_lengths.items():
            for length in lengths:
                for candidate in texts:
                    if len(candidate) < length:
                        continue
                    part = (
                        candidate[len(candidate) - length :]
                        if side == "suffix"
                        else candidate[:length]
                    )
                    hits = index.affixes.get((side, part))
                    if hits:
                        found.update(hits)

    def match(
        self,
        observation: Observation,
        errors: list[tuple[Hashable, PatternEvaluationError]] | None = None,
    ) -> list[Hashable]:
        """Keys of the patterns that match `observation` judged on its own, in the order
        they were added.

        A pattern judged here that cannot be evaluated on this observation
        (`PatternEvaluationError`) raises, or, given an `errors` list, is reported there and
        the others are still judged. A pattern that its triggers rule out is not judged, so
        it raises nothing where, judged alone, it might have (a MATCHES that would time out
        on a value Hyperscan proves it cannot match)."""
        self.compile()
        candidates = self.candidates(observation)
        if not candidates:
            return []
        single = [observation]
        bracket_roots: dict[int, Roots] = {}
        failed: dict[int, PatternEvaluationError] = {}
        for number in candidates:
            entry_number = self._bracket_entry[number]
            if self._exact[number] and self._entries[entry_number].lone:
                bracket_roots[number] = {0: set()}  # the trigger is the test: it passed
                continue
            try:
                roots = self._roots[number](single)
            except PatternEvaluationError as exc:
                if errors is None:
                    raise
                failed.setdefault(entry_number, exc)
                continue
            if roots:
                bracket_roots[number] = roots
        entries = {self._bracket_entry[number] for number in bracket_roots}
        out = []
        for entry_number in sorted(entries | failed.keys()):
            entry = self._entries[entry_number]
            if entry_number in failed:
                assert errors is not None
                errors.append((entry.key, failed[entry_number]))
            elif entry.lone:
                out.append(entry.key)
            else:
                found = [bracket_roots.get(number, {}) for number in entry.brackets]
                evaluator = entry.pattern.evaluator
                if next(evaluator.bindings(evaluator.run(single, found)), None) is not None:
                    out.append(entry.key)
        return out

    def candidate_keys(self, observation: Observation) -> list[Hashable]:
        """Keys of the patterns one of whose brackets' triggers fire on `observation`, in
        the order they were added: the patterns that may match a list of observations that
        holds it (a pattern of several brackets, judged on the whole list by the engine).
        Judges nothing itself."""
        self.compile()
        entries = {self._bracket_entry[number] for number in self.candidates(observation)}
        return [self._entries[number].key for number in sorted(entries)]

    def stats(self) -> IndexStats:
        self.compile()
        return IndexStats(
            patterns=len(self._entries),
            brackets=len(self._roots),
            by_trigger=dict(self._counts),
            regexes=sum(len(index.regexes) for index in self._paths.values()),
            regexes_left_to_python=self._python_regexes,
            compile_seconds=self._compile_seconds,
        )


def _collect(number: int, start: int, end: int, flags: int, found: set[int]) -> None:
    found.add(number)


def _all_comparisons(expression: ComparisonExpression) -> list[Comparison]:
    out: list[Comparison] = []
    stack: list[ComparisonExpression] = [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, Comparison):
            out.append(node)
        else:
            stack.extend((node.left, node.right))
    return out


def build(patterns: Iterable[tuple[Hashable, str]], stix_version: str = "2.1") -> PatternIndex:
    """An index of `patterns` ((key, text) pairs); raises on the first that does not
    compile (`PatternIndex.add_many` can skip those)."""
    index = PatternIndex()
    index.add_many(patterns, stix_version)
    index.compile()
    return index


__all__: Sequence[str] = ["IndexStats", "PatternIndex", "build"]
