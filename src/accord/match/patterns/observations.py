"""Observations as the engine reads them: STIX 2.0 and 2.1 observed-data, made uniform.

- STIX 2.0: each observed-data holds its objects in `objects`, keyed "0", "1", ...; a
  reference (`src_ref: "1"`) names a key of the same observed-data.
- STIX 2.1: observed-data lists `object_refs`; the SCOs are beside it in the list (or in
  bundles in the list). A reference names an SCO id among the objects of the same
  observation (the observed-data and the SCOs it refers to), as the OASIS matcher resolves it.
  An observed-data that still carries 2.0-style `objects` is read as 2.0.
- SCOs given with no observed-data at all are one observation of them all, observed once,
  now: what a look-up of a single value or a sensor's record is.

Each observation counts `number_observed` times: `[a] REPEATS 3 TIMES` is met by one
observed-data with `number_observed: 3`.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from accord.match.patterns.errors import PatternEvaluationError
from accord.match.patterns.timestamps import parse_timestamp
from accord.model.observable_types import HASH_NAME_OF_KIND, SCO_TYPE_OF_KIND, Observable

SDO_TYPES_21: Final = frozenset(
    [
        "attack-pattern",
        "bundle",
        "campaign",
        "course-of-action",
        "extension-definition",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "language-content",
        "location",
        "malware",
        "malware-analysis",
        "marking-definition",
        "note",
        "observed-data",
        "opinion",
        "relationship",
        "report",
        "threat-actor",
        "tool",
        "sighting",
        "vulnerability",
    ]
)
"""STIX 2.1 object types that are not SCOs: a 2.1 pattern over them selects nothing."""


@dataclass(slots=True, eq=False)
class Observation:
    """One observed-data: its objects by key (2.0) or id (2.1), and when and how often."""

    objects: dict[str, Any]
    """Every object a reference may resolve to, by key or id."""
    by_type: dict[str, list[tuple[str, Any]]]
    """(key or id, object) of the objects a pattern's object type selects, by type."""
    first: datetime.datetime
    last: datetime.datetime
    count: int
    id: str | None
    """The observed-data's id (None when it has none, or for a wrapper of bare SCOs)."""
    stix_version: str = "2.1"


def _interval(
    sdo: Mapping[str, Any], where: str
) -> tuple[datetime.datetime, datetime.datetime, int]:
    missing = [
        name for name in ("number_observed", "first_observed", "last_observed") if name not in sdo
    ]
    if missing:
        raise PatternEvaluationError(f"{where}: observed-data needs {', '.join(missing)}")
    count = sdo["number_observed"]
    if type(count) is not int or count < 1:
        raise PatternEvaluationError(f"{where}: number_observed must be a whole number >= 1")
    try:
        first = parse_timestamp(sdo["first_observed"])
        last = parse_timestamp(sdo["last_observed"])
    except (ValueError, TypeError):
        raise PatternEvaluationError(
            f"{where}: first_observed and last_observed must be STIX timestamps"
        ) from None
    if first > last:
        raise PatternEvaluationError(f"{where}: first_observed is later than last_observed")
    return first, last, count


def _by_type(
    objects: Iterable[tuple[str, Any]], skip: frozenset[str]
) -> dict[str, list[tuple[str, Any]]]:
    out: dict[str, list[tuple[str, Any]]] = {}
    for key, obj in objects:
        if isinstance(obj, dict):
            object_type = obj.get("type")
            if isinstance(object_type, str) and object_type not in skip:
                out.setdefault(object_type, []).append((key, obj))
    return out


def _from_v20(sdo: Mapping[str, Any], where: str, version: str) -> Observation:
    first, last, count = _interval(sdo, where)
    objects = sdo.get("objects", {})
    if not isinstance(objects, dict):
        raise PatternEvaluationError(f"{where}: objects must be a JSON object keyed by number")
    sdo_id = sdo.get("id")
    return Observation(
        objects=objects,
        by_type=_by_type(objects.items(), frozenset()),
        first=first,
        last=last,
        count=count,
        id=sdo_id if isinstance(sdo_id, str) else None,
        stix_version=version,
    )


def load(items: Sequence[Any], stix_version: str = "2.1") -> list[Observation]:
    """The observations in `items` (a list of observed-data, SCOs and bundles).

    Raises `PatternEvaluationError` naming the item that is not an observation.
    """
    if stix_version == "2.0":
        out = []
        for position, sdo in enumerate(items):
            where = f"observed_data[{position}]"
            if not isinstance(sdo, dict):
                raise PatternEvaluationError(f"{where}: not a JSON object")
            out.append(_from_v20(sdo, where, "2.0"))
        return out
    return _load_v21(items)


def _flatten(items: Sequence[Any]) -> list[tuple[str, dict[str, Any]]]:
    flat: list[tuple[str, dict[str, Any]]] = []
    for position, item in enumerate(items):
        where = f"observed_data[{position}]"
        if not isinstance(item, dict):
            raise PatternEvaluationError(f"{where}: not a JSON object")
        if item.get("type") == "bundle":
            inner = item.get("objects", [])
            if not isinstance(inner, list):
                raise PatternEvaluationError(f"{where}: a bundle's objects must be a list")
            for inner_position, obj in enumerate(inner):
                inner_where = f"{where}.objects[{inner_position}]"
                if not isinstance(obj, dict):
                    raise PatternEvaluationError(f"{inner_where}: not a JSON object")
                flat.append((inner_where, obj))
        else:
            flat.append((where, item))
    return flat


def _load_v21(items: Sequence[Any]) -> list[Observation]:
    flat = _flatten(items)
    scos: dict[str, dict[str, Any]] = {}
    observed: list[tuple[str, dict[str, Any]]] = []
    for where, obj in flat:
        if obj.get("type") == "observed-data":
            observed.append((where, obj))
            continue
        object_id = obj.get("id")
        if not isinstance(object_id, str):
            raise PatternEvaluationError(f"{where}: a STIX 2.1 object needs an id")
        scos[object_id] = obj
    if not observed:
        return [_wrapper(list(scos.items()))] if scos else []
    out = []
    for where, sdo in observed:
        if "object_refs" not in sdo and isinstance(sdo.get("objects"), dict):
            out.append(_from_v20(sdo, where, "2.1"))
            continue
        first, last, count = _interval(sdo, where)
        refs = sdo.get("object_refs")
        if not isinstance(refs, list):
            raise PatternEvaluationError(f"{where}: observed-data needs object_refs (a list)")
        members: list[tuple[str, Any]] = []
        sdo_id = sdo.get("id")
        if isinstance(sdo_id, str):
            members.append((sdo_id, sdo))
        members.extend((ref, scos[ref]) for ref in refs if isinstance(ref, str) and ref in scos)
        out.append(
            Observation(
                objects=dict(members),
                by_type=_by_type(members, SDO_TYPES_21),
                first=first,
                last=last,
                count=count,
                id=sdo_id if isinstance(sdo_id, str) else None,
            )
        )
    return out


def _wrapper(members: list[tuple[str, Any]]) -> Observation:
    now = datetime.datetime.now(datetime.UTC)
    return Observation(
        objects=dict(members),
        by_type=_by_type(members, SDO_TYPES_21),
        first=now,
        last=now,
        count=1,
        id=None,
    )


def of_objects(
    objects: Sequence[Mapping[str, Any]], when: datetime.datetime | None = None
) -> Observation:
    """One observation of `objects` (SCOs, 2.1 style, with ids), observed once at `when`:
    how a look-up or a sensor's record is put to the engine, without observed-data."""
    at = when or datetime.datetime.now(datetime.UTC)
    members = [(str(obj.get("id", f"_{position}")), obj) for position, obj in enumerate(objects)]
    return Observation(
        objects=dict(members),
        by_type=_by_type(members, SDO_TYPES_21),
        first=at,
        last=at,
        count=1,
        id=None,
    )


def of_value(observable: Observable) -> Observation | None:
    """A single value as the engine reads it: one SCO (an address, domain, URL or e-mail
    address with that value; a file with that hash), observed once, now; None for a kind
    no SCO holds. What a look-up and a log's value are put to the patterns as."""
    sco_type = SCO_TYPE_OF_KIND.get(observable.kind)
    if sco_type is not None:
        return of_objects([{"type": sco_type, "value": observable.value}])
    hash_name = HASH_NAME_OF_KIND.get(observable.kind)
    if hash_name is not None:
        return of_objects([{"type": "file", "hashes": {hash_name: observable.value}}])
    return None
