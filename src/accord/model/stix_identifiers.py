"""STIX 2.1 object types and identifiers: the types the spec defines (§4-§7), the identifier
syntax (§2.9) and the type an identifier names.

The validation tables (`accord.model.stix_rules`) and the STIX 2.0 upgrade use these.
"""

from __future__ import annotations

import re
from typing import Final

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


# §5.1.2 / §5.2.2: relationships and sightings point at SDOs, SCOs or custom objects, never at
# these (the schemas spell the same list).
NOT_RELATABLE: Final = frozenset(
    {"relationship", "sighting", "bundle", "marking-definition", "language-content"}
)

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
