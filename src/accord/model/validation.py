"""STIX 2.1 validation of one object, pure and table-driven.

`validate_object` checks what STIX 2.1 says an object MUST have or be, and nothing more:
custom objects, custom properties, open vocabularies and extension content are accepted as
they are (STIX 2.1 §11 customisation, §7.3 extensions). The per-type requirement tables live in
`accord.model.stix_rules`.

It runs once per object at ingest (25k objects for ATT&CK), so the loop does one dict lookup per
property and allocates only when it has something to report.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from accord.model.errors import Problem
from accord.model.pattern_languages import CHECKED_LANGUAGES, PatternProblem, check_pattern
from accord.model.patterns import pattern_problem_for
from accord.model.stix_checks import Check
from accord.model.stix_identifiers import TYPE_RE, id_type
from accord.model.stix_rules import (
    CUSTOM_RULES,
    MARKING_DEFINITION_RULES,
    SCO_COMMON,
    SCO_RULES,
    SDO_COMMON,
    SDO_RULES,
    TypeRules,
)
from accord.model.timestamps import timestamp_error, timestamp_key

__all__ = ["validate_object"]


@dataclass(frozen=True, slots=True)
class _Entry:
    """Everything the loop needs about one type, merged once at import."""

    table: dict[str, Check]  # common and type-specific property checks in one dict
    rules: TypeRules
    sco: bool  # spec_version optional; no created/modified (§3.2)
    versioned: bool  # created and modified required (SDOs, SROs, meta objects but markings)


def _entry(common: Mapping[str, Check], rules: TypeRules, *, sco: bool, versioned: bool) -> _Entry:
    return _Entry({**common, **rules.properties}, rules, sco, versioned)


_ENTRIES: Final[dict[str, _Entry]] = {
    **{
        name: _entry(SDO_COMMON, rules, sco=False, versioned=True)
        for name, rules in SDO_RULES.items()
    },
    "marking-definition": _entry(SDO_COMMON, MARKING_DEFINITION_RULES, sco=False, versioned=False),
    **{
        name: _entry(SCO_COMMON, rules, sco=True, versioned=False)
        for name, rules in SCO_RULES.items()
    },
}
_CUSTOM_OBJECT: Final = _entry(SDO_COMMON, CUSTOM_RULES, sco=False, versioned=True)
_CUSTOM_SCO: Final = _entry(SCO_COMMON, CUSTOM_RULES, sco=True, versioned=False)


def _is_custom_sco(obj: Mapping[str, Any]) -> bool:
    """A custom type is an SCO when an extension definition says so (§7.3: a new-sco object
    names its extension with ``extension_type: new-sco``); otherwise it is treated as a custom
    SDO, which needs created and modified (§11.1)."""
    extensions = obj.get("extensions")
    if isinstance(extensions, dict):
        for extension in extensions.values():
            if isinstance(extension, dict) and extension.get("extension_type") == "new-sco":
                return True
    return False


def _check_identity(obj: Mapping[str, Any], out: list[Problem]) -> str | None:
    """type and id (§3.1, §2.9); returns the type when it can be used to pick the rules."""
    object_type = obj.get("type")
    if object_type is None:
        out.append(Problem("type", "is required"))
    elif type(object_type) is not str or (
        object_type not in _GOOD_TYPES and TYPE_RE.fullmatch(object_type) is None
    ):
        out.append(Problem("type", f"{object_type!r} is not 3-250 characters of a-z, 0-9 and '-'"))
        object_type = None
    elif len(_GOOD_TYPES) < _GOOD_TYPES_SIZE:
        _GOOD_TYPES.add(object_type)
    object_id = obj.get("id")
    if object_id is None:
        out.append(Problem("id", "is required"))
    elif type(object_id) is not str or (id_of := id_type(object_id)) is None:
        out.append(Problem("id", f"{object_id!r} is not of the form <type>--<UUID>"))
    elif object_type is not None and id_of != object_type:
        out.append(Problem("id", f"must start with the object's type '{object_type}--'"))
    return object_type


# Valid type names seen (a bundle has a few dozen): the regular expression runs once each.
_GOOD_TYPES: Final[set[str]] = set()
_GOOD_TYPES_SIZE: Final = 10_000


def validate_object(
    obj: Mapping[str, Any], pattern_grammar: str = "2.1", warnings: list[Problem] | None = None
) -> list[Problem]:
    """Everything STIX 2.1 requires of this one object that it does not meet; [] when valid.

    An indicator's STIX pattern must parse with the OASIS grammar of ``pattern_grammar``:
    "2.0" for an object of a 2.0 bundle (upgraded to 2.1 before it is checked, but its pattern
    was written in STIX Patterning 2.0), else "2.1".

    With ``warnings``, a pattern in another language this node can parse (yara, sigma, snort,
    suricata, pcre) is checked too, and what is wrong with it is added there: a warning, not
    a problem, since other tools' dialects of these languages vary and rejecting a feed's
    rules because one parser is stricter would lose them.

    Cross-object rules (does a reference resolve, is a newer version newer) need the store and
    are not checked here."""
    out: list[Problem] = []
    if type(obj) is not dict and not isinstance(obj, Mapping):  # the ABC check is slow
        out.append(Problem(None, f"a STIX object must be a JSON object, not {type(obj).__name__}"))
        return out
    object_type = _check_identity(obj, out)
    entry = _ENTRIES.get(object_type) if object_type is not None else None
    if entry is None:
        entry = _CUSTOM_SCO if _is_custom_sco(obj) else _CUSTOM_OBJECT
    table, rules, sco = entry.table, entry.rules, entry.sco

    # §3.1 spec_version: required on everything but SCOs, where it is optional; "2.1" either way.
    spec_version = obj.get("spec_version")
    if spec_version is None:
        if not sco:
            out.append(
                Problem(
                    "spec_version",
                    'is required and must be "2.1"; a STIX 2.0 object must be upgraded first',
                )
            )
    elif spec_version != "2.1":
        out.append(Problem("spec_version", f'must be "2.1", not {spec_version!r}'))

    for name in rules.required:
        if name not in obj:
            out.append(Problem(name, "is required"))

    for name, value in obj.items():
        check = table.get(name)
        if check is not None:
            check(value, name, out)

    if not sco:
        _check_created_modified(obj, entry.versioned, out)
    for check_object in rules.checks:
        check_object(obj, out)
    if object_type == "indicator":
        _check_pattern(obj, pattern_grammar, out, warnings)
    return out


def _check_pattern(
    obj: Mapping[str, Any], grammar: str, out: list[Problem], warnings: list[Problem] | None
) -> None:
    """§9: a pattern whose pattern_type is "stix" is a STIX pattern. The answer is cached by
    pattern, and the common forms are proved valid without the ANTLR parser
    (accord.model.patterns). Other languages (§4.7 pattern-type-ov) give warnings only, and
    languages with no parser here (spl, eql, kql, ...) are stored as they are."""
    pattern = obj.get("pattern")
    if type(pattern) is not str:
        return  # a missing or non-string pattern is reported by the property checks
    pattern_type = obj.get("pattern_type")
    if pattern_type == "stix":
        problem = pattern_problem_for(pattern, grammar)
        if problem is not None:
            out.append(Problem("pattern", f"is not a valid STIX {grammar} pattern: {problem}"))
        return
    if warnings is None or type(pattern_type) is not str:
        return
    language = pattern_type.strip().lower()
    if language == "stix" or language not in CHECKED_LANGUAGES:
        return
    found = (
        _language_problems(language, pattern)
        if len(pattern) <= _CACHED_PATTERN_CHARS
        else tuple(check_pattern(language, pattern))
    )
    for where in found:
        warnings.append(
            Problem(
                "pattern",
                f"may not be valid {pattern_type} (line {where.line}, column "
                f"{where.column}): {where.message}",
            )
        )


# Patterns up to this long have their answer cached (a feed sends the same rule in each new
# version of its indicator); longer ones are rare, and the cache's memory stays bounded.
_CACHED_PATTERN_CHARS: Final = 16 * 1024


@functools.lru_cache(maxsize=1024)
def _language_problems(language: str, pattern: str) -> tuple[PatternProblem, ...]:
    return tuple(check_pattern(language, pattern))


def _check_created_modified(obj: Mapping[str, Any], versioned: bool, out: list[Problem]) -> None:
    """§3.2 created and modified: timestamps, required on versioned objects (marking
    definitions have created only, required by their own rules), and modified is equal to or
    later than created. Done here rather than by the property table so that the order check
    does not parse them a second time."""
    created, modified = obj.get("created"), obj.get("modified")
    created_text: str | None = None  # set once known to be a valid timestamp
    if created is None:
        if versioned:
            out.append(Problem("created", "is required"))
    elif (error := timestamp_error(created)) is not None:
        out.append(Problem("created", error))
    else:
        created_text = created
    if modified is None:
        if versioned:
            out.append(Problem("modified", "is required"))
        return
    if modified == created:
        return  # the usual never-revised object: nothing more to check
    if (error := timestamp_error(modified)) is not None:
        out.append(Problem("modified", error))
    elif created_text is not None and _earlier(modified, created_text):
        out.append(Problem("modified", f"must be equal to or later than created ({created})"))


def _earlier(first: str, second: str) -> bool:
    """first < second for two valid timestamps. Of equal length they compare as text (same
    fixed layout); otherwise their fractions differ in width and need normalising."""
    if len(first) == len(second):
        return first < second
    return timestamp_key(first) < timestamp_key(second)
