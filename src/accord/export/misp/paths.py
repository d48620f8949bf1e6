"""STIX object paths and the MISP attribute types whose values they hold.

The reverse of ``accord.ingest.misp.attributes`` (the layers keep ingest and export apart, so
the table is written again here, all but the hash names both share from the model; the
round-trip test proves the two agree).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from accord.model.hashes import MISP_HASH_TYPES

_HASHES: Final = MISP_HASH_TYPES

# MISP type -> the normalised paths of its '|'-separated parts.
TYPE_PATHS: Final[dict[str, tuple[str, ...]]] = {
    "domain": ("domain-name:VALUE",),
    "hostname": ("domain-name:VALUE",),
    "domain|ip": ("domain-name:VALUE", "domain-name:RESOLVES_TO_REFS.VALUE"),
    "hostname|port": ("domain-name:VALUE", "network-traffic:DST_PORT"),
    "ip-dst": ("network-traffic:DST_REF.VALUE",),
    "ip-src": ("network-traffic:SRC_REF.VALUE",),
    "ip-dst|port": ("network-traffic:DST_REF.VALUE", "network-traffic:DST_PORT"),
    "ip-src|port": ("network-traffic:SRC_REF.VALUE", "network-traffic:SRC_PORT"),
    "port": ("network-traffic:DST_PORT",),
    "url": ("url:VALUE",),
    "link": ("url:VALUE",),
    "uri": ("url:VALUE",),
    "email": ("email-addr:VALUE",),
    "email-src": ("email-message:FROM_REF.VALUE",),
    "email-dst": ("email-message:TO_REFS.VALUE",),
    "email-subject": ("email-message:SUBJECT",),
    "email-body": ("email-message:BODY",),
    "email-message-id": ("email-message:MESSAGE_ID",),
    "email-reply-to": ("email-message:ADDITIONAL_HEADER_FIELDS.REPLY_TO",),
    "email-x-mailer": ("email-message:ADDITIONAL_HEADER_FIELDS.X_MAILER",),
    "email-header": ("email-message:RECEIVED_LINES",),
    "email-attachment": ("email-message:BODY_MULTIPART.BODY_RAW_REF.NAME",),
    "filename": ("file:NAME",),
    "size-in-bytes": ("file:SIZE",),
    "mac-address": ("mac-addr:VALUE",),
    "mutex": ("mutex:NAME",),
    "regkey": ("windows-registry-key:KEY",),
    "regkey|value": ("windows-registry-key:KEY", "windows-registry-key:VALUES.DATA"),
    "AS": ("autonomous-system:NUMBER",),
    "github-username": ("user-account:ACCOUNT_LOGIN",),
    "http-method": ("network-traffic:EXTENSIONS.HTTP-REQUEST-EXT.REQUEST_METHOD",),
    "user-agent": ("network-traffic:EXTENSIONS.HTTP-REQUEST-EXT.REQUEST_HEADER.USER-AGENT",),
    "x509-fingerprint-md5": ("x509-certificate:HASHES.MD5",),
    "x509-fingerprint-sha1": ("x509-certificate:HASHES.SHA1",),
    "x509-fingerprint-sha256": ("x509-certificate:HASHES.SHA256",),
    "malware-sample": ("file:NAME", "file:HASHES.MD5"),
    "attachment": ("file:NAME",),
    **{name: (f"file:HASHES.{stix.replace('-', '')}",) for name, stix in _HASHES.items()},
    **{
        f"filename|{name}": ("file:NAME", f"file:HASHES.{stix.replace('-', '')}")
        for name, stix in _HASHES.items()
    },
    "sha512/224": ("file:HASHES.SHA224",),
    "sha512/256": ("file:HASHES.SHA256",),
    "filename|sha512/224": ("file:NAME", "file:HASHES.SHA224"),
    "filename|sha512/256": ("file:NAME", "file:HASHES.SHA256"),
}
# Without a misp:type label: the type a single path most likely held.
_GUESS: Final[dict[str, str]] = {
    "ipv4-addr:VALUE": "ip-dst",
    "ipv6-addr:VALUE": "ip-dst",
    **{paths[0]: name for name, paths in reversed(TYPE_PATHS.items()) if len(paths) == 1},
}
_HEADER_PATHS: Final = {"REPLY-TO": "REPLY_TO", "X-MAILER": "X_MAILER"}
_COMPARISON: Final = re.compile(
    r"([a-z0-9-]+):((?:[A-Za-z0-9_\[\]*.-]|'[^']*')+)\s*=\s*'((?:[^'\\]|\\.)*)'"
)
_UNESCAPE: Final = re.compile(r"\\(['\\])")
_HASH_NAME: Final = re.compile(r"(HASHES\.)([A-Z0-9-]+)")


def normalise_path(object_type: str, path: str) -> str:
    """``file:hashes.'SHA-256'`` -> ``file:HASHES.SHA256``: one spelling per path."""
    text = path.replace("'", "").upper()
    text = re.sub(r"\[(\*|\d+)\]", "", text)
    for header, snake in _HEADER_PATHS.items():
        text = text.replace(
            f"ADDITIONAL_HEADER_FIELDS.{header}", f"ADDITIONAL_HEADER_FIELDS.{snake}"
        )
    text = _HASH_NAME.sub(lambda m: m.group(1) + m.group(2).replace("-", ""), text)
    return f"{object_type}:{text}"


def pattern_pairs(pattern: str) -> list[tuple[str, str]]:
    """(normalised path, value) of a STIX pattern's equality comparisons, in order."""
    return [
        (normalise_path(object_type, path), _UNESCAPE.sub(r"\1", value))
        for object_type, path, value in _COMPARISON.findall(pattern)
        if not path.endswith(".type") and not path.endswith("account_type")
    ]


def sco_pairs(
    roots: Iterable[Mapping[str, Any]], by_id: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """(normalised path, value) of the SCOs an observed-data references, from its roots."""
    found: list[tuple[str, str]] = []
    for root in roots:
        _walk(str(root["type"]), "", root, by_id, found, 0)
    return found


def _walk(
    root_type: str,
    prefix: str,
    value: Any,
    by_id: Mapping[str, Mapping[str, Any]],
    out: list[tuple[str, str]],
    depth: int,
) -> None:
    if depth > 4:
        return
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key in ("id", "type", "spec_version", "object_marking_refs", "extensions"):
                continue
            if str(key).startswith("x_misp_"):
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            if str(key).endswith(("_ref", "_refs")):
                targets = inner if isinstance(inner, list) else [inner]
                for target in targets:
                    if isinstance(target, str) and target in by_id:
                        _walk(root_type, path, by_id[target], by_id, out, depth + 1)
                continue
            _walk(root_type, path, inner, by_id, out, depth + 1)
    elif isinstance(value, list):
        for inner in value:
            _walk(root_type, prefix, inner, by_id, out, depth + 1)
    elif prefix and not prefix.endswith(("PROTOCOLS", "protocols", "is_multipart")):
        if prefix.endswith("content_disposition") or prefix == "account_type":
            return
        out.append((normalise_path(root_type, prefix), str(value)))


def value_for(misp_type: str, pairs: list[tuple[str, str]]) -> str | None:
    """The MISP value of a type from its (path, value) pairs, or None if a part is missing."""
    paths = TYPE_PATHS.get(misp_type)
    if paths is None:
        return None
    found = dict(reversed(pairs))  # first value per path wins
    parts = [found.get(path) for path in paths]
    if parts[0] is None and misp_type in ("ip-dst", "ip-src"):  # a bare address SCO
        parts[0] = found.get("ipv4-addr:VALUE") or found.get("ipv6-addr:VALUE")
    if parts[0] is None:
        return None
    return "|".join(part for part in parts if part is not None)


def guess_type(pairs: list[tuple[str, str]]) -> str | None:
    """The MISP type of a pattern or observation that carries no ``misp:type`` label."""
    paths = [path for path, _ in pairs]
    if len(paths) == 2 and paths[0] == "file:NAME" and paths[1].startswith("file:HASHES."):
        for name, known in TYPE_PATHS.items():
            if known == (paths[0], paths[1]) and name.startswith("filename|"):
                return name
    return _GUESS.get(paths[0]) if paths else None
