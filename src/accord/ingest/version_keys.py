"""Reading only the version keys of a bundle, without building its objects.

Re-ingesting a feed that has not changed is the common case; msgspec decodes just ``id``,
``modified`` and ``created`` of each object at C speed and skips the rest, so that a bundle
of duplicates is answered without parsing, validating or indexing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import msgspec

from accord.model.errors import StixError
from accord.model.timestamps import timestamp_key
from accord.model.upgrade import ABSENT, spec_version_of

# SCOs carry no created/modified (STIX 2.1 section 6): one version each, under this key.
UNVERSIONED = "0001-01-01T00:00:00.000000Z"


# gc=False: never part of a cycle, so not tracked by the collector (cheaper to make).
class _Key(msgspec.Struct, gc=False):
    id: object = None
    modified: object = None
    created: object = None
    type: object = None
    spec_version: object = msgspec.UNSET  # absent and null differ for the version rule


class _Bundle(msgspec.Struct, gc=False):
    objects: list[_Key] = []
    type: object = None
    spec_version: object = msgspec.UNSET


_decoder = msgspec.json.Decoder(_Bundle)


@dataclass(frozen=True, slots=True)
class BundleKeys:
    keys: list[tuple[str, str]]  # (id, modified key) per object, in bundle order
    spec_version: str  # as accord.model.upgrade.bundle_spec_version answers for the bundle


def _lax_key(stamp: str) -> str:
    """The key of the two spellings producers use nearly always, without a regex.

    Only a well-formed timestamp's key is ever stored, so a malformed stamp that slipped
    through here could match nothing stored, and is validated in full before it is written.
    """
    if len(stamp) == 24 and stamp[19] == "." and stamp[23] == "Z":  # milliseconds
        return stamp[:23] + "000Z"
    if len(stamp) == 27 and stamp[19] == "." and stamp[26] == "Z":  # microseconds
        return stamp
    return timestamp_key(stamp)


def version_key(object_id: object, modified: object, created: object) -> tuple[str, str] | None:
    """``(id, modified key)`` of an object, or None where it cannot be read."""
    if not isinstance(object_id, str):
        return None
    stamp = modified if modified is not None else created
    if stamp is None:
        return object_id, UNVERSIONED
    try:
        return object_id, _lax_key(stamp) if isinstance(stamp, str) else timestamp_key(stamp)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def bundle_keys(data: bytes | memoryview) -> BundleKeys | None:
    """The version key of every object, or None if the document is not a plain bundle whose
    every object has a readable key (the full parser then says what is wrong)."""
    try:
        bundle = _decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None  # too deep included: the full parser says so
    if bundle.type != "bundle" or not bundle.objects:
        return None
    keys: list[tuple[str, str]] = []
    append = keys.append
    for obj in bundle.objects:
        object_id, stamp = obj.id, obj.modified if obj.modified is not None else obj.created
        # The millisecond spelling nearly every producer uses, inline (this loop is most of
        # the time a bundle of duplicates takes); anything else goes the long way.
        if (
            type(object_id) is str
            and type(stamp) is str
            and len(stamp) == 24
            and stamp[19] == "."
            and stamp[23] == "Z"
        ):
            append((object_id, stamp[:23] + "000Z"))
            continue
        key = version_key(object_id, obj.modified, obj.created)
        if key is None:
            return None
        append(key)
    version = _spec_version(bundle)
    return None if version is None else BundleKeys(keys, version)


def _spec_version(bundle: _Bundle) -> str | None:
    """The bundle's version as accord.model.upgrade.spec_version_of answers it, or None for
    an unknown version (the full parser reports it)."""
    try:
        given = {obj.spec_version for obj in bundle.objects}
    except TypeError:  # a list or an object where a version belongs: the long way says so
        given = set()
    if bundle.spec_version is msgspec.UNSET and "2.1" in given and given <= _USUAL:
        return "2.1"  # what spec_version_of answers, without a Python loop per object
    try:
        return spec_version_of(
            _given(bundle.spec_version), ((_given(o.spec_version), o.type) for o in bundle.objects)
        )
    except StixError:
        return None


_USUAL: Final = frozenset({"2.0", "2.1", msgspec.UNSET})


def _given(value: object) -> object:
    return ABSENT if value is msgspec.UNSET else value
