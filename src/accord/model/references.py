"""The references an object makes to others, as the store indexes them.

Roles: ``source`` and ``target`` of a relationship (STIX 2.1 section 5.1), ``sighting_of``,
``where_sighted`` and ``observed_data`` of a sighting (section 5.2), and ``member`` for the
``object_refs`` of reports, groupings, notes and opinions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_SINGLE = {
    "relationship": (("source_ref", "source"), ("target_ref", "target")),
    "sighting": (("sighting_of_ref", "sighting_of"),),
}
_LISTS = {
    "sighting": (("where_sighted_refs", "where_sighted"), ("observed_data_refs", "observed_data")),
    "report": (("object_refs", "member"),),
    "grouping": (("object_refs", "member"),),
    "note": (("object_refs", "member"),),
    "opinion": (("object_refs", "member"),),
}


def references_of(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(role, referenced id)`` pairs, in the object's order, without duplicates."""
    kind = obj.get("type")
    if kind == "relationship":  # most objects of a bundle that has any: two refs, two roles
        source, target = obj.get("source_ref"), obj.get("target_ref")
        if type(source) is str and type(target) is str:
            return [("source", source), ("target", target)]
    found: list[tuple[str, str]] = []
    for prop, role in _SINGLE.get(str(kind), ()):
        value = obj.get(prop)
        if isinstance(value, str):
            found.append((role, value))
    for prop, role in _LISTS.get(str(kind), ()):
        values = obj.get(prop)
        if isinstance(values, list):
            found.extend((role, value) for value in values if isinstance(value, str))
    return list(dict.fromkeys(found))
