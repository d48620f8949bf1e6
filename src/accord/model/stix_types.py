"""Per-type requirement tables for STIX 2.1 validation, and the small checkers they use.

Every table entry cites the STIX 2.1 section it follows (OASIS STIX 2.1 CS02 / OS). Only what
the spec says MUST is here. Open vocabularies (``*-ov``) are never enforced, since ATT&CK and
other real producers use values outside them; only the enumerations (``*-enum``) are.

A checker is ``check(value, path, problems)``: it appends `Problem`s and returns nothing, so the
hot path allocates only when something is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from accord.model.errors import Problem
from accord.model.timestamps import timestamp_error, timestamp_key
from accord.model.wording import with_article

Check = Callable[[Any, str, list[Problem]], None]
ObjectCheck = Callable[[Mapping[str, Any], list[Problem]], None]

# §2.9 identifier: ``object-type--UUID``. STIX 2.1 accepts any UUID version (v4 suggested for
# SDOs, v5 for SCOs), so the version and variant nibbles are not checked.
ID_RE: Final = re.compile(
    r"([a-z0-9-]{3,250})--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# §3.1 type: 3 to 250 characters of a-z, 0-9 and hyphen.
TYPE_RE: Final = re.compile(r"[a-z0-9-]{3,250}")

SDO_TYPES: Final = frozenset(
    {
        "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
        "indicator", "infrastructure", "intrusion-set", "location", "malware",
        "malware-analysis", "note", "observed-data", "opinion", "report", "threat-actor",
        "tool", "vulnerability",
    }
)  # fmt: skip
SRO_TYPES: Final = frozenset({"relationship", "sighting"})
SCO_TYPES: Final = frozenset(
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
        "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
        "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate",
    }
)  # fmt: skip
META_TYPES: Final = frozenset({"marking-definition", "language-content", "extension-definition"})

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

# §5.1.2 / §5.2.2: relationships and sightings point at SDOs, SCOs or custom objects, never at
# these (the schemas spell the same list).
NOT_RELATABLE: Final = frozenset(
    {"relationship", "sighting", "bundle", "marking-definition", "language-content"}
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


# Identifiers repeat a lot (every ATT&CK relationship names the same creator and marking), so
# the type of each valid identifier seen is remembered. Bounded; cleared when full.
_ID_TYPES: dict[str, str] = {}
_ID_CACHE_SIZE: Final = 100_000


def id_type(value: str) -> str | None:
    """The object type an identifier names, or None if it is not ``<type>--<UUID>`` (§2.9)."""
    object_type = _ID_TYPES.get(value)
    if object_type is None:
        match = ID_RE.fullmatch(value)
        if match is None:
            return None
        object_type = match.group(1)
        if len(_ID_TYPES) >= _ID_CACHE_SIZE:
            _ID_TYPES.clear()
        _ID_TYPES[value] = object_type
    return object_type


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


def _malware_name(obj: Mapping[str, Any], out: list[Problem]) -> None:
    # §4.11: name is required when is_family is true.
    if obj.get("is_family") is True and "name" not in obj:
        out.append(Problem("name", "is required when is_family is true"))


def _location_place(obj: Mapping[str, Any], out: list[Problem]) -> None:
    # §4.10: one of region, country or latitude+longitude; latitude and longitude go together;
    # precision needs both.
    has_lat, has_long = "latitude" in obj, "longitude" in obj
    if has_lat != has_long:
        out.append(
            Problem("longitude" if has_lat else "latitude", "latitude and longitude go together")
        )
    if "precision" in obj and not (has_lat and has_long):
        out.append(Problem("precision", "needs latitude and longitude"))
    if "region" not in obj and "country" not in obj and not (has_lat and has_long):
        out.append(Problem(None, "needs at least one of region, country or latitude+longitude"))


def _artifact_payload(obj: Mapping[str, Any], out: list[Problem]) -> None:
    # §6.1: exactly one of payload_bin or url; hashes are required with url.
    has_bin, has_url = "payload_bin" in obj, "url" in obj
    if has_bin == has_url:
        out.append(Problem(None, "needs exactly one of payload_bin or url"))
    if has_url and "hashes" not in obj:
        out.append(Problem("hashes", "is required when url is given"))


def _email_body(obj: Mapping[str, Any], out: list[Problem]) -> None:
    # §6.6: body only when not multipart, body_multipart only when multipart.
    multipart = obj.get("is_multipart")
    if multipart is True and "body" in obj:
        out.append(Problem("body", "must not be present when is_multipart is true"))
    if multipart is False and "body_multipart" in obj:
        out.append(Problem("body_multipart", "must not be present when is_multipart is false"))


def _network_traffic_active(obj: Mapping[str, Any], out: list[Problem]) -> None:
    # §6.12: an active flow has no end yet.
    if obj.get("is_active") is True and "end" in obj:
        out.append(Problem("end", "must not be present when is_active is true"))


def _marking_definition(obj: Mapping[str, Any], out: list[Problem]) -> None:
    # §7.2.1: definition_type and definition together, unless the marking is defined by an
    # extension (as TLP 2.0 is).
    has_type, has_definition = "definition_type" in obj, "definition" in obj
    if has_type != has_definition:
        missing = "definition" if has_type else "definition_type"
        out.append(
            Problem(
                missing,
                "is required together with " + ("definition_type" if has_type else "definition"),
            )
        )
    elif not has_type and "extensions" not in obj:
        out.append(Problem(None, "needs definition_type and definition, or extensions"))


# --- the tables -------------------------------------------------------------------------------

STR = check_str
BOOL = check_bool
DICT = check_dict
TS = check_timestamp
STRS = check_list_of_str
HASHES = check_hashes
KILL_CHAIN_PHASES: Final = list_of(check_kill_chain_phase)
COUNT: Final = int_range(0)

_KINDS: Final[dict[str, Check]] = {
    "str": STR,
    "bool": BOOL,
    "dict": DICT,
    "ts": TS,
    "strs": STRS,
    "hashes": HASHES,
    "kcp": KILL_CHAIN_PHASES,
    "count": COUNT,
    "ref": CHECK_ANY_REF,
    "refs": CHECK_ANY_REFS,
    "relatable": relatable_ref,
    "port": int_range(0, 65535),
    "ext-types": list_of(EXTENSION_TYPE),
    "dicts": list_of(check_dict),
}


def properties(spec: str, **special: Check) -> dict[str, Check]:
    """Read a compact property table: ``name:kind`` words, where kind is one of `_KINDS` or
    ``ref=type1,type2`` / ``refs=type1,type2`` for identifiers of given types. Checkers with
    parameters of their own come as keywords. Done once at import, so tables stay short and
    lookups stay plain dict hits."""
    table: dict[str, Check] = {}
    for word in spec.split():
        name, _, kind = word.partition(":")
        if kind.startswith("ref="):
            table[name] = ref(*kind[4:].split(","))
        elif kind.startswith("refs="):
            table[name] = refs(*kind[5:].split(","))
        else:
            table[name] = _KINDS[kind]
    table.update(special)
    return table


# §3.2 common properties of SDOs, SROs and the meta objects.
# created and modified are checked by validate_object itself, which needs both keys anyway.
SDO_COMMON: Final = properties(
    "created_by_ref:ref=identity revoked:bool labels:strs lang:str"
    " object_marking_refs:refs=marking-definition",
    confidence=int_range(0, 100),
    external_references=list_of(check_external_reference),
    granular_markings=list_of(check_granular_marking),
    extensions=check_extensions,
)
# §3.2 common properties of SCOs (created, modified, labels would be custom properties there).
SCO_COMMON: Final = properties(
    "defanged:bool object_marking_refs:refs=marking-definition",
    granular_markings=list_of(check_granular_marking),
    extensions=check_extensions,
)

_SEEN: Final = ordered("first_seen", "last_seen")


@dataclass(frozen=True, slots=True)
class TypeRules:
    """What one object type requires beyond the common properties."""

    required: tuple[str, ...]
    properties: Mapping[str, Check]
    checks: tuple[ObjectCheck, ...] = ()


def _rules(required: str, props: dict[str, Check], *checks: ObjectCheck) -> TypeRules:
    return TypeRules(tuple(required.split()), props, checks)


_NAMED = "name:str description:str"

SDO_RULES: Final[dict[str, TypeRules]] = {
    # §4.1
    "attack-pattern": _rules("name", properties(f"{_NAMED} aliases:strs kill_chain_phases:kcp")),
    # §4.2
    "campaign": _rules(
        "name",
        properties(f"{_NAMED} aliases:strs first_seen:ts last_seen:ts objective:str"),
        _SEEN,
    ),
    # §4.3
    "course-of-action": _rules("name", properties(_NAMED)),
    # §4.4 (context is an open vocabulary: not enforced)
    "grouping": _rules("context object_refs", properties(f"{_NAMED} context:str object_refs:refs")),
    # §4.5 (identity_class is optional in 2.1 and an open vocabulary, but it is one string)
    "identity": _rules(
        "name",
        properties(f"{_NAMED} roles:strs identity_class:str sectors:strs contact_information:str"),
    ),
    # §4.6
    "incident": _rules("name", properties(f"{_NAMED} kill_chain_phases:kcp")),
    # §4.7
    "indicator": _rules(
        "pattern pattern_type valid_from",
        properties(
            f"{_NAMED} indicator_types:strs pattern:str pattern_type:str pattern_version:str"
            " valid_from:ts valid_until:ts kill_chain_phases:kcp"
        ),
        ordered("valid_from", "valid_until", strict=True),
    ),
    # §4.8
    "infrastructure": _rules(
        "name",
        properties(
            f"{_NAMED} infrastructure_types:strs aliases:strs kill_chain_phases:kcp"
            " first_seen:ts last_seen:ts"
        ),
        _SEEN,
    ),
    # §4.9
    "intrusion-set": _rules(
        "name",
        properties(
            f"{_NAMED} aliases:strs first_seen:ts last_seen:ts goals:strs resource_level:str"
            " primary_motivation:str secondary_motivations:strs"
        ),
        _SEEN,
    ),
    # §4.10
    "location": _rules(
        "",
        properties(
            f"{_NAMED} region:str country:str administrative_area:str city:str"
            " street_address:str postal_code:str",
            latitude=number_range(-90.0, 90.0),
            longitude=number_range(-180.0, 180.0),
            precision=number_range(0.0, None),
        ),
        _location_place,
    ),
    # §4.11
    "malware": _rules(
        "is_family",
        properties(
            f"{_NAMED} malware_types:strs is_family:bool aliases:strs kill_chain_phases:kcp"
            " first_seen:ts last_seen:ts operating_system_refs:refs=software"
            " architecture_execution_envs:strs implementation_languages:strs capabilities:strs"
            " sample_refs:refs=file,artifact"
        ),
        _malware_name,
        _SEEN,
    ),
    # §4.12
    "malware-analysis": _rules(
        "product",
        properties(
            "product:str version:str host_vm_ref:ref=software operating_system_ref:ref=software"
            " installed_software_refs:refs=software configuration_version:str modules:strs"
            " analysis_engine_version:str analysis_definition_version:str submitted:ts"
            " analysis_started:ts analysis_ended:ts result_name:str result:str"
            " analysis_sco_refs:refs sample_ref:ref"
        ),
        one_of("result", "analysis_sco_refs"),
    ),
    # §4.13
    "note": _rules(
        "content object_refs", properties("abstract:str content:str authors:strs object_refs:refs")
    ),
    # §4.14 (objects is deprecated in 2.1 but valid; its 2.0-style content is not checked here)
    "observed-data": _rules(
        "first_observed last_observed number_observed",
        properties(
            "first_observed:ts last_observed:ts objects:dict object_refs:refs",
            number_observed=int_range(1, 999_999_999),
        ),
        ordered("first_observed", "last_observed"),
        one_of("objects", "object_refs", exclusive=True),
    ),
    # §4.15
    "opinion": _rules(
        "opinion object_refs",
        properties(
            "explanation:str authors:strs object_refs:refs",
            opinion=enum(OPINION_ENUM, "opinion-enum"),
        ),
    ),
    # §4.16
    "report": _rules(
        "name published object_refs",
        properties(f"{_NAMED} report_types:strs published:ts object_refs:refs"),
    ),
    # §4.17
    "threat-actor": _rules(
        "name",
        properties(
            f"{_NAMED} threat_actor_types:strs aliases:strs first_seen:ts last_seen:ts roles:strs"
            " goals:strs sophistication:str resource_level:str primary_motivation:str"
            " secondary_motivations:strs personal_motivations:strs"
        ),
        _SEEN,
    ),
    # §4.18
    "tool": _rules(
        "name",
        properties(f"{_NAMED} tool_types:strs aliases:strs kill_chain_phases:kcp tool_version:str"),
    ),
    # §4.19
    "vulnerability": _rules("name", properties(_NAMED)),
    # §5.1
    "relationship": _rules(
        "relationship_type source_ref target_ref",
        properties(
            "relationship_type:str description:str source_ref:relatable target_ref:relatable"
            " start_time:ts stop_time:ts"
        ),
        ordered("start_time", "stop_time", strict=True),
    ),
    # §5.2
    "sighting": _rules(
        "sighting_of_ref",
        properties(
            "description:str first_seen:ts last_seen:ts sighting_of_ref:relatable"
            " observed_data_refs:refs=observed-data where_sighted_refs:refs=identity,location"
            " summary:bool",
            count=int_range(0, 999_999_999),
        ),
        _SEEN,
    ),
    # §7.1
    "language-content": _rules(
        "object_ref contents", properties("object_ref:ref object_modified:ts contents:dict")
    ),
    # §7.3 (created_by_ref is required here, unlike elsewhere)
    "extension-definition": _rules(
        "created_by_ref name schema version extension_types",
        properties(
            f"{_NAMED} schema:str version:str extension_types:ext-types extension_properties:strs"
        ),
    ),
}

# §7.2.1: marking definitions are not versioned: created, but no modified.
MARKING_DEFINITION_RULES: Final = _rules(
    "created", properties("name:str definition_type:str definition:dict"), _marking_definition
)

_FILE_TIMES = "ctime:ts mtime:ts atime:ts"

SCO_RULES: Final[dict[str, TypeRules]] = {
    # §6.1
    "artifact": _rules(
        "",
        properties(
            "mime_type:str payload_bin:str url:str hashes:hashes decryption_key:str",
            encryption_algorithm=enum(ENCRYPTION_ALGORITHM_ENUM, "encryption-algorithm-enum"),
        ),
        _artifact_payload,
    ),
    # §6.2
    "autonomous-system": _rules("number", properties("number:count name:str rir:str")),
    # §6.3
    "directory": _rules(
        "path", properties(f"path:str path_enc:str {_FILE_TIMES} contains_refs:refs=file,directory")
    ),
    # §6.4
    "domain-name": _rules(
        "value", properties("value:str resolves_to_refs:refs=ipv4-addr,ipv6-addr,domain-name")
    ),
    # §6.5
    "email-addr": _rules(
        "value", properties("value:str display_name:str belongs_to_ref:ref=user-account")
    ),
    # §6.6
    "email-message": _rules(
        "is_multipart",
        properties(
            "is_multipart:bool date:ts content_type:str from_ref:ref=email-addr"
            " sender_ref:ref=email-addr to_refs:refs=email-addr cc_refs:refs=email-addr"
            " bcc_refs:refs=email-addr message_id:str subject:str received_lines:strs"
            " additional_header_fields:dict body:str body_multipart:dicts"
            " raw_email_ref:ref=artifact"
        ),
        _email_body,
    ),
    # §6.7
    "file": _rules(
        "",
        properties(
            f"hashes:hashes size:count name:str name_enc:str magic_number_hex:str mime_type:str"
            f" {_FILE_TIMES} parent_directory_ref:ref=directory contains_refs:refs"
            " content_ref:ref=artifact"
        ),
        one_of("hashes", "name"),
    ),
    # §6.8, §6.9
    "ipv4-addr": _rules(
        "value",
        properties(
            "value:str resolves_to_refs:refs=mac-addr belongs_to_refs:refs=autonomous-system"
        ),
    ),
    "ipv6-addr": _rules(
        "value",
        properties(
            "value:str resolves_to_refs:refs=mac-addr belongs_to_refs:refs=autonomous-system"
        ),
    ),
    # §6.10, §6.11
    "mac-addr": _rules("value", properties("value:str")),
    "mutex": _rules("name", properties("name:str")),
    # §6.12
    "network-traffic": _rules(
        "protocols",
        properties(
            "start:ts end:ts is_active:bool src_ref:ref dst_ref:ref src_port:port dst_port:port"
            " protocols:strs src_byte_count:count dst_byte_count:count src_packets:count"
            " dst_packets:count ipfix:dict src_payload_ref:ref=artifact"
            " dst_payload_ref:ref=artifact encapsulates_refs:refs=network-traffic"
            " encapsulated_by_ref:ref=network-traffic"
        ),
        one_of("src_ref", "dst_ref"),
        ordered("start", "end"),
        _network_traffic_active,
    ),
    # §6.13
    "process": _rules(
        "",
        properties(
            "is_hidden:bool pid:count created_time:ts cwd:str command_line:str"
            " environment_variables:dict opened_connection_refs:refs=network-traffic"
            " creator_user_ref:ref=user-account image_ref:ref=file parent_ref:ref=process"
            " child_refs:refs=process"
        ),
    ),
    # §6.14
    "software": _rules(
        "name", properties("name:str cpe:str swid:str languages:strs vendor:str version:str")
    ),
    # §6.15
    "url": _rules("value", properties("value:str")),
    # §6.16
    "user-account": _rules(
        "",
        properties(
            "user_id:str credential:str account_login:str account_type:str display_name:str"
            " is_service_account:bool is_privileged:bool can_escalate_privs:bool is_disabled:bool"
            " account_created:ts account_expires:ts credential_last_changed:ts"
            " account_first_login:ts account_last_login:ts"
        ),
    ),
    # §6.17
    "windows-registry-key": _rules(
        "",
        properties(
            "key:str values:dicts modified_time:ts creator_user_ref:ref=user-account"
            " number_of_subkeys:count"
        ),
    ),
    # §6.18
    "x509-certificate": _rules(
        "",
        properties(
            "is_self_signed:bool hashes:hashes version:str serial_number:str"
            " signature_algorithm:str issuer:str validity_not_before:ts validity_not_after:ts"
            " subject:str subject_public_key_algorithm:str subject_public_key_modulus:str"
            " subject_public_key_exponent:count x509_v3_extensions:dict"
        ),
    ),
}

# Custom objects (§11.1) and types this table does not know: only the common properties apply.
CUSTOM_RULES: Final = TypeRules((), {})
