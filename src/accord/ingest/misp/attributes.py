"""MISP attribute types to STIX 2.1, the way misp-stix maps them.

``to_ids`` attributes become indicators whose pattern holds the attribute's value(s); the
others become an observed-data referencing cyber-observables (STIX 2.1 section 6). Detection
rules (yara, sigma, snort, suricata) are indicators in their own pattern language;
``vulnerability`` and ``campaign-name`` are domain objects; types with no STIX home become an
``x-misp-attribute`` custom object that keeps the type, value and category, so that nothing is
lost and the export can give them back.

Ids reuse the MISP uuid (``indicator--<uuid>``, ``observed-data--<uuid>``, ``file--<uuid>``),
as misp-stix does: importing the same event again finds every object stored already.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from accord.ingest.misp.observation import Component, Envelope, observables_of, pattern_of
from accord.model.hashes import MISP_HASH_TYPES

Kind = Literal["indicator", "observable", "sdo", "custom"]

# MISP hash types and the STIX hash names misp-stix writes for them. The sha512/224 and
# sha512/256 names are misp-stix's (it files them under SHA-224 and SHA-256).
HASH_NAMES: Final[dict[str, str]] = {
    **MISP_HASH_TYPES,
    "sha512/224": "SHA-224",
    "sha512/256": "SHA-256",
}

# type -> the (SCO type, path) of each '|'-separated part of the value.
PATHS: dict[str, tuple[tuple[str, str], ...]] = {
    "domain": (("domain-name", "value"),),
    "hostname": (("domain-name", "value"),),
    "domain|ip": (("domain-name", "value"), ("domain-name", "resolves_to_refs[*].value")),
    "hostname|port": (("domain-name", "value"), ("network-traffic", "dst_port")),
    "ip-dst": (("network-traffic", "dst_ref.value"),),
    "ip-src": (("network-traffic", "src_ref.value"),),
    "ip-dst|port": (("network-traffic", "dst_ref.value"), ("network-traffic", "dst_port")),
    "ip-src|port": (("network-traffic", "src_ref.value"), ("network-traffic", "src_port")),
    "port": (("network-traffic", "dst_port"),),
    "url": (("url", "value"),),
    "link": (("url", "value"),),
    "uri": (("url", "value"),),
    "email": (("email-addr", "value"),),
    "email-src": (("email-message", "from_ref.value"),),
    "email-dst": (("email-message", "to_refs[*].value"),),
    "email-subject": (("email-message", "subject"),),
    "email-body": (("email-message", "body"),),
    "email-message-id": (("email-message", "message_id"),),
    "email-reply-to": (("email-message", "additional_header_fields.reply_to"),),
    "email-x-mailer": (("email-message", "additional_header_fields.x_mailer"),),
    "email-header": (("email-message", "received_lines"),),
    "email-attachment": (("email-message", "body_multipart[*].body_raw_ref.name"),),
    "filename": (("file", "name"),),
    "size-in-bytes": (("file", "size"),),
    "mac-address": (("mac-addr", "value"),),
    "mutex": (("mutex", "name"),),
    "regkey": (("windows-registry-key", "key"),),
    "regkey|value": (("windows-registry-key", "key"), ("windows-registry-key", "values[*].data")),
    "AS": (("autonomous-system", "number"),),
    "github-username": (("user-account", "account_login"),),
    "http-method": (("network-traffic", "extensions.http-request-ext.request_method"),),
    "user-agent": (("network-traffic", "extensions.http-request-ext.request_header.User-Agent"),),
    "x509-fingerprint-md5": (("x509-certificate", "hashes.MD5"),),
    "x509-fingerprint-sha1": (("x509-certificate", "hashes.SHA-1"),),
    "x509-fingerprint-sha256": (("x509-certificate", "hashes.SHA-256"),),
    **{name: (("file", f"hashes.{stix}"),) for name, stix in HASH_NAMES.items()},
    **{
        f"filename|{name}": (("file", "name"), ("file", f"hashes.{stix}"))
        for name, stix in HASH_NAMES.items()
    },
}
# Types misp-stix only ever writes as patterns: they describe traffic, not a thing.
PATTERN_ONLY: Final = frozenset({"port", "size-in-bytes", "http-method", "user-agent"})
# Fixed properties of the main SCO (e.g. which kind of account a user name is).
FIXED: Final[dict[str, dict[str, str]]] = {"github-username": {"account_type": "github"}}
# Detection rules: indicators in their own pattern language (STIX 2.1 section 10.14).
RULE_TYPES: Final[dict[str, str]] = {
    "yara": "yara",
    "sigma": "sigma",
    "snort": "snort",
    "suricata": "suricata",
}


@dataclass(slots=True)
class Mapped:
    """The STIX objects one MISP attribute became; ``primary`` is the one that stands for it."""

    kind: Kind
    primary: str
    objects: list[dict[str, Any]]


def components(attribute_type: str, value: str) -> list[Component] | None:
    """The components of a value of this type, or None when the type has no STIX paths."""
    paths = PATHS.get(attribute_type)
    if paths is None:
        return None
    parts = value.split("|", len(paths) - 1) if len(paths) > 1 else [value]
    if len(parts) != len(paths):
        return None
    return [
        Component(sco_type, path, part.strip() if path != "body" else part)
        for (sco_type, path), part in zip(paths, parts, strict=True)
        if part != ""
    ]


def _extra_comparisons(attribute_type: str, value: str) -> list[str]:
    """misp-stix pins the address type of network-traffic endpoints in the pattern."""
    from accord.ingest.misp.observation import address_type

    if attribute_type.startswith(("ip-dst", "ip-src")):
        side = "dst_ref" if attribute_type.startswith("ip-dst") else "src_ref"
        return [f"network-traffic:{side}.type = '{address_type(value.split('|')[0])}'"]
    if attribute_type == "github-username":
        return ["user-account:account_type = 'github'"]
    return []


def _file_sample(attribute: Mapping[str, Any], value: str) -> list[Component]:
    """``malware-sample`` and ``attachment``: a file whose content is an artifact."""
    name, _, digest = value.partition("|")
    found = [Component("file", "name", name)]
    if digest:
        found.append(Component("file", "hashes.MD5", digest))
    data = attribute.get("data")
    if isinstance(data, str) and data:
        found.insert(0, Component("file", "content_ref.payload_bin", data))
        if attribute.get("type") == "malware-sample":
            found.extend(
                [
                    Component("file", "content_ref.mime_type", "application/zip"),
                    Component("file", "content_ref.encryption_algorithm", "mime-type-indicated"),
                    Component("file", "content_ref.decryption_key", "infected"),
                ]
            )
    return found


def map_attribute(attribute: Mapping[str, Any], envelope: Envelope) -> Mapped:
    """One MISP attribute (not part of an object) as STIX objects."""
    attribute_type = str(attribute.get("type", ""))
    value = str(attribute.get("value", ""))
    base = str(attribute["uuid"])
    to_ids = _truthy(attribute.get("to_ids"))

    rule = RULE_TYPES.get(attribute_type)
    if rule is not None:
        indicator = envelope.sdo(
            "indicator",
            f"indicator--{base}",
            pattern=value,
            pattern_type=rule,
            valid_from=envelope.first_seen or envelope.created,
            **_kill_chain(attribute),
        )
        return Mapped("indicator", indicator["id"], [indicator])
    if attribute_type == "vulnerability":
        vulnerability = envelope.sdo(
            "vulnerability",
            f"vulnerability--{base}",
            name=value,
            external_references=[{"source_name": "cve", "external_id": value}],
        )
        return Mapped("sdo", vulnerability["id"], [vulnerability])
    if attribute_type == "campaign-name":
        campaign = envelope.sdo("campaign", f"campaign--{base}", name=value)
        return Mapped("sdo", campaign["id"], [campaign])

    found: list[Component] | None
    if attribute_type in ("malware-sample", "attachment"):
        found = _file_sample(attribute, value)
    else:
        found = components(attribute_type, value)
    if found and (to_ids or attribute_type in PATTERN_ONLY):
        if to_ids:
            indicator = envelope.sdo(
                "indicator",
                f"indicator--{base}",
                pattern=pattern_of(found, _extra_comparisons(attribute_type, value)),
                pattern_type="stix",
                pattern_version="2.1",
                valid_from=envelope.first_seen or envelope.created,
                **_kill_chain(attribute),
            )
            return Mapped("indicator", indicator["id"], [indicator])
    elif found:
        scos = [envelope.sco(sco) for sco in observables_of(found, base, FIXED.get(attribute_type))]
        observed = envelope.observed_data(f"observed-data--{base}", scos)
        return Mapped("observable", observed["id"], [observed, *scos])
    custom = custom_attribute(attribute, envelope)
    return Mapped("custom", custom["id"], [custom])


def custom_attribute(attribute: Mapping[str, Any], envelope: Envelope) -> dict[str, Any]:
    """A type STIX has no object for, kept whole (misp-stix's custom attribute object)."""
    properties: dict[str, Any] = {
        "x_misp_type": str(attribute.get("type", "")),
        "x_misp_value": str(attribute.get("value", "")),
        "x_misp_category": str(attribute.get("category", "")),
        "x_misp_to_ids": _truthy(attribute.get("to_ids")),
    }
    if attribute.get("comment"):
        properties["x_misp_comment"] = str(attribute["comment"])
    return envelope.sdo("x-misp-attribute", f"x-misp-attribute--{attribute['uuid']}", **properties)


def _kill_chain(attribute: Mapping[str, Any]) -> dict[str, Any]:
    category = attribute.get("category")
    if not category:
        return {}
    return {"kill_chain_phases": [{"kill_chain_name": "misp-category", "phase_name": category}]}


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def attribute_labels(attribute: Mapping[str, Any], tags: Sequence[str]) -> tuple[str, ...]:
    """misp-stix's labels (``misp:type=...``, ``misp:category=...``) and the attribute's tags."""
    labels = [f'misp:type="{attribute.get("type", "")}"']
    if attribute.get("category"):
        labels.append(f'misp:category="{attribute["category"]}"')
    labels.extend(tags)
    return tuple(dict.fromkeys(labels))
