"""Observed-data against STIX patterns: one pattern given by the caller, or every indicator the
caller may see (`POST /api/v1/patterns/match`, docs/patterns.md).

Every indicator the caller may see, without reading them all: the candidates are the
indicators whose pattern the observations may satisfy, from two prefilters,

- the observable index, for the values in the observations' SCOs (an indicator whose pattern
  pins one of them with `=`: `accord.model.patterns.observable_at` reads the SCO's value as
  the index does), and
- the pattern index of the other indicators (`accord.match.indicator_index`: LIKE, MATCHES,
  ISSUBSET, orderings, ...), any of whose brackets fires on one of the observations,

both read in one statement through the visibility rule
(`accord.store.observables.ObservableIndex.visible_versions`). Each candidate's pattern is
then judged by the engine on the WHOLE list of observations, so that `FOLLOWEDBY`, `REPEATS`
and `WITHIN` work across observed-data. An indicator whose pattern cannot be evaluated on
these observations does not match: the answer never tells that a pattern failed, since the
caller may not know the indicator (principle 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from accord.match.indicator_index import IndicatorPatterns
from accord.match.patterns import (
    CompiledPattern,
    MatchResult,
    Observation,
    PatternError,
    compile_pattern,
    observations,
)
from accord.model.observable_types import Observable
from accord.model.patterns import observable_at
from accord.model.timestamps import timestamp_key
from accord.model.visibility import Viewer
from accord.store.node import Store
from accord.store.objects import now_key

_VALUE_TYPES = frozenset({"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr"})
_HASHED_TYPES = frozenset({"file", "artifact", "x509-certificate"})


@dataclass(frozen=True, slots=True)
class MatchedIndicator:
    id: str
    name: str | None
    pattern: str
    tlp: str
    observed_data_ids: list[str | None]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "pattern": self.pattern,
            "tlp": self.tlp,
            "matched_observed_data_ids": self.observed_data_ids,
        }


def load(observed_data: Sequence[Any], stix_version: str) -> list[Observation]:
    """The observations; raises `PatternEvaluationError` naming ``observed_data[i]``."""
    return observations.load(observed_data, stix_version)


def match_pattern(pattern: str, stix_version: str, observed_data: Sequence[Any]) -> MatchResult:
    """One pattern on the observations; raises `PatternSyntaxError` (line and column) or
    `PatternEvaluationError` (where)."""
    compiled = compile_pattern(pattern, stix_version)
    return compiled.evaluate(load(observed_data, stix_version))


def observables_in(loaded: Sequence[Observation]) -> list[Observable]:
    """The values of the observations' SCOs that the observable index holds, normalised as
    it holds them: addresses, domains, URLs, e-mail addresses, hashes."""
    found: dict[Observable, None] = {}
    for observation in loaded:
        for object_type, members in observation.by_type.items():
            if object_type in _VALUE_TYPES:
                for _, obj in members:
                    value = obj.get("value")
                    if isinstance(value, str):
                        observable = observable_at(object_type, ("value",), value)
                        if observable is not None:
                            found[observable] = None
            elif object_type in _HASHED_TYPES:
                for _, obj in members:
                    hashes = obj.get("hashes")
                    if not isinstance(hashes, dict):
                        continue
                    for name, value in hashes.items():
                        if isinstance(name, str) and isinstance(value, str):
                            observable = observable_at(object_type, ("hashes", name), value)
                            if observable is not None:
                                found[observable] = None
    return list(found)


def _compiled(body: dict[str, Any]) -> CompiledPattern | None:
    pattern = body.get("pattern")
    if not isinstance(pattern, str) or body.get("pattern_type") != "stix":
        return None
    version = body.get("pattern_version")
    first = "2.0" if isinstance(version, str) and version.startswith("2.0") else "2.1"
    for grammar in (first, "2.1" if first == "2.0" else "2.0"):
        try:
            return compile_pattern(pattern, grammar)
        except PatternError:
            continue
    return None


def match_indicators(
    store: Store,
    patterns: IndicatorPatterns,
    viewer: Viewer,
    loaded: Sequence[Observation],
) -> list[MatchedIndicator]:
    """The indicators ``viewer`` may see whose pattern the observations (``loaded``, from
    `load`) match, each once, in storage order."""
    if not loaded:
        return []
    searched = observables_in(loaded)
    with store.engine.connect() as conn:
        patterns.refresh(conn)
        seqs = patterns.candidates(loaded)
        found = store.index.visible_versions(viewer, searched, seqs, conn)
    matched: list[MatchedIndicator] = []
    judged: set[str] = set()
    now = now_key()
    for stored in found:
        if stored.type != "indicator" or stored.revoked or stored.id in judged:
            continue
        body = orjson.loads(stored.raw)
        until = body.get("valid_until")
        if isinstance(until, str) and timestamp_key(until) <= now:
            continue  # expired: it no longer says anything is bad
        compiled = _compiled(body)
        if compiled is None:
            continue
        try:
            result = compiled.evaluate(loaded)
        except PatternError:
            continue  # never says that a pattern, perhaps unknown to the caller, failed
        if not result.matched:
            continue
        judged.add(stored.id)
        name = body.get("name")
        matched.append(
            MatchedIndicator(
                id=stored.id,
                name=name if isinstance(name, str) else None,
                pattern=compiled.text,
                tlp=stored.tlp.label,
                observed_data_ids=result.observed_data_ids,
            )
        )
    return matched
