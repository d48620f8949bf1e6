"""How a STIX object is shown on its page: its display name, which of its properties the
page of its type lays out (the rest are listed as they are), its ATT&CK id and link, and its
external references with only web links made clickable.

Presentation only: the objects handed in were read through the visibility rule already.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from accord.store.records import StoredObject

# Shown on every page, whatever the type (STIX 2.1 section 3.2, common properties).
COMMON = frozenset(
    {
        "type",
        "spec_version",
        "id",
        "created",
        "modified",
        "created_by_ref",
        "revoked",
        "labels",
        "confidence",
        "lang",
        "external_references",
        "object_marking_refs",
        "granular_markings",
        "name",
        "description",
    }
)
# What each type's part of the page lays out (templates/object/<type>.html).
LAID_OUT: dict[str, frozenset[str]] = {
    kind: frozenset(names.split())
    for kind, names in {
        "indicator": "indicator_types pattern pattern_type pattern_version valid_from "
        "valid_until kill_chain_phases",
        "report": "report_types published object_refs",
        "grouping": "context object_refs",
        "note": "abstract content authors object_refs",
        "opinion": "explanation authors opinion object_refs",
        "malware": "is_family malware_types aliases first_seen last_seen "
        "architecture_execution_envs implementation_languages capabilities kill_chain_phases",
        "tool": "tool_types aliases tool_version kill_chain_phases",
        "intrusion-set": "aliases first_seen last_seen goals resource_level primary_motivation "
        "secondary_motivations",
        "campaign": "aliases first_seen last_seen objective",
        "threat-actor": "threat_actor_types aliases first_seen last_seen roles goals "
        "sophistication resource_level primary_motivation secondary_motivations "
        "personal_motivations",
        "attack-pattern": "aliases kill_chain_phases",
        "identity": "identity_class sectors contact_information roles",
        "sighting": "sighting_of_ref where_sighted_refs observed_data_refs first_seen last_seen "
        "count summary",
        "observed-data": "first_observed last_observed number_observed object_refs",
        "relationship": "relationship_type source_ref target_ref start_time stop_time",
        "vulnerability": "",
        "infrastructure": "infrastructure_types aliases first_seen last_seen kill_chain_phases",
        "location": "region country administrative_area city street_address postal_code "
        "latitude longitude precision",
    }.items()
}
# Cyber-observables whose `value` is what they are (STIX 2.1 chapter 6).
VALUE_SCOS = frozenset(
    {"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "mac-addr", "mutex"}
)
HASHED_SCOS = frozenset({"file", "artifact", "x509-certificate"})
SCO_LAID_OUT = frozenset({"value", "hashes", "name", "size", "mime_type", "number"})

ATTACK_SOURCES = ("mitre-attack", "mitre-ics-attack", "mitre-mobile-attack")
ATTACK_SITE = "https://attack.mitre.org/"
# ATT&CK ids by their prefix -> the site's section (https://attack.mitre.org/).
_ATTACK_SECTIONS = (
    ("TA", "tactics"),
    ("DS", "datasources"),
    ("T", "techniques"),
    ("S", "software"),
    ("G", "groups"),
    ("C", "campaigns"),
    ("M", "mitigations"),
)
_ATTACK_ID = re.compile(r"^(TA|DS|T|S|G|C|M)(\d{4})(?:\.(\d{3}))?$")


@dataclass(frozen=True, slots=True)
class Summary:
    """An object as a line or a graph node shows it."""

    id: str
    type: str
    name: str | None
    tlp: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "name": self.name, "tlp": self.tlp}


def display_name(body: Mapping[str, Any]) -> str | None:
    """A name for people: the object's name, an observable's value, a file's name or hash,
    a relationship's type; None when it has none (the page shows its type and id)."""
    for prop in ("name", "value", "relationship_type", "subject"):
        found = body.get(prop)
        if isinstance(found, str) and found:
            return found
    hashes = body.get("hashes")
    if isinstance(hashes, Mapping):
        for digest in hashes.values():
            if isinstance(digest, str):
                return digest
    number = body.get("number")
    if body.get("type") == "autonomous-system" and isinstance(number, int):
        return f"AS{number}"
    return None


def summary(obj: StoredObject) -> Summary:
    return Summary(obj.id, obj.type, display_name(obj.json()), obj.tlp.label)


def summaries(objects: Iterable[StoredObject]) -> dict[str, Summary]:
    return {obj.id: summary(obj) for obj in objects}


def web_link(url: object) -> str | None:
    """``url`` if it is an http(s) address (no ``javascript:`` or ``data:`` link)."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def external_references(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = []
    for ref in body.get("external_references") or ():
        if not isinstance(ref, Mapping):
            continue
        found.append(
            {
                "source_name": str(ref.get("source_name") or ""),
                "external_id": ref.get("external_id")
                if isinstance(ref.get("external_id"), str)
                else None,
                "description": ref.get("description")
                if isinstance(ref.get("description"), str)
                else None,
                "url": ref.get("url") if isinstance(ref.get("url"), str) else None,
                "link": web_link(ref.get("url")),
            }
        )
    return found


def attack_url(external_id: str) -> str | None:
    """The page of an ATT&CK id on attack.mitre.org (a sub-technique under its technique)."""
    found = _ATTACK_ID.match(external_id)
    if found is None:
        return None
    prefix, number, sub = found.groups()
    section = dict(_ATTACK_SECTIONS)[prefix]
    return f"{ATTACK_SITE}{section}/{prefix}{number}/" + (f"{sub}/" if sub else "")


def attack_reference(body: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """The object's ATT&CK id and its page: the reference's own url when it is on
    attack.mitre.org, else made from the id."""
    for ref in body.get("external_references") or ():
        if not isinstance(ref, Mapping) or ref.get("source_name") not in ATTACK_SOURCES:
            continue
        external = ref.get("external_id")
        if not isinstance(external, str):
            continue
        link = web_link(ref.get("url"))
        if link is None or not link.startswith(ATTACK_SITE):
            link = attack_url(external)
        return external, link
    return None


def value_text(value: Any) -> str:
    """A property's value as text: a string as it is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def other_properties(body: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The properties the type's part of the page does not lay out, in the object's order:
    ``(name, value)``; references (``*_ref``, ``*_refs``) are left to the page, which shows
    only the referenced objects the reader may see."""
    kind = str(body.get("type", ""))
    laid_out = COMMON | LAID_OUT.get(kind, frozenset())
    if kind in VALUE_SCOS or kind in HASHED_SCOS:
        laid_out |= SCO_LAID_OUT
    return [
        (name, value)
        for name, value in body.items()
        if name not in laid_out and not name.endswith(("_ref", "_refs"))
    ]
