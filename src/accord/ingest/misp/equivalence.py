"""What two STIX conversions must share to count as the same intelligence.

The mapping test compares Accord's STIX for each misp-stix documentation pair with the
reference output, and the round-trip test compares an import with the import of its export.
Ids, timestamps and wording may differ; these may not: the object types, the values pinned by
indicator patterns, the values of cyber-observables and the relationships between types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

_COMPARISON: Final = re.compile(
    r"([a-z0-9-]+):((?:[A-Za-z0-9_\[\]*.-]|'[^']*')+)\s*=\s*'((?:[^'\\]|\\.)*)'"
)
_UNESCAPE: Final = re.compile(r"\\(.)")
_SKIPPED: Final = frozenset(
    {"id", "type", "spec_version", "object_marking_refs", "extensions", "defanged"}
)
# Meta and grouping objects: not what either side is about.
_IGNORED_TYPES: Final = frozenset({"identity-creator", "marking-definition", "report"})


_HASH_NAME: Final = re.compile(r"(HASHES\.)([A-Z0-9-]+)")


def _path(path: str) -> str:
    """Paths compared without quotes, list steps or case; hash names without dashes
    (misp-stix writes ``SHA-224`` in patterns and ``SHA224`` in observables)."""
    text = path.replace("'", "").replace("[*]", "").upper()
    return _HASH_NAME.sub(lambda m: m.group(1) + m.group(2).replace("-", ""), text)


def comparisons(pattern: str) -> set[tuple[str, str]]:
    """The ``(type:path, value)`` pairs of a STIX pattern's equality comparisons."""
    found: set[tuple[str, str]] = set()
    for object_type, path, value in _COMPARISON.findall(pattern):
        if path.endswith(".type"):
            continue  # misp-stix pins address types; the value says it as well
        found.add((f"{object_type}:{_path(path)}", _UNESCAPE.sub(r"\1", value)))
    return found


def _flatten(prefix: str, value: Any, out: set[tuple[str, str, str]], sco_type: str) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, out, sco_type)
    elif isinstance(value, list):
        for inner in value:
            _flatten(prefix, inner, out, sco_type)
    elif not prefix.endswith(("_ref", "_refs")):
        out.add((sco_type, _path(prefix), str(value)))


@dataclass(slots=True)
class Summary:
    types: set[str] = field(default_factory=set)
    patterns: set[tuple[str, str]] = field(default_factory=set)
    observables: set[tuple[str, str, str]] = field(default_factory=set)
    relationships: set[tuple[str, str, str]] = field(default_factory=set)
    names: set[tuple[str, str]] = field(default_factory=set)

    def differences(self, other: Summary) -> list[str]:
        """What ``other`` (Accord's) lacks or adds, compared with ``self`` (the reference)."""
        found: list[str] = []
        for name in ("types", "patterns", "observables", "relationships", "names"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                missing = sorted(map(str, mine - theirs))[:3]
                extra = sorted(map(str, theirs - mine))[:3]
                found.append(f"{name}: missing {missing}, extra {extra}")
        return found


def summarise(objects: Iterable[Mapping[str, Any]], ignore_based_on: bool = True) -> Summary:
    """The parts of a set of STIX objects that an equivalent conversion keeps."""
    summary = Summary()
    by_id = {str(obj.get("id")): obj for obj in objects}
    for obj in by_id.values():
        object_type = str(obj.get("type"))
        if object_type in _IGNORED_TYPES or _is_creator(obj, by_id):
            continue
        if object_type == "relationship":
            kind = str(obj.get("relationship_type"))
            if ignore_based_on and kind == "based-on":
                continue
            source = str(obj.get("source_ref", "")).partition("--")[0]
            target = str(obj.get("target_ref", "")).partition("--")[0]
            summary.relationships.add((source, kind, target))
            continue
        summary.types.add(object_type)
        if object_type == "indicator":
            pattern = str(obj.get("pattern", ""))
            if obj.get("pattern_type", "stix") == "stix":
                summary.patterns |= comparisons(pattern)
            else:
                summary.patterns.add((str(obj.get("pattern_type")), pattern.strip("[]")))
        elif "created" not in obj and object_type != "observed-data":  # an SCO
            for key, value in obj.items():
                if key not in _SKIPPED and not key.startswith("x_"):
                    _flatten(key, value, summary.observables, object_type)
        elif isinstance(obj.get("name"), str) and object_type != "indicator":
            summary.names.add((object_type, str(obj["name"])))
    return summary


def _is_creator(obj: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]) -> bool:
    """An identity that only says who made the others is not content."""
    if obj.get("type") != "identity":
        return False
    return any(other.get("created_by_ref") == obj.get("id") for other in by_id.values())
