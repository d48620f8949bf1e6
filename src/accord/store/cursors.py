"""Opaque cursors: where the next page of a listing starts, sealed for one caller and one query.

Every paged listing (REST ``/objects`` and ``/audit``, TAXII 2.1 ``next``, section 3.4) pages
by keyset on an insertion sequence, which is global: the gaps between the sequences a
caller is shown would count the objects hidden from them. So a cursor is the sequence
encrypted and authenticated (AES-256-GCM, with a random 96-bit nonce) under a key the node
makes once and keeps in its database (``node_secrets``), so that every worker process of the
node opens every other's cursors and a cursor survives restarts. The associated data binds
it to the caller (organisation and user) and to what the listing was asked for
(`listing`): another caller's cursor, another node's, one for other filters or one changed
in transit does not open (`BadCursor`; the routes answer 400).

The token is base64url of: a version byte, the nonce, the ciphertext of the 8-byte sequence
and GCM's 16-byte tag (50 characters). The random nonce makes two cursors for the same
position differ; with 96-bit random nonces one key stays well within GCM's bounds for
billions of cursors (NIST SP 800-38D, section 8.3).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import struct
import threading
from collections.abc import Iterable

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, select

from accord.model.visibility import Viewer
from accord.store.dialects import backend_for
from accord.store.engine import write_transaction
from accord.store.schema import node_secrets

KEY_NAME = "cursor-key"  # its row in node_secrets
_VERSION = 1
_NONCE_BYTES = 12
_SEQ = struct.Struct(">Q")
_TOKEN_BYTES = 1 + _NONCE_BYTES + _SEQ.size + 16


class BadCursor(ValueError):
    """A cursor this node did not give out to this caller for this listing."""


def listing(*parts: Iterable[str] | str | None) -> bytes:
    """A digest of what a listing was asked for (endpoint, collection, filters; not the
    limit, which a client may change from page to page). Sets of values are given as
    iterables and digested in sorted order."""
    canonical = [
        sorted(part) if part is not None and not isinstance(part, str) else part for part in parts
    ]
    return hashlib.sha256(orjson.dumps(canonical)).digest()


def _bound(viewer: Viewer, query: bytes) -> bytes:
    """The associated data: the format, the caller, the listing."""
    caller = orjson.dumps([viewer.org_id, viewer.user_id])
    return b"accord-cursor" + bytes([_VERSION]) + hashlib.sha256(caller).digest() + query


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return b""


def node_secret(engine: Engine, name: str, size: int = 32) -> bytes:
    """The node's secret called ``name``: made the first time it is asked for, then read
    from the database by every process (two first askers both insert; one row stays)."""
    stmt = select(node_secrets.c.value).where(node_secrets.c.name == name)
    with engine.connect() as conn:
        value = conn.execute(stmt).scalar()
    if value is None:
        with write_transaction(engine) as conn:
            backend_for(conn).insert_missing(
                conn, node_secrets, [{"name": name, "value": secrets.token_hex(size)}]
            )
            value = conn.execute(stmt).scalar_one()
    return bytes.fromhex(value)


class Cursors:
    """Seals and opens the node's cursors; the key is read once per process (`load`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._aead: AESGCM | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Read (or make) the node's cursor key, if not read yet (the app does this when it
        starts; otherwise the first cursor does)."""
        self._key()

    def _key(self) -> AESGCM:
        aead = self._aead
        if aead is None:
            with self._lock:
                if self._aead is None:
                    self._aead = AESGCM(node_secret(self.engine, KEY_NAME))
                aead = self._aead
        return aead

    def seal(self, seq: int, viewer: Viewer, query: bytes) -> str:
        """The cursor for the position after ``seq``, for ``viewer`` and the listing ``query``
        (`listing`)."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._key().encrypt(nonce, _SEQ.pack(seq), _bound(viewer, query))
        return _b64(bytes([_VERSION]) + nonce + sealed)

    def open(self, token: str, viewer: Viewer, query: bytes) -> int:
        """The sequence a cursor sealed for ``viewer`` and ``query`` names; `BadCursor` for
        anything else."""
        raw = _unb64(token.strip())
        if len(raw) != _TOKEN_BYTES or raw[0] != _VERSION:
            raise BadCursor("not a cursor this node gave out")
        nonce, sealed = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
        try:
            plain = self._key().decrypt(nonce, sealed, _bound(viewer, query))
        except InvalidTag:
            raise BadCursor("not a cursor this node gave out") from None
        return int(_SEQ.unpack(plain)[0])
