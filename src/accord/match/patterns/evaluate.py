"""Evaluating a parsed pattern against observations (STIX 2.1 section 9.7 and 9.8).

Comparison expressions (`[...]`) are judged per observation and give, for each observation
that passes, the root objects that passed: AND keeps the roots that pass both sides (one
object must satisfy both), OR the roots of either.

Observation expressions work on bindings: tuples of observation instances (an observation
counts `number_observed` times) bound to the brackets of the pattern. AND and FOLLOWEDBY
join bindings with no instance in common (FOLLOWEDBY also in time order), OR takes either
side, REPEATS n takes n disjoint bindings, WITHIN and START/STOP filter by time. Bindings are
generated lazily, in the OASIS matcher's order, so that the first binding, and with it the
observed-data a match names, is the one that matcher names.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from accord.match.patterns.errors import PatternEvaluationError
from accord.match.patterns.observations import Observation
from accord.match.patterns.parser import instances
from accord.match.patterns.predicates import predicate
from accord.match.patterns.selection import selector
from accord.match.patterns.syntax import (
    Bracket,
    Comparison,
    ComparisonExpression,
    ComparisonJoin,
    ObservationExpression,
    ObservationJoin,
    Qualified,
    Repeats,
    StartStop,
    Within,
)

Roots = dict[int, set[str]]
"""Observation index -> keys of the root objects that passed, in the order found."""
RootsFunction = Callable[[Sequence[Observation]], Roots]
Instance = tuple[int, int] | None
Binding = tuple[Instance, ...]
Bindings = Callable[["Run"], Iterator[Binding]]


# --- comparison expressions -----------------------------------------------------------------


def chain(expression: ComparisonExpression) -> list[ComparisonExpression]:
    """The operands of a run of one operator (`a OR b OR c`, parsed `(a OR b) OR c`), left
    to right: a thousand ORed hashes are a loop, not a thousand nested calls."""
    if isinstance(expression, Comparison):
        return [expression]
    operator = expression.operator
    operands: list[ComparisonExpression] = []
    node: ComparisonExpression = expression
    while isinstance(node, ComparisonJoin) and node.operator == operator:
        operands.append(node.right)
        node = node.left
    operands.append(node)
    operands.reverse()
    return operands


def comparison_roots(expression: ComparisonExpression) -> RootsFunction:
    """The function that judges a comparison expression over a list of observations."""
    if isinstance(expression, Comparison):
        return _test_roots(expression)
    operands = [comparison_roots(operand) for operand in chain(expression)]
    if expression.operator == "AND":

        def every(observations: Sequence[Observation]) -> Roots:
            # Every operand is judged, as the OASIS matcher does: an error on the data in a
            # later operand is an error even when an earlier one already failed.
            results = [operand(observations) for operand in operands]
            out = results[0]
            for rhs in results[1:]:
                kept: Roots = {}
                for index, roots in out.items():
                    other = rhs.get(index)
                    if other is not None:
                        common = roots & other
                        if common:
                            kept[index] = common
                out = kept
            return out

        return every

    def either(observations: Sequence[Observation]) -> Roots:
        results = [operand(observations) for operand in operands]
        out = dict(results[0])
        for rhs in results[1:]:
            for index, roots in rhs.items():
                out[index] = out[index] | roots if index in out else roots
        return out

    return either


def _test_roots(test: Comparison) -> RootsFunction:
    object_type = test.path.object_type
    select = selector(test.path)
    if test.operator == "EXISTS":
        want = not test.negated

        def exists(observations: Sequence[Observation]) -> Roots:
            out: Roots = {}
            for index, observation in enumerate(observations):
                passed = {
                    key
                    for key, root in observation.by_type.get(object_type, ())
                    if bool(select(observation, root)) == want
                }
                if passed:
                    out[index] = passed
            return out

        return exists

    passes = predicate(test)

    def roots(observations: Sequence[Observation]) -> Roots:
        out: Roots = {}
        for index, observation in enumerate(observations):
            candidates = observation.by_type.get(object_type)
            if not candidates:
                continue
            passed = set()
            for key, root in candidates:
                for value in select(observation, root):
                    if passes(value):
                        passed.add(key)
                        break
            if passed:
                out[index] = passed
        return out

    return roots


# --- observation expressions ------------------------------------------------------------------


MAX_STEPS = 1_000_000
"""Candidate bindings one evaluation may try. Joins and REPEATS over many observations can
grow combinatorially; past this the evaluation is an error, not a worker busy for hours."""


class Run:
    """The state of one evaluation: the observations, what each bracket found, and the
    steps left of the budget."""

    __slots__ = ("found", "instances", "observations", "steps")

    def __init__(
        self, observations: Sequence[Observation], found: list[Roots], instances: int = 1 << 30
    ) -> None:
        self.observations = observations
        self.found = found
        self.instances = instances
        """How many instances of one observation to bind at most (see `Evaluator`)."""
        self.steps = MAX_STEPS

    def spend(self, steps: int = 1) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise PatternEvaluationError(
                f"the pattern needs more than {MAX_STEPS:,} candidate combinations of these "
                "observations; evaluate fewer observations at once"
            )

    def first_observed(self, instance: tuple[int, int]) -> datetime.datetime:
        return self.observations[instance[0]].first

    def last_observed(self, instance: tuple[int, int]) -> datetime.datetime:
        return self.observations[instance[0]].last


def _disjoint(first: Binding, second: Binding) -> bool:
    taken = {instance for instance in first if instance is not None}
    return taken.isdisjoint(instance for instance in second if instance is not None)


def _interleave_join(
    run: Run,
    lhs: Iterator[Binding],
    rhs: Iterator[Binding],
    accept: Callable[[Binding, Binding], bool],
) -> Iterator[Binding]:
    """All (l + r) with accept(l, r), in the matcher's order: the two sides are drawn in
    turn, and each new binding is joined with those drawn before from the other side."""
    lhs_seen: list[Binding] = []
    rhs_seen: list[Binding] = []
    next_rhs = next(rhs, None)
    next_lhs = next(lhs, None)
    if next_rhs is None or next_lhs is None:
        return
    while next_rhs is not None or next_lhs is not None:
        if next_rhs is not None:
            run.spend(len(lhs_seen) + 1)
            for left in lhs_seen:
                if accept(left, next_rhs):
                    yield left + next_rhs
            rhs_seen.append(next_rhs)
            next_rhs = next(rhs, None)
        if next_lhs is not None:
            run.spend(len(rhs_seen) + 1)
            for right in rhs_seen:
                if accept(next_lhs, right):
                    yield next_lhs + right
            lhs_seen.append(next_lhs)
            next_lhs = next(lhs, None)


def observation_bindings(expression: ObservationExpression, brackets: list[Bracket]) -> Bindings:
    """The generator of bindings of `expression`; `brackets` collects its brackets in
    order (their comparison results are computed once per run, into `Run.found`)."""
    if isinstance(expression, Bracket):
        slot = len(brackets)
        brackets.append(expression)

        def simple(run: Run) -> Iterator[Binding]:
            observations = run.observations
            return (
                ((index, copy),)
                for index in run.found[slot]
                for copy in range(min(observations[index].count, run.instances))
            )

        return simple
    if isinstance(expression, Qualified):
        return _qualified(expression, brackets)
    assert isinstance(expression, ObservationJoin)
    left = observation_bindings(expression.left, brackets)
    right = observation_bindings(expression.right, brackets)
    if expression.operator == "AND":
        return lambda run: _interleave_join(run, left(run), right(run), _disjoint)
    if expression.operator == "FOLLOWEDBY":

        def followed_by(run: Run) -> Iterator[Binding]:
            def in_order(before: Binding, after: Binding) -> bool:
                if not _disjoint(before, after):
                    return False
                latest_first = max(run.first_observed(i) for i in before if i is not None)
                earliest_last = min(run.last_observed(i) for i in after if i is not None)
                return latest_first <= earliest_last

            return _interleave_join(run, left(run), right(run), in_order)

        return followed_by
    left_none: Binding = (None,) * instances(expression.left)
    right_none: Binding = (None,) * instances(expression.right)

    def either(run: Run) -> Iterator[Binding]:
        lhs, rhs = left(run), right(run)
        next_lhs, next_rhs = next(lhs, None), next(rhs, None)
        while next_lhs is not None or next_rhs is not None:
            if next_lhs is not None:
                yield next_lhs + right_none
                next_lhs = next(lhs, None)
            if next_rhs is not None:
                yield left_none + next_rhs
                next_rhs = next(rhs, None)

    return either


def _qualified(expression: Qualified, brackets: list[Bracket]) -> Bindings:
    inner = observation_bindings(expression.expression, brackets)
    qualifier = expression.qualifier
    if isinstance(qualifier, Repeats):
        times = qualifier.times
        if times == 1:
            return inner
        return lambda run: (
            tuple(itertools.chain.from_iterable(combination))
            for combination in _combinations(run, inner(run), times)
        )
    if isinstance(qualifier, Within):
        span = datetime.timedelta(seconds=qualifier.seconds)

        def within(run: Run) -> Iterator[Binding]:
            for binding in inner(run):
                intervals = [
                    (run.first_observed(i), run.last_observed(i)) for i in binding if i is not None
                ]
                if _intervals_within(intervals, span):
                    yield binding

        return within
    assert isinstance(qualifier, StartStop)
    start, stop = qualifier.start, qualifier.stop

    def start_stop(run: Run) -> Iterator[Binding]:
        if start >= stop:
            return
        for binding in inner(run):
            if all(
                _overlap(start, stop, run.first_observed(i), run.last_observed(i))
                in (_OVERLAP, _TOUCH_OUTER)
                for i in binding
                if i is not None
            ):
                yield binding

    return start_stop


# --- time ------------------------------------------------------------------------------------

_NONE, _OVERLAP, _TOUCH_INNER, _TOUCH_OUTER, _TOUCH_POINT = range(5)


def _overlap(min1: Any, max1: Any, min2: Any, max2: Any) -> int:
    """How [min1, max1] and [min2, max2] meet: touching at a point, at the inner end (max1 ==
    min2), at the outer end (max2 == min1), overlapping, or not at all."""
    if min1 == max1 == min2 == max2:
        return _TOUCH_POINT
    if max1 == min2:
        return _TOUCH_INNER
    if max2 == min1:
        return _TOUCH_OUTER
    if min2 <= max1 and min1 <= max2:
        return _OVERLAP
    return _NONE


def _intervals_within(
    intervals: list[tuple[datetime.datetime, datetime.datetime]], span: datetime.timedelta
) -> bool:
    """Whether one moment can be chosen in each interval with all of them within `span`:
    the window that starts at the earliest end is the best candidate (any window further
    left loses that interval, any further right reaches no more)."""
    earliest_last = min(last for _, last in intervals)
    window_end = earliest_last + span
    return all(_overlap(first, last, earliest_last, window_end) for first, last in intervals)


# --- REPEATS: disjoint combinations --------------------------------------------------------------


class _NotEnough(ValueError):
    pass


def _count(binding: Binding) -> int:
    return sum(instance is not None for instance in binding)


def _largest_combination(bindings: list[Binding]) -> int:
    """An upper bound on how many disjoint bindings `bindings` can give."""
    if not bindings:
        return 0
    largest = max(_count(binding) for binding in bindings)
    by_size: list[set[tuple[int, int]]] = [set() for _ in range(largest + 1)]
    for binding in bindings:
        by_size[_count(binding)] |= {i for i in binding if i is not None}
    consumed: set[tuple[int, int]] = set()
    total = 0
    for size in range(1, largest):
        available = by_size[size] - consumed
        total += -(-len(available) // size)
        consumed |= available
    total += len(by_size[largest] - consumed) // largest
    return total


def _combinations_of_list(
    run: Run, bindings: list[Binding], size: int
) -> Iterator[tuple[Binding, ...]]:
    run.spend(len(bindings) + 1)
    if size == 1:
        for binding in bindings:
            yield (binding,)
        return
    bound = _largest_combination(bindings)
    if bound < size:
        raise _NotEnough(size - bound)
    for position in range(len(bindings) + 1 - size):
        head = bindings[position]
        rest = bindings[position + 1 :]
        disjoint = [candidate for candidate in rest if _disjoint(head, candidate)]
        yielded = False
        try:
            for tail in _combinations_of_list(run, disjoint, size - 1):
                yield (head, *tail)
                yielded = True
        except _NotEnough as exc:
            if yielded:
                continue
            missing = exc.args[0]
            recoverable = min(len(rest) - len(disjoint), _count(head))
            if missing + 1 - recoverable > 0:
                if position == 0:
                    raise _NotEnough(missing + 1 - recoverable) from None
                return


def _combinations(
    run: Run, bindings: Iterator[Binding], size: int
) -> Iterator[tuple[Binding, ...]]:
    """Disjoint combinations of `size` bindings, built as bindings arrive."""
    drawn = [binding for _, binding in zip(range(size - 1), bindings, strict=False)]
    for binding in bindings:
        disjoint = [candidate for candidate in drawn if _disjoint(candidate, binding)]
        try:
            for head in _combinations_of_list(run, disjoint, size - 1):
                yield (*head, binding)
        except _NotEnough:
            pass
        drawn.append(binding)


# --- the compiled pattern -----------------------------------------------------------------------


class Evaluator:
    """A pattern's tree turned into functions, ready to judge observations."""

    __slots__ = ("bindings", "bracket_roots", "brackets", "instances")

    def __init__(self, expression: ObservationExpression) -> None:
        self.brackets: list[Bracket] = []
        self.bindings = observation_bindings(expression, self.brackets)
        self.bracket_roots = [comparison_roots(bracket.expression) for bracket in self.brackets]
        self.instances = instances(expression)
        """A binding holds this many instances, so it can use no more instances of any one
        observation; and instances of one observation are interchangeable (same times, no
        other identity). Binding more is useless, and `number_observed: 1000000` must not
        make a million of them."""

    def run(self, observations: Sequence[Observation], found: list[Roots]) -> Run:
        return Run(observations, found, self.instances)

    def first_binding(self, observations: Sequence[Observation]) -> list[int]:
        """The observations of the first binding found, in order, each once; [] if none."""
        found = [roots(observations) for roots in self.bracket_roots]
        run = self.run(observations, found)
        binding = next(self.bindings(run), None)
        if binding is None:
            return []
        # As the OASIS matcher: an observation is named by its first instance only.
        named = sorted({i[0] for i in binding if i is not None and i[1] == 0})
        return named
