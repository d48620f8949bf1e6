"""Object paths: the values a path selects from one object of an observation.

STIX 2.1 section 9.6 (object path syntax): key steps, list indexes (`[0]`, and `[*]` for
every element, each tested on its own), and references: a step onto a property named
`*_ref` continues at the object it names, `*_refs` at the list of objects it names, both
resolved among the objects of the same observation. A step that cannot be taken drops the
value; a reference that does not resolve is dropped, as in the OASIS matcher.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from accord.match.patterns.errors import PatternEvaluationError
from accord.match.patterns.observations import Observation
from accord.match.patterns.syntax import IndexStep, ObjectPath

Selector = Callable[[Observation, Any], list[Any]]


def _suffixed(name: str, value: Any) -> Any:
    """A value of a `*_hex` or `*_bin` property is binary (STIX 2.1 section 2.2)."""
    try:
        if name.endswith("_hex"):
            return binascii.a2b_hex(value)
        if name.endswith("_bin"):
            return base64.standard_b64decode(value)
    except (binascii.Error, ValueError, TypeError):
        raise PatternEvaluationError(f"{name}: {value!r} is not valid binary") from None
    return value


def _resolve(observation: Observation, references: list[Any], name: str) -> list[Any]:
    out = []
    for reference in references:
        if not isinstance(reference, str):
            raise PatternEvaluationError(f"a value of reference property {name!r} is not a string")
        target = observation.objects.get(reference)
        if target is not None:
            out.append(target)
    return out


def selector(path: ObjectPath) -> Selector:
    """The function that gives the values `path` selects from one root object."""
    steps = path.steps
    if len(steps) == 1 and not isinstance(steps[0], IndexStep):
        name = steps[0].name
        if not (name.endswith(("_ref", "_refs", "_hex", "_bin"))):

            def one_key(observation: Observation, root: Any) -> list[Any]:
                return [root[name]] if name in root else []

            return one_key

    def select(observation: Observation, root: Any) -> list[Any]:
        values = [root]
        for step in steps:
            if isinstance(step, IndexStep):
                if step.index is None:
                    values = [item for value in values if isinstance(value, list) for item in value]
                else:
                    index = step.index
                    values = [
                        value[index]
                        for value in values
                        if isinstance(value, list) and 0 <= index < len(value)
                    ]
            else:
                name = step.name
                values = [
                    _suffixed(name, value[name])
                    for value in values
                    if isinstance(value, dict) and name in value
                ]
                if name.endswith("_ref"):
                    values = _resolve(observation, values, name)
                elif name.endswith("_refs"):
                    lists = []
                    for value in values:
                        if not isinstance(value, list):
                            raise PatternEvaluationError(
                                f"the value of reference list property {name!r} is not a list"
                            )
                        resolved = _resolve(observation, value, name)
                        if resolved:
                            lists.append(resolved)
                    values = lists
            if not values:
                return values
        return values

    return select
