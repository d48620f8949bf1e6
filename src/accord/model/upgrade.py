"""STIX 2.0 to 2.1, one object at a time.

The rules are the published differences between the two specs (the STIX 2.1 specification's
list of changes from 2.0, as the ATT&CK 2.1 rebuild and cti-python-stix2 apply them); each is
written up in docs/stix20-upgrade.md. The upgrade changes only what 2.1 renamed or newly
requires. It never repairs a defect, so `validate_object` on the result still reports what was
wrong in the 2.0 object (an identity_class given as a list, a last_seen before first_seen).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from accord.model.errors import StixError
from accord.model.stix_identifiers import SCO_TYPES

__all__ = ["ABSENT", "bundle_spec_version", "spec_version_of", "upgrade_object"]

KNOWN_VERSIONS: Final = frozenset({"2.0", "2.1"})

# In 2.0, ``labels`` on these types was the required type vocabulary (malware-label-ov, ...);
# 2.1 moved that meaning to ``<type>_types`` and made ``labels`` plain tags (STIX 2.1 §3.2).
LABELS_TO_TYPES: Final[dict[str, str]] = {
    "indicator": "indicator_types",
    "malware": "malware_types",
    "report": "report_types",
    "threat-actor": "threat_actor_types",
    "tool": "tool_types",
}


def _version_of(value: object, where: str) -> str:
    if type(value) is not str or value not in KNOWN_VERSIONS:
        raise StixError(f"{where} has spec_version {value!r}; only STIX 2.0 and 2.1 are supported")
    return str(value)


def bundle_spec_version(bundle: Mapping[str, Any]) -> str:
    """The STIX version of a bundle as a whole: "2.0" or "2.1".

    A 2.0 bundle says ``spec_version: "2.0"`` on the bundle itself (STIX 2.0 Part 1, Bundle:
    the only place 2.0 puts it). A 2.1 bundle has none, but its SDOs, SROs and meta objects each
    carry ``"2.1"`` (STIX 2.1 §3.1). A bundle with neither -- objects that need a spec_version
    in 2.1 and lack one -- is a 2.0 bundle whose producer left the field out. Raises StixError
    for anything that is not a bundle, or that names another version."""
    if not isinstance(bundle, Mapping) or bundle.get("type") != "bundle":
        raise StixError('not a STIX bundle: the document needs "type": "bundle"')
    objects = bundle.get("objects", [])
    if not isinstance(objects, list):
        raise StixError("the bundle's objects must be a list")
    return spec_version_of(
        bundle.get("spec_version", ABSENT),
        (
            (obj.get("spec_version", ABSENT), obj.get("type"))
            if isinstance(obj, Mapping)
            else (ABSENT, NOT_AN_OBJECT)  # reported per object by validation
            for obj in objects
        ),
    )


ABSENT: Final = object()  # a property not given (None would be a given JSON null)
NOT_AN_OBJECT: Final = object()  # in place of the type of a bundle entry that is no object


def spec_version_of(bundle_version: object, objects: Iterable[tuple[object, object]]) -> str:
    """:func:`bundle_spec_version` from the bundle's ``spec_version`` and each object's
    ``(spec_version, type)``, either one ``ABSENT`` where the property is not given; shared
    with the reader that decodes only these keys (accord.ingest.version_keys)."""
    if bundle_version is not ABSENT:
        return _version_of(bundle_version, "the bundle")
    seen: set[str] = set()
    needs_version = False  # an object of a kind that 2.1 requires to carry spec_version
    for index, (version, object_type) in enumerate(objects):
        if object_type is NOT_AN_OBJECT:
            continue
        if version is not ABSENT:
            seen.add(_version_of(version, f"object {index}"))
        elif object_type not in SCO_TYPES:
            needs_version = True
    if "2.1" in seen:
        return "2.1"  # objects missing spec_version beside it are reported by validation
    if "2.0" in seen or needs_version:
        return "2.0"
    return "2.1"  # empty, or only SCOs, which 2.0 never had at top level


def upgrade_object(obj: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The 2.1 form of a 2.0 object, and what was changed, one human-readable line per rule.

    Untouched keys keep their order; a renamed key keeps its place; new keys go beside the key
    they belong with. An object already marked 2.1 comes back as an unchanged copy."""
    spec_version = obj.get("spec_version")
    if spec_version == "2.1":
        return dict(obj), []
    if spec_version is not None:
        _version_of(spec_version, "the object")
    object_type = obj.get("type")
    changes: list[str] = []
    items = list(obj.items())

    # Rule 1: every 2.1 object but an SCO carries spec_version (§3.1); put it after type, where
    # 2.1 producers write it.
    items = [(key, value) for key, value in items if key != "spec_version"]
    position = next((i + 1 for i, (key, _) in enumerate(items) if key == "type"), 0)
    items.insert(position, ("spec_version", "2.1"))
    changes.append(
        'spec_version: set to "2.1"' if spec_version is None else 'spec_version: "2.0" -> "2.1"'
    )

    # Rule 2: labels became <type>_types on the five types where it was the type vocabulary.
    target = LABELS_TO_TYPES.get(object_type) if isinstance(object_type, str) else None
    if target is not None and "labels" in obj:
        if target in obj:
            changes.append(f"labels: kept, because {target} is already present")
        else:
            items = [(target if key == "labels" else key, value) for key, value in items]
            changes.append(f"labels: renamed to {target} (the {object_type} type vocabulary)")

    # Rule 3: malware.is_family is required in 2.1 (§4.11); a 2.0 malware object described a
    # family (2.0 had no instances), so true.
    if object_type == "malware" and "is_family" not in obj:
        items.append(("is_family", True))
        changes.append("is_family: set to true (2.0 malware objects describe families)")

    # Rule 4: indicator.pattern_type is required in 2.1 (§4.7); 2.0 patterns were all STIX
    # patterns. Some 2.0 producers already wrote it; then it is kept.
    if object_type == "indicator" and "pattern_type" not in obj:
        keys = [key for key, _ in items]
        at = keys.index("pattern") + 1 if "pattern" in keys else len(items)
        items.insert(at, ("pattern_type", "stix"))
        changes.append('pattern_type: set to "stix" (the only pattern language of 2.0)')

    return dict(items), changes
