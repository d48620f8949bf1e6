"""TLP 2.0 levels and the STIX marking definitions that carry them.

TLP 2.0 (FIRST, https://www.first.org/tlp/) is expressed in STIX 2.1 by five published
marking-definition objects (oasis-open/cti-stix-common-objects, extension-definition
``60a3c5c5``). The STIX 2.1 predefined TLP 1.0 markings (section 7.2.1.4) are mapped too,
because real producers still send them: WHITE is CLEAR and the rest keep their names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any


class Tlp(IntEnum):
    """TLP levels ordered from least to most restrictive, so ``max()`` is the rule."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        """The TLP 2.0 label as FIRST writes it, e.g. ``TLP:AMBER+STRICT``."""
        return _LABELS[self]

    @property
    def slug(self) -> str:
        """The lower-case name used on the command line and in the API, e.g. ``amber+strict``."""
        return self.name.lower().replace("_", "+")

    @property
    def marking_id(self) -> str:
        """The id of the published TLP 2.0 marking-definition for this level."""
        return TLP2_MARKING_IDS[self]

    @classmethod
    def parse(cls, text: str) -> Tlp:
        """Read ``clear``, ``TLP:AMBER+STRICT``, ``white`` (TLP 1.0) and the like."""
        key = text.strip().lower().removeprefix("tlp:").replace("_", "+").replace("-", "+")
        if key == "white":
            return cls.CLEAR
        for level in cls:
            if level.slug == key:
                return level
        choices = ", ".join(level.slug for level in cls)
        raise ValueError(f"unknown TLP level {text!r}: use one of {choices}")


# Every look-up answer names the TLP of each reason: worked out once.
_LABELS: dict[Tlp, str] = {level: "TLP:" + level.slug.upper() for level in Tlp}

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

TLP2_MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

# STIX 2.1 section 7.2.1.4: the predefined TLP 1.0 marking definitions.
TLP1_MARKING_IDS: dict[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}

MARKING_TLP: dict[str, Tlp] = {
    **{marking_id: level for level, marking_id in TLP2_MARKING_IDS.items()},
    **TLP1_MARKING_IDS,
}


def tlp2_marking_definitions() -> list[dict[str, Any]]:
    """The five TLP 2.0 marking-definition objects exactly as published."""
    names = {
        Tlp.CLEAR: "TLP:CLEAR",
        Tlp.GREEN: "TLP:GREEN",
        Tlp.AMBER: "TLP:AMBER",
        Tlp.AMBER_STRICT: "TLP:AMBER+STRICT",
        Tlp.RED: "TLP:RED",
    }
    return [
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": TLP2_MARKING_IDS[level],
            "created": "2022-10-01T00:00:00.000Z",
            "name": names[level],
            "extensions": {
                TLP2_EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "tlp_2_0": level.slug,
                }
            },
        }
        for level in Tlp
    ]


_DEFINITION = "marking-definition"


def markings_of(obj: Mapping[str, Any]) -> Iterable[str]:
    """Every marking reference on an object, object-level and granular.

    Granular markings (STIX 2.1 section 7.2.3) are counted as if they applied to the whole
    object: an object part of which is RED is handled as RED. That can hide more than needed,
    never less.
    """
    refs = obj.get("object_marking_refs")
    if isinstance(refs, list):
        yield from (ref for ref in refs if isinstance(ref, str))
    granular = obj.get("granular_markings")
    if isinstance(granular, list):
        for marking in granular:
            if isinstance(marking, Mapping):
                ref = marking.get("marking_ref")
                if isinstance(ref, str):
                    yield ref


def tlp_of(obj: Mapping[str, Any]) -> Tlp | None:
    """The most restrictive TLP marking on an object, or None when it carries none."""
    refs = obj.get("object_marking_refs")
    if type(refs) is list and "granular_markings" not in obj and obj.get("type") != _DEFINITION:
        # The usual object (every ATT&CK one): object-level markings only.
        best: Tlp | None = None
        for ref in refs:
            level = MARKING_TLP.get(ref) if type(ref) is str else None
            if level is not None and (best is None or level > best):
                best = level
        return best
    if (
        "object_marking_refs" not in obj
        and "granular_markings" not in obj
        and obj.get("type") != "marking-definition"
    ):
        return None
    found: Tlp | None = None
    for ref in markings_of(obj):
        level = MARKING_TLP.get(ref)
        if level is not None and (found is None or level > found):
            found = level
    if obj.get("type") == "marking-definition":
        # A TLP marking-definition is itself public: everyone must be able to resolve it.
        own = MARKING_TLP.get(str(obj.get("id")))
        if own is not None and found is None:
            return Tlp.CLEAR
    return found
