"""Observables: detection, normalisation and extraction from STIX objects.

This is the module the rest of Accord imports; the work is split by kind into
`addresses`, `domains`, `urls` and `hashes`, and STIX patterns are read by `patterns`.
Design principle 3 ("normalise once, match everywhere"): the store's observable index,
look-up, correlation, allowlists, matching and exports all call these functions, so that
two spellings of one indicator meet.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from accord.model.addresses import supernets
from accord.model.detection import detect, normalise, refang
from accord.model.domains import parent_domains
from accord.model.hashes import hash_kind, kind_for_hash_name
from accord.model.observable_types import KINDS, Kind, Observable, ObservableError
from accord.model.patterns import PatternError, format_path, observables_from_pattern

__all__ = [
    "KINDS",
    "IndexedObservable",
    "Kind",
    "Observable",
    "ObservableError",
    "detect",
    "hash_kind",
    "kind_for_hash_name",
    "normalise",
    "observables_from_object",
    "parent_domains",
    "refang",
    "supernets",
]


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class IndexedObservable:
    """An observable found in a STIX object, with where it was found."""

    observable: Observable
    source: str
    """"sco" (a cyber-observable's own property) or "pattern" (an indicator's pattern)."""
    simple: bool
    """For a pattern, `PatternObservables.simple`; always True for an SCO."""
    path: str
    """Object path it was found at, e.g. "ipv4-addr:value" or "file:hashes.'SHA-256'"."""


# SCO types whose `value` property is the observable (STIX 2.1 sections 6.4-6.6, 6.1, 6.3).
_SCO_VALUE_KINDS: Final[dict[str, str]] = {
    "ipv4-addr": "ipv4",
    "ipv6-addr": "ipv6",
    "domain-name": "domain",
    "url": "url",
    "email-addr": "email",
}
# SCO types with a `hashes` dictionary (STIX 2.1 sections 6.7 file, 6.2 artifact, 6.14
# x509-certificate; a certificate's hashes are its fingerprints, looked up like any hash).
_SCO_HASHED: Final = frozenset({"file", "artifact", "x509-certificate"})


def observables_from_object(obj: Mapping[str, Any]) -> list[IndexedObservable]:
    """Every indexable observable in one STIX object, each observable once.

    Reads SCOs, the `objects` dictionary embedded in STIX 2.0 observed-data, and the pattern
    of indicators whose pattern_type is "stix" (the only type before 2.1, hence the default).
    Values that do not normalise, and patterns that do not parse, contribute nothing: the
    index is best-effort, validation happens elsewhere. An observable found at two paths is
    kept once, at the first, so the index holds one row per (object, observable).
    """
    seen: dict[tuple[str, str], IndexedObservable] = {}
    for found in _extract(obj):
        seen.setdefault((found.observable.kind, found.observable.value), found)
    return list(seen.values())


def _extract(obj: Mapping[str, Any]) -> Iterator[IndexedObservable]:
    object_type = obj.get("type")
    if object_type == "indicator":
        yield from _from_indicator(obj)
    elif object_type == "observed-data":
        embedded = obj.get("objects")
        if isinstance(embedded, Mapping):
            for inner in embedded.values():
                if isinstance(inner, Mapping):
                    yield from _from_sco(inner)
    else:
        yield from _from_sco(obj)


def _from_sco(obj: Mapping[str, Any]) -> Iterator[IndexedObservable]:
    object_type = obj.get("type")
    if not isinstance(object_type, str):
        return
    kind = _SCO_VALUE_KINDS.get(object_type)
    if kind is not None:
        value = obj.get("value")
        if isinstance(value, str):
            try:
                observable = normalise(kind, value)
            except ObservableError:
                return
            yield IndexedObservable(observable, "sco", True, f"{object_type}:value")
        return
    if object_type in _SCO_HASHED:
        hashes = obj.get("hashes")
        if not isinstance(hashes, Mapping):
            return
        for algorithm, digest in hashes.items():
            hash_kind_ = kind_for_hash_name(str(algorithm))
            if hash_kind_ is None or not isinstance(digest, str):
                continue
            try:
                observable = normalise(hash_kind_, digest)
            except ObservableError:
                continue
            path = format_path(object_type, ("hashes", str(algorithm)), frozenset())
            yield IndexedObservable(observable, "sco", True, path)


def _from_indicator(obj: Mapping[str, Any]) -> Iterator[IndexedObservable]:
    pattern = obj.get("pattern")
    pattern_type = obj.get("pattern_type", "stix")
    if not isinstance(pattern, str) or pattern_type != "stix":
        return
    try:
        found = observables_from_pattern(pattern)
    except PatternError:
        return
    for path, observable in found.observables:
        yield IndexedObservable(observable, "pattern", found.simple, path)


def parse_query(text: str, kind: str | None = None) -> Observable:
    """A value as the observable index reads it; ``kind`` overrides detection."""
    if kind is not None:
        return normalise(kind, text)
    found = detect(text)
    if found is None:
        raise ObservableError(
            f"cannot tell what {text!r} is: give an IP address, CIDR, domain, URL, "
            "e-mail address or hash, or say which kind it is (the API's `type`, the command "
            "line's `--type`)"
        )
    return found
