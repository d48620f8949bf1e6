"""MISP objects to STIX 2.1: one composed indicator or observation per object.

A MISP object groups attributes that describe one thing (a file and its hashes, a domain
and its addresses). As misp-stix does, an object with any ``to_ids`` attribute becomes one
indicator whose pattern ANDs every mapped attribute; otherwise one observed-data over the
SCOs the attributes build together. Objects that describe a domain object (vulnerability,
attack-pattern, course-of-action, identities) become that object; detection-rule objects
become indicators in the rule's language; objects STIX has no home for become an
``x-misp-object`` custom object holding every attribute, so nothing is lost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

from accord.ingest.misp.attributes import HASH_NAMES, Mapped, _truthy
from accord.ingest.misp.observation import (
    Component,
    Envelope,
    address_type,
    observables_of,
    pattern_of,
)

_FILE: Final[dict[str, tuple[str, str]]] = {
    "filename": ("file", "name"),
    "size-in-bytes": ("file", "size"),
    "mimetype": ("file", "mime_type"),
    "path": ("file", "parent_directory_ref.path"),
    "malware-sample": ("file", "name"),
    **{name: ("file", f"hashes.{stix}") for name, stix in HASH_NAMES.items()},
}
_USER: Final[dict[str, tuple[str, str]]] = {
    "username": ("user-account", "account_login"),
    "user-id": ("user-account", "user_id"),
    "display-name": ("user-account", "display_name"),
    "name": ("user-account", "display_name"),
    "password": ("user-account", "credential"),
    "id": ("user-account", "user_id"),
}

# object name -> object_relation -> (SCO type, path)
OBJECT_PATHS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "file": _FILE,
    "hashlookup": _FILE,
    "domain-ip": {
        "domain": ("domain-name", "value"),
        "hostname": ("domain-name", "value"),
        "ip": ("domain-name", "resolves_to_refs[*].value"),
    },
    "ip-port": {
        "ip": ("network-traffic", "dst_ref.value"),
        "ip-dst": ("network-traffic", "dst_ref.value"),
        "ip-src": ("network-traffic", "src_ref.value"),
        "dst-port": ("network-traffic", "dst_port"),
        "src-port": ("network-traffic", "src_port"),
    },
    "network-connection": {
        "ip-src": ("network-traffic", "src_ref.value"),
        "ip-dst": ("network-traffic", "dst_ref.value"),
        "hostname-dst": ("network-traffic", "dst_ref.value"),
        "hostname-src": ("network-traffic", "src_ref.value"),
        "src-port": ("network-traffic", "src_port"),
        "dst-port": ("network-traffic", "dst_port"),
    },
    "network-socket": {
        "ip-src": ("network-traffic", "src_ref.value"),
        "ip-dst": ("network-traffic", "dst_ref.value"),
        "hostname-dst": ("network-traffic", "dst_ref.value"),
        "src-port": ("network-traffic", "src_port"),
        "dst-port": ("network-traffic", "dst_port"),
    },
    "url": {"url": ("url", "value")},
    "mutex": {"name": ("mutex", "name")},
    "asn": {"asn": ("autonomous-system", "number"), "description": ("autonomous-system", "name")},
    "directory": {"path": ("directory", "path")},
    "registry-key": {
        "key": ("windows-registry-key", "key"),
        "name": ("windows-registry-key", "values[*].name"),
        "data": ("windows-registry-key", "values[*].data"),
        "data-type": ("windows-registry-key", "values[*].data_type"),
    },
    "registry-key-value": {
        "name": ("windows-registry-key", "values[*].name"),
        "data": ("windows-registry-key", "values[*].data"),
        "data-type": ("windows-registry-key", "values[*].data_type"),
    },
    "x509": {
        "x509-fingerprint-md5": ("x509-certificate", "hashes.MD5"),
        "x509-fingerprint-sha1": ("x509-certificate", "hashes.SHA-1"),
        "x509-fingerprint-sha256": ("x509-certificate", "hashes.SHA-256"),
        "serial-number": ("x509-certificate", "serial_number"),
        "issuer": ("x509-certificate", "issuer"),
        "subject": ("x509-certificate", "subject"),
        "version": ("x509-certificate", "version"),
        "validity-not-before": ("x509-certificate", "validity_not_before"),
        "validity-not-after": ("x509-certificate", "validity_not_after"),
        "signature_algorithm": ("x509-certificate", "signature_algorithm"),
        "pubkey-info-algorithm": ("x509-certificate", "subject_public_key_algorithm"),
        "pubkey-info-exponent": ("x509-certificate", "subject_public_key_exponent"),
        "pubkey-info-modulus": ("x509-certificate", "subject_public_key_modulus"),
    },
    "email": {
        "from": ("email-message", "from_ref.value"),
        "to": ("email-message", "to_refs[*].value"),
        "cc": ("email-message", "cc_refs[*].value"),
        "bcc": ("email-message", "bcc_refs[*].value"),
        "subject": ("email-message", "subject"),
        "message-id": ("email-message", "message_id"),
        "reply-to": ("email-message", "additional_header_fields.reply_to"),
        "x-mailer": ("email-message", "additional_header_fields.x_mailer"),
        "email-body": ("email-message", "body"),
        "attachment": ("email-message", "body_multipart[*].body_raw_ref.name"),
        "received-header-ip": ("email-message", "received_lines"),
    },
    "user-account": _USER,
    "credential": _USER,
    "github-user": _USER,
    "gitlab-user": _USER,
    "twitter-account": _USER,
    "facebook-account": _USER,
    "reddit-account": _USER,
    "telegram-account": _USER,
    "parler-account": _USER,
    "android-app": {
        "name": ("software", "name"),
        "certificate": ("software", "x_misp_certificate"),
    },
    "cpe-asset": {
        "cpe": ("software", "cpe"),
        "product": ("software", "name"),
        "vendor": ("software", "vendor"),
        "version": ("software", "version"),
        "language": ("software", "languages"),
    },
    "artifact": {
        "payload_bin": ("artifact", "payload_bin"),
        "mime_type": ("artifact", "mime_type"),
        "url": ("artifact", "url"),
        **{name: ("artifact", f"hashes.{stix}") for name, stix in HASH_NAMES.items()},
    },
    "http-request": {
        "ip-src": ("network-traffic", "src_ref.value"),
        "ip-dst": ("network-traffic", "dst_ref.value"),
        "host": ("network-traffic", "dst_ref.value"),
        "method": ("network-traffic", "extensions.http-request-ext.request_method"),
        "uri": ("network-traffic", "extensions.http-request-ext.request_value"),
        "url": ("network-traffic", "extensions.http-request-ext.request_value"),
        "user-agent": (
            "network-traffic",
            "extensions.http-request-ext.request_header.User-Agent",
        ),
    },
    "image": {"filename": ("file", "name"), "attachment": ("file", "name")},
    "lnk": _FILE,
    "process": {
        "pid": ("process", "pid"),
        "command-line": ("process", "command_line"),
        "name": ("process", "x_misp_name"),
        "image": ("process", "image_ref.name"),
    },
}
# Fixed properties of the main SCO, per object name.
_FIXED: Final[dict[str, dict[str, str]]] = {
    "github-user": {"account_type": "github"},
    "gitlab-user": {"account_type": "gitlab"},
    "twitter-account": {"account_type": "twitter"},
    "facebook-account": {"account_type": "facebook"},
    "reddit-account": {"account_type": "reddit"},
    "telegram-account": {"account_type": "telegram"},
    "parler-account": {"account_type": "parler"},
}
# Objects that are rules: indicators written in the rule's own language.
_RULES: Final[dict[str, tuple[str, str]]] = {
    "yara": ("yara", "yara"),
    "sigma": ("sigma", "sigma"),
    "suricata": ("suricata", "suricata"),
    "snort": ("snort", "snort"),
    "nova-rule": ("nova-rule", "nova"),
    "owasp-crs-rule": ("owasp-crs-rule", "owasp-crs"),
    "wazuh-rule": ("wazuh-rule", "wazuh"),
}
_IDENTITY_OBJECTS: Final[dict[str, str]] = {
    "employee": "individual",
    "person": "individual",
    "identity": "unknown",
    "legal-entity": "organization",
    "organization": "organization",
    "news-agency": "organization",
}


def object_components(
    misp_object: Mapping[str, Any],
) -> tuple[list[Component], dict[str, Any]]:
    """Mapped components, and the rest as ``x_misp_<relation>`` properties of the main SCO."""
    name = str(misp_object.get("name"))
    table = OBJECT_PATHS.get(name, {})
    if name == "domain-ip" and _first(misp_object, "domain", "hostname") is None:
        # Addresses without a name: each is an address of its own, not a resolution.
        address = _first(misp_object, "ip") or ""
        table = {"ip": (address_type(address), "value")}
    found: list[Component] = []
    rest: dict[str, Any] = {}
    for attribute in _attributes(misp_object):
        relation = str(attribute.get("object_relation", ""))
        value = str(attribute.get("value", ""))
        path = table.get(relation)
        if path is not None and value != "":
            found.append(Component(path[0], path[1], value))
        elif value != "":
            rest.setdefault("x_misp_" + relation.replace("-", "_"), value)
    return found, rest


def _attributes(misp_object: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    attributes = misp_object.get("Attribute") or []
    return [a for a in attributes if isinstance(a, Mapping) and not _truthy(a.get("deleted"))]


def _first(misp_object: Mapping[str, Any], *relations: str) -> str | None:
    for relation in relations:
        for attribute in _attributes(misp_object):
            if attribute.get("object_relation") == relation and attribute.get("value"):
                return str(attribute["value"])
    return None


def map_object(misp_object: Mapping[str, Any], envelope: Envelope) -> Mapped:
    """One MISP object as STIX objects."""
    name = str(misp_object.get("name", ""))
    base = str(misp_object["uuid"])
    attributes = _attributes(misp_object)
    to_ids = any(_truthy(a.get("to_ids")) for a in attributes)

    rule = _RULES.get(name)
    if rule is not None and _first(misp_object, rule[0]):
        indicator = envelope.sdo(
            "indicator",
            f"indicator--{base}",
            pattern=_first(misp_object, rule[0]),
            pattern_type=rule[1],
            valid_from=envelope.first_seen or envelope.created,
            **_name(misp_object, "name"),
        )
        return Mapped("indicator", indicator["id"], [indicator])
    sdo = _domain_object(name, base, misp_object, envelope)
    if sdo is not None:
        return Mapped("sdo", sdo["id"], [sdo])
    if name in OBJECT_PATHS:
        found, rest = object_components(misp_object)
        if found and to_ids:
            extra = [f"user-account:account_type = '{v}'" for v in _FIXED.get(name, {}).values()]
            indicator = envelope.sdo(
                "indicator",
                f"indicator--{base}",
                pattern=pattern_of(found, extra),
                pattern_type="stix",
                pattern_version="2.1",
                valid_from=envelope.first_seen or envelope.created,
                **_kill_chain(misp_object),
            )
            return Mapped("indicator", indicator["id"], [indicator])
        if found and not all(c.path.startswith("extensions.") for c in found):
            fixed = {**_FIXED.get(name, {}), **rest}
            scos = [envelope.sco(sco) for sco in observables_of(found, base, fixed)]
            observed = envelope.observed_data(f"observed-data--{base}", scos)
            return Mapped("observable", observed["id"], [observed, *scos])
    custom = envelope.sdo(
        "x-misp-object",
        f"x-misp-object--{base}",
        x_misp_name=name,
        x_misp_meta_category=str(misp_object.get("meta-category", "")),
        x_misp_attributes=[
            {
                key: attribute[key]
                for key in ("object_relation", "type", "value", "to_ids", "category", "comment")
                if key in attribute
            }
            for attribute in attributes
        ],
    )
    return Mapped("custom", custom["id"], [custom])


def _name(misp_object: Mapping[str, Any], relation: str) -> dict[str, str]:
    value = _first(misp_object, relation)
    return {"name": value} if value else {}


def _kill_chain(misp_object: Mapping[str, Any]) -> dict[str, Any]:
    category = misp_object.get("meta-category")
    if not category:
        return {}
    return {
        "kill_chain_phases": [{"kill_chain_name": "misp-category", "phase_name": str(category)}]
    }


def _domain_object(
    name: str, base: str, misp_object: Mapping[str, Any], envelope: Envelope
) -> dict[str, Any] | None:
    """Objects that describe a STIX domain object rather than an observation."""
    description = _first(misp_object, "summary", "description", "text")
    extra: dict[str, Any] = {"description": description} if description else {}
    if name == "vulnerability":
        cve = _first(misp_object, "id")
        if cve is None:
            return None
        return envelope.sdo(
            "vulnerability",
            f"vulnerability--{base}",
            name=cve,
            **extra,
            external_references=[{"source_name": "cve", "external_id": cve}],
        )
    if name == "attack-pattern":
        title = _first(misp_object, "name")
        if title is None:
            return None
        capec = _first(misp_object, "id")
        refs = (
            {"external_references": [{"source_name": "capec", "external_id": f"CAPEC-{capec}"}]}
            if capec
            else {}
        )
        return envelope.sdo(
            "attack-pattern", f"attack-pattern--{base}", name=title, **extra, **refs
        )
    if name == "course-of-action":
        title = _first(misp_object, "name")
        if title is None:
            return None
        return envelope.sdo("course-of-action", f"course-of-action--{base}", name=title, **extra)
    if name == "intrusion-set":
        title = _first(misp_object, "name")
        if title is None:
            return None
        return envelope.sdo("intrusion-set", f"intrusion-set--{base}", name=title, **extra)
    if name in _IDENTITY_OBJECTS:
        title = _first(misp_object, "name", "full-name", "legal-name", "first-name", "email")
        if title is None:
            return None
        return envelope.sdo(
            "identity",
            f"identity--{base}",
            name=title,
            identity_class=_IDENTITY_OBJECTS[name],
            **extra,
        )
    if name == "geolocation":
        place: dict[str, Any] = {
            key: value
            for key, value in (
                ("country", _first(misp_object, "countrycode", "country")),
                ("region", _first(misp_object, "region")),
                ("city", _first(misp_object, "city")),
            )
            if value
        }
        latitude, longitude = _first(misp_object, "latitude"), _first(misp_object, "longitude")
        if latitude and longitude:
            with contextlib.suppress(ValueError):
                place["latitude"], place["longitude"] = float(latitude), float(longitude)
        if not place.keys() & {"country", "region", "latitude"}:
            return None
        return envelope.sdo("location", f"location--{base}", **place, **extra)
    if name == "script":
        title = _first(misp_object, "filename") or "script"
        if _first(misp_object, "state") == "Malicious":
            return envelope.sdo("malware", f"malware--{base}", name=title, is_family=False)
        return envelope.sdo("tool", f"tool--{base}", name=title)
    return None


def referenced_uuids(misp_object: Mapping[str, Any]) -> Sequence[tuple[str, str]]:
    """The object's MISP references as (relationship type, referenced uuid)."""
    found: list[tuple[str, str]] = []
    for reference in misp_object.get("ObjectReference") or []:
        if isinstance(reference, Mapping) and reference.get("referenced_uuid"):
            kind = str(reference.get("relationship_type") or "related-to")
            found.append((kind, str(reference["referenced_uuid"])))
    return found
