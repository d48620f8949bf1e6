"""The checkers STIX 2.1 validation tables are built from: scalar, list and identifier property
checks, the structured common properties (§2.5-§2.8, §3.2, §7.2.3), the closed enumerations, and
whole-object checks shared by several types.

A checker is ``check(value, path, problems)``: it appends `Problem`s and returns nothing, so the
hot path allocates only when something is wrong. Open vocabularies (``*-ov``) are never
enforced, since ATT&CK and other real producers use values outside them; only the enumerations
(``*-enum``) are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from accord.model.errors import Problem
from accord.model.stix_identifiers import NOT_RELATABLE, id_type
from accord.model.timestamps import timestamp_error, timestamp_key
from accord.model.wording import with_article

Check = Callable[[Any, str, list[Problem]], None]
ObjectCheck = Callable[[Mapping[str, Any], list[Problem]], None]

# Enumerations the spec makes closed (§10).
OPINION_ENUM: Final = frozenset(
    {"strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"}
)
EXTENSION_TYPE_ENUM: Final = frozenset(
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}
)
ENCRYPTION_ALGORITHM_ENUM: Final = frozenset(
    {"AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"}
)


def _type_name(value: object) -> str:
    return type(value).__name__


# --- scalar checkers --------------------------------------------------------------------------


def check_str(value: Any, path: str, out: list[Problem]) -> None:
    if type(value) is not str:
        out.append(Problem(path, f"must be a string, not {_type_name(value)}"))


def check_bool(value: Any, path: str, out: list[Problem]) -> None:
    if type(value) is not bool:
        out.append(Problem(path, f"must be true or false, not {value!r}"))


def check_dict(value: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(value, dict):
        out.append(Problem(path, f"must be an object (dictionary), not {_type_name(value)}"))


def check_timestamp(value: Any, path: str, out: list[Problem]) -> None:
    error = timestamp_error(value)
    if error is not None:
        out.append(Problem(path, error))


def int_range(low: int, high: int | None = None) -> Check:
    """An integer in [low, high]; bool is not an integer here, though Python says it is."""
    span = f"between {low} and {high}" if high is not None else f"{low} or more"

    def check(value: Any, path: str, out: list[Problem]) -> None:
        if type(value) is not int:
            out.append(Problem(path, f"must be an integer {span}, not {value!r}"))
        elif value < low or (high is not None and value > high):
            out.append(Problem(path, f"must be {span}, got {value}"))

    return check


def number_range(low: float | None, high: float | None) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if type(value) not in (int, float):
            out.append(Problem(path, f"must be a number, not {value!r}"))
        elif (low is not None and value < low) or (high is not None and value > high):
            out.append(Problem(path, f"must be between {low} and {high}, got {value}"))

    return check


def enum(values: frozenset[str], name: str) -> Check:
    allowed = ", ".join(sorted(values))

    def check(value: Any, path: str, out: list[Problem]) -> None:
        if type(value) is not str or value not in values:
            out.append(Problem(path, f"{value!r} is not in the {name} enumeration ({allowed})"))

    return check


# --- lists ------------------------------------------------------------------------------------


def _list(value: Any, path: str, out: list[Problem]) -> bool:
    """A JSON array that must not be empty: STIX lists have at least one item (the OASIS
    schemas' ``minItems: 1``)."""
    if type(value) is not list:
        out.append(Problem(path, f"must be a list, not {_type_name(value)}"))
        return False
    if not value:
        out.append(Problem(path, "must not be an empty list; leave the property out instead"))
        return False
    return True


def check_list_of_str(value: Any, path: str, out: list[Problem]) -> None:
    if _list(value, path, out):
        for index, item in enumerate(value):
            if type(item) is not str:
                out.append(Problem(f"{path}[{index}]", f"must be a string, not {_type_name(item)}"))


def list_of(item_check: Check) -> Check:
    def check(value: Any, path: str, out: list[Problem]) -> None:
        if _list(value, path, out):
            for index, item in enumerate(value):
                item_check(item, f"{path}[{index}]", out)

    return check


# --- identifiers ------------------------------------------------------------------------------


def _check_ref(value: Any, path: str, types: frozenset[str] | None, out: list[Problem]) -> None:
    if type(value) is not str:
        out.append(Problem(path, f"must be an identifier string, not {_type_name(value)}"))
        return
    object_type = id_type(value)
    if object_type is None:
        out.append(Problem(path, f"{value!r} is not an identifier of the form <type>--<UUID>"))
    elif types is not None and object_type not in types:
        wanted = " or ".join(sorted(types))
        out.append(
            Problem(path, f"must refer to {with_article(wanted)}, not {with_article(object_type)}")
        )


def ref(*types: str) -> Check:
    """An identifier (§2.9), optionally of one of the given object types."""
    allowed = frozenset(types) or None

    def check(value: Any, path: str, out: list[Problem]) -> None:
        _check_ref(value, path, allowed, out)

    return check


def refs(*types: str) -> Check:
    allowed = frozenset(types) or None

    def check(value: Any, path: str, out: list[Problem]) -> None:
        if _list(value, path, out):
            for index, item in enumerate(value):
                _check_ref(item, f"{path}[{index}]", allowed, out)

    return check


def relatable_ref(value: Any, path: str, out: list[Problem]) -> None:
    """§5.1, §5.2: relationships and sightings point at SDOs, SCOs or custom objects."""
    if type(value) is not str:
        out.append(Problem(path, f"must be an identifier string, not {_type_name(value)}"))
        return
    object_type = id_type(value)
    if object_type is None:
        out.append(Problem(path, f"{value!r} is not an identifier of the form <type>--<UUID>"))
    elif object_type in NOT_RELATABLE:
        out.append(
            Problem(
                path, f"must refer to an SDO, SCO or custom object, not {with_article(object_type)}"
            )
        )


CHECK_ANY_REF: Final = ref()
CHECK_ANY_REFS: Final = refs()

# --- structured common properties -------------------------------------------------------------


def check_hashes(value: Any, path: str, out: list[Problem]) -> None:
    """§2.7 hashes: a non-empty dictionary of algorithm name to hash value, both strings. The
    algorithm names are an open vocabulary, so they are not checked."""
    if not isinstance(value, dict):
        out.append(
            Problem(
                path, f"must be a dictionary of hash algorithm to value, not {_type_name(value)}"
            )
        )
        return
    if not value:
        out.append(Problem(path, "must not be empty"))
    for key, item in value.items():
        if type(item) is not str:
            out.append(
                Problem(f"{path}.{key}", f"hash value must be a string, not {_type_name(item)}")
            )


def check_kill_chain_phase(value: Any, path: str, out: list[Problem]) -> None:
    """§2.8 kill-chain-phase: kill_chain_name and phase_name, both strings, both required."""
    if not isinstance(value, dict):
        out.append(Problem(path, f"must be an object, not {_type_name(value)}"))
        return
    for key in ("kill_chain_name", "phase_name"):
        if key not in value:
            out.append(Problem(f"{path}.{key}", "is required"))
        elif type(value[key]) is not str:
            out.append(Problem(f"{path}.{key}", "must be a string"))


def check_external_reference(value: Any, path: str, out: list[Problem]) -> None:
    """§2.5 external-reference: source_name required; at least one of description, url or
    external_id besides it."""
    if not isinstance(value, dict):
        out.append(Problem(path, f"must be an object, not {_type_name(value)}"))
        return
    if "source_name" not in value:
        out.append(Problem(f"{path}.source_name", "is required"))
    for key in ("source_name", "description", "url", "external_id"):
        if key in value and type(value[key]) is not str:
            out.append(Problem(f"{path}.{key}", "must be a string"))
    if "description" not in value and "url" not in value and "external_id" not in value:
        out.append(Problem(path, "needs at least one of description, url or external_id"))
    if "hashes" in value:
        check_hashes(value["hashes"], f"{path}.hashes", out)


def check_granular_marking(value: Any, path: str, out: list[Problem]) -> None:
    """§7.2.3 granular-marking: selectors (non-empty list of strings) and exactly one of
    marking_ref or lang."""
    if not isinstance(value, dict):
        out.append(Problem(path, f"must be an object, not {_type_name(value)}"))
        return
    if "selectors" not in value:
        out.append(Problem(f"{path}.selectors", "is required"))
    else:
        check_list_of_str(value["selectors"], f"{path}.selectors", out)
    has_ref, has_lang = "marking_ref" in value, "lang" in value
    if has_ref == has_lang:
        out.append(Problem(path, "needs exactly one of marking_ref or lang"))
    if has_ref:
        _check_ref(value["marking_ref"], f"{path}.marking_ref", MARKING, out)
    if has_lang:
        check_str(value["lang"], f"{path}.lang", out)


MARKING: Final = frozenset({"marking-definition"})
_EXTENSION_DEFINITION_ID: Final = re.compile(
    r"extension-definition--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def check_extensions(value: Any, path: str, out: list[Problem]) -> None:
    """§3.2 / §7.3 extensions: a non-empty dictionary whose keys are extension-definition ids or
    predefined/custom names ending in ``-ext``, each holding a non-empty object. The content is
    the extension's business and is kept exactly as given."""
    if not isinstance(value, dict):
        out.append(Problem(path, f"must be a dictionary, not {_type_name(value)}"))
        return
    if not value:
        out.append(Problem(path, "must not be empty; leave the property out instead"))
    for key, item in value.items():
        where = f"{path}.{key}"
        if not (key.endswith("-ext") or _EXTENSION_DEFINITION_ID.fullmatch(key)):
            out.append(
                Problem(where, "extension key must be an extension-definition id or end in '-ext'")
            )
        if not isinstance(item, dict):
            out.append(Problem(where, f"must be an object, not {_type_name(item)}"))
        elif not item:
            out.append(Problem(where, "must not be an empty object"))
        elif "extension_type" in item:
            EXTENSION_TYPE(item["extension_type"], f"{where}.extension_type", out)


EXTENSION_TYPE: Final = enum(EXTENSION_TYPE_ENUM, "extension-type-enum")

# --- whole-object checks ----------------------------------------------------------------------


def _key_or_none(value: Any) -> str | None:
    try:
        return timestamp_key(value)
    except ValueError:
        return None  # already reported by the property's own check


def ordered(earlier: str, later: str, *, strict: bool = False) -> ObjectCheck:
    """``later`` must not come before ``earlier`` (or must come after it, when strict)."""
    relation = "later than" if strict else "equal to or later than"

    def check(obj: Mapping[str, Any], out: list[Problem]) -> None:
        if earlier in obj and later in obj:
            first, last = _key_or_none(obj[earlier]), _key_or_none(obj[later])
            if (
                first is not None
                and last is not None
                and (last <= first if strict else last < first)
            ):
                out.append(
                    Problem(later, f"must be {relation} {earlier} ({obj[later]} < {obj[earlier]})")
                )

    return check


def one_of(*names: str, exclusive: bool = False) -> ObjectCheck:
    wording = "exactly one" if exclusive else "at least one"

    def check(obj: Mapping[str, Any], out: list[Problem]) -> None:
        present = sum(1 for name in names if name in obj)
        if present == 0 or (exclusive and present > 1):
            out.append(Problem(None, f"needs {wording} of {', '.join(names)}"))

    return check
