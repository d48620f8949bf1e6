"""Per-type requirement tables for STIX 2.1 validation, read by `accord.model.validation`.

Every table entry cites the STIX 2.1 section it follows (OASIS STIX 2.1 CS02 / OS). Only what
the spec says MUST is here. The checkers the tables are built from are in
`accord.model.stix_checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from accord.model.errors import Problem
from accord.model.stix_checks import (
    CHECK_ANY_REF,
    CHECK_ANY_REFS,
    ENCRYPTION_ALGORITHM_ENUM,
    EXTENSION_TYPE,
    OPINION_ENUM,
    Check,
    ObjectCheck,
    check_bool,
    check_dict,
    check_extensions,
    check_external_reference,
    check_granular_marking,
    check_hashes,
    check_kill_chain_phase,
    check_list_of_str,
    check_str,
    check_timestamp,
    enum,
    int_range,
    list_of,
    number_range,
    one_of,
    ordered,
    ref,
    refs,
    relatable_ref,
)

# --- checks of one type's whole object --------------------------------------------------------


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
