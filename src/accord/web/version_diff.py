"""Two versions of a STIX object compared property by property, for people: which properties
were added, removed or changed, and for a changed one the lines of its value (JSON, or the
text itself for a string) that went and came."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

Change = Literal["added", "removed", "changed"]
Mark = Literal["-", "+", " "]


@dataclass(frozen=True, slots=True)
class FieldChange:
    name: str
    change: Change
    lines: list[tuple[Mark, str]]  # "-" went, "+" came, " " kept (context)


@dataclass(frozen=True, slots=True)
class VersionDiff:
    changes: list[FieldChange]
    unchanged: list[str]  # names of the properties both versions have alike


def _lines(holder: Mapping[str, Any], name: str) -> list[str]:
    """A property's value as lines: a string as its own text, anything else as indented
    JSON; none for a property the version does not have."""
    if name not in holder:
        return []
    value = holder[name]
    if isinstance(value, str):
        return value.splitlines() or [""]
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    return text.splitlines()


def _line_diff(old: list[str], new: list[str]) -> list[tuple[Mark, str]]:
    found: list[tuple[Mark, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            found.extend((" ", line) for line in old[i1:i2])
            continue
        found.extend(("-", line) for line in old[i1:i2])
        found.extend(("+", line) for line in new[j1:j2])
    return found


def diff_versions(old: Mapping[str, Any], new: Mapping[str, Any]) -> VersionDiff:
    """``old`` to ``new``, property by property in the newer version's order (the removed
    ones after)."""
    names = list(new) + [name for name in old if name not in new]
    changes: list[FieldChange] = []
    unchanged: list[str] = []
    for name in names:
        if name in old and name in new and old[name] == new[name]:
            unchanged.append(name)
            continue
        change: Change = "added" if name not in old else "removed" if name not in new else "changed"
        lines = _line_diff(_lines(old, name), _lines(new, name))
        changes.append(FieldChange(name, change, lines))
    return VersionDiff(changes, unchanged)
