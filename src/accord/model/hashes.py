"""File hashes: typed by shape, canonical text, STIX hash algorithm names.

Hex digests are lower-cased. SSDEEP digests are base64 and case-sensitive, so they are kept
as given. TLSH digests are lower-cased with the "t1" version prefix added when missing: TLSH
4.0 only prepended "T1" to the same 70-hex digest (https://github.com/trendmicro/tlsh,
README "T1" section), so both spellings are one value.
"""

from __future__ import annotations

import re
from typing import Final

from accord.model.observable_types import Observable, ObservableError

_HEX: Final = re.compile(r"[0-9a-fA-F]+")
_HEX_KIND_BY_LENGTH: Final[dict[int, str]] = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
# Which hex lengths each hex kind accepts (SHA3 shares lengths with SHA2, so shape alone
# cannot tell them apart; the caller's kind or STIX hash name decides).
_HEX_LENGTH: Final[dict[str, int]] = {
    "md5": 32,
    "sha1": 40,
    "sha256": 64,
    "sha512": 128,
    "sha3-256": 64,
    "sha3-512": 128,
}
# ssdeep: "blocksize:hash:hash", base64 alphabet (ssdeep's fuzzy.c b64 table).
_SSDEEP: Final = re.compile(r"[0-9]{1,10}:[0-9A-Za-z+/]{1,128}:[0-9A-Za-z+/]{0,128}")
_TLSH: Final = re.compile(r"(?:[tT]1)?[0-9a-fA-F]{70}|[0-9a-fA-F]{72}")

# STIX 2.1 hash-algorithm-ov (section 10.7) names, compared upper-cased with "-" and "_"
# removed so that "SHA-256", "sha256" and "SHA_256" are one name.
_KIND_BY_HASH_NAME: Final[dict[str, str]] = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA256": "sha256",
    "SHA512": "sha512",
    "SHA3256": "sha3-256",
    "SHA3512": "sha3-512",
    "SSDEEP": "ssdeep",
    "TLSH": "tlsh",
}


# MISP's hash attribute types and the STIX 2.1 hash-algorithm names (section 10.7) that
# misp-stix writes for them: one table for the MISP import and the export.
MISP_HASH_TYPES: Final[dict[str, str]] = {
    "md5": "MD5",
    "sha1": "SHA-1",
    "sha224": "SHA-224",
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
    "sha3-224": "SHA3-224",
    "sha3-256": "SHA3-256",
    "sha3-384": "SHA3-384",
    "sha3-512": "SHA3-512",
    "ssdeep": "SSDEEP",
    "tlsh": "TLSH",
    "imphash": "IMPHASH",
    "authentihash": "AUTHENTIHASH",
    "pehash": "PEHASH",
    "vhash": "VHASH",
    "telfhash": "TELFHASH",
}


def kind_for_hash_name(name: str) -> str | None:
    """The hash kind for a STIX hash algorithm name ("SHA-256", "sha256", "MD5", ...).

    None for algorithms the index does not keep (SHA-224, SHA-384, WHIRLPOOL, custom).
    """
    key = name.strip().strip("'").upper().replace("-", "").replace("_", "")
    return _KIND_BY_HASH_NAME.get(key)


def hash_kind(value: str) -> str | None:
    """The hash kind `value` looks like, by length and shape; None if it looks like none.

    64 and 128 hex digits are taken as SHA-256 and SHA-512 (SHA3 of the same length cannot be
    told apart by shape).
    """
    text = value.strip()
    if _HEX.fullmatch(text):
        kind = _HEX_KIND_BY_LENGTH.get(len(text))
        if kind is not None:
            return kind
    if _TLSH.fullmatch(text):
        return "tlsh"
    if _SSDEEP.fullmatch(text):
        return "ssdeep"
    return None


def normalise_hash(kind: str, value: str) -> Observable:
    """Normalise `value` as a hash of `kind`; raises `ObservableError` if its shape is wrong."""
    text = value.strip()
    expected_length = _HEX_LENGTH.get(kind)
    if expected_length is not None:
        if len(text) != expected_length or _HEX.fullmatch(text) is None:
            raise ObservableError(
                f"not a {kind} hash ({expected_length} hex digits): {value!r}" + _shape_hint(text)
            )
        return Observable(kind, text.lower())
    if kind == "ssdeep":
        if _SSDEEP.fullmatch(text) is None:
            raise ObservableError(f"not an ssdeep hash (blocksize:hash:hash): {value!r}")
        return Observable(kind, text)
    if kind == "tlsh":
        if _TLSH.fullmatch(text) is None:
            raise ObservableError(f"not a TLSH hash ('T1' and 70 hex digits): {value!r}")
        lowered = text.lower()
        return Observable(kind, lowered if len(lowered) != 70 else "t1" + lowered)
    raise ObservableError(f"not a hash kind: {kind!r}")


def _shape_hint(text: str) -> str:
    guessed = hash_kind(text)
    return f"; it looks like {guessed}" if guessed is not None else ""
