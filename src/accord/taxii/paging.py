"""Opaque, signed ``next`` tokens for TAXII pagination (TAXII 2.1 section 3.4).

A token names the position after which the next page starts: the insertion sequence of the
last version served (the keyset; ``objects.seq`` follows ``date_added``) and its id, with a
hash of the request's filters, signed with HMAC-SHA256 under a secret the node keeps in its
database. The server keeps no per-client state: any worker can continue any client's paging,
a token survives restarts, and tokens cannot be forged to start elsewhere or reused with
other filters (that answers 400). Objects added while a client pages get larger sequence
numbers and so appear on later pages, never twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from collections.abc import Iterable

import orjson

from accord.taxii.errors import TaxiiError

_VERSION = 1
_HEADER = struct.Struct(">BQ")  # token version, sequence number
_MAC_BYTES = 16


def filter_hash(*parts: Iterable[str] | str | None) -> bytes:
    """A digest of what a listing was asked for (endpoint, collection, filters; not the
    limit, which a client may change from page to page)."""
    canonical = [
        sorted(part) if part is not None and not isinstance(part, str) else part for part in parts
    ]
    return hashlib.sha256(orjson.dumps(canonical)).digest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, body: bytes, filters: bytes) -> bytes:
    return hmac.new(secret, body + filters, hashlib.sha256).digest()[:_MAC_BYTES]


def encode(secret: bytes, seq: int, object_id: str, filters: bytes) -> str:
    body = _HEADER.pack(_VERSION, seq) + object_id.encode()
    return _b64(body + _mac(secret, body, filters))


def decode(secret: bytes, token: str, filters: bytes) -> int:
    """The sequence number after which the next page starts; 400 for a token this node did
    not give out for these filters."""
    try:
        raw = _unb64(token.strip())
    except (binascii.Error, ValueError):
        raw = b""
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(body) < _HEADER.size or not hmac.compare_digest(mac, _mac(secret, body, filters)):
        raise TaxiiError(
            400,
            "the 'next' token is not one this server gave out for this request "
            "(filters must stay the same from page to page)",
        )
    version, seq = _HEADER.unpack_from(body)
    if version != _VERSION:
        raise TaxiiError(400, "the 'next' token is from another version of this server")
    return int(seq)
