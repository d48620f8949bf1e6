"""Accord's STIX property extension that names an object's recipients.

STIX 2.1 section 7.3 (extension definitions): a producer publishes an
``extension-definition`` object and objects carry properties under
``extensions[<its id>]``. Accord keeps recipients there, so that they travel with the object
between nodes:

    "extensions": {
      "extension-definition--96e0a503-ffe6-4099-aef7-5854883752b4": {
        "extension_type": "property-extension",
        "recipient_organizations": ["identity--..."],
        "sharing_groups": ["nordic-water"],
        "recipient_users": ["analyst@cert.example"]
      }
    }

Organisations are named by their STIX identity id, sharing groups by name, users by e-mail,
since those names mean the same on every node.

Between nodes (federation, docs/federation.md) the extension also says whose holding the
object is on its home node (``holder_organization``) and which node sent it
(``origin_node``); sharing groups and users, which mean something on one node only, are
replaced by the organisations they stand for (:func:`for_peer`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accord.model.errors import Problem

ACCORD_EXTENSION_ID = "extension-definition--96e0a503-ffe6-4099-aef7-5854883752b4"
ACCORD_IDENTITY_ID = "identity--0e3c0b7e-6f43-4b59-9a3e-accd00000001"


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class NamedRecipients:
    """Recipients as an object names them, before the node resolves the names."""

    organizations: tuple[str, ...] = ()
    sharing_groups: tuple[str, ...] = ()
    users: tuple[str, ...] = ()


def recipients_in(obj: Mapping[str, Any]) -> tuple[NamedRecipients, list[Problem]]:
    """Read the Accord extension of an object, if it has one."""
    extensions = obj.get("extensions")
    if not isinstance(extensions, Mapping):
        return NamedRecipients(), []
    ext = extensions.get(ACCORD_EXTENSION_ID)
    if ext is None:
        return NamedRecipients(), []
    if not isinstance(ext, Mapping):
        return NamedRecipients(), [
            Problem(f"extensions.{ACCORD_EXTENSION_ID}", "must be an object")
        ]
    problems: list[Problem] = []

    def names(key: str) -> tuple[str, ...]:
        value = ext.get(key, [])
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        problems.append(
            Problem(f"extensions.{ACCORD_EXTENSION_ID}.{key}", "must be a list of strings")
        )
        return ()

    named = NamedRecipients(
        names("recipient_organizations"), names("sharing_groups"), names("recipient_users")
    )
    return named, problems


def extension_definition() -> dict[str, Any]:
    """The extension-definition object every Accord node publishes (as TLP:CLEAR)."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": ACCORD_EXTENSION_ID,
        "created_by_ref": ACCORD_IDENTITY_ID,
        "created": "2026-11-26T00:00:00.000Z",
        "modified": "2026-11-26T00:00:00.000Z",
        "name": "Accord recipients",
        "description": (
            "Names who may see an AMBER or RED object besides its creator: organisations "
            "by STIX identity id, sharing groups by name, users by e-mail address."
        ),
        "schema": "https://accord.example/schemas/recipients-extension.json",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


def accord_identity() -> dict[str, Any]:
    """The identity that publishes Accord's own definitions."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": ACCORD_IDENTITY_ID,
        "created": "2026-11-26T00:00:00.000Z",
        "modified": "2026-11-26T00:00:00.000Z",
        "name": "Accord",
        "identity_class": "system",
    }


def extension_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object's Accord extension (empty when it has none or it is malformed)."""
    extensions = obj.get("extensions")
    ext = extensions.get(ACCORD_EXTENSION_ID) if isinstance(extensions, Mapping) else None
    return ext if isinstance(ext, Mapping) else {}


def for_peer(
    obj: dict[str, Any], holder: str, audience_orgs: frozenset[str], sender_node: str
) -> dict[str, Any]:
    """The object as it leaves for a peer node: its Accord extension names the organisation
    holding it, every organisation of its audience (so the peer shows it to exactly those)
    and this node; node-local names (sharing groups, users) are left out. ``obj`` is changed
    in place (it is a fresh parse of the stored JSON)."""
    extensions = obj.get("extensions")
    extensions = dict(extensions) if isinstance(extensions, Mapping) else {}
    ext = {
        key: value
        for key, value in extension_of(obj).items()
        if key not in ("sharing_groups", "recipient_users", "recipient_organizations")
    }
    ext["extension_type"] = "property-extension"
    ext["holder_organization"] = holder
    recipients = sorted(audience_orgs - {holder})
    if recipients:
        ext["recipient_organizations"] = recipients
    ext["origin_node"] = sender_node
    extensions[ACCORD_EXTENSION_ID] = ext
    obj["extensions"] = extensions
    return obj
