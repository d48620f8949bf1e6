"""Where the live audit log's hash chain starts once old entries were archived
(`accord.store.audit_archive`, docs/audit.md), and the key that signs the archives.

Each archive's manifest (first and last sequence number, the hash its first entry follows,
the last entry's hash, ...) is signed with the node's archive key and kept, one row per
archive, in ``audit_archives``. The newest row is the *anchor*: the live log's first entry
must follow its last hash, as an entry follows the one before it. `start` reads the anchor
and checks every row (signature, the columns against the signed manifest, each archive
following the one before it), so a changed anchor is found even where the live chain itself
would still link.

The key. The node had no signing key (its federation identity is a STIX identity, its TLS
key a file the server is given), so archives get their own: an Ed25519 key whose 32-byte
seed is a node secret (``node_secrets``, like the cursor key), made the first time an archive
is written. It is kept with the data, so it proves that an archive was made by a holder of
this node's database, not by a stranger; an operator who wants more keeps the public key
(`accord audit archive` prints it) apart from the node.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, Engine, select

from accord.store.cursors import node_secret
from accord.store.schema import audit_archives, node_secrets

KEY_NAME = "audit-archive-key"  # its row in node_secrets: the Ed25519 seed, in hex
_SIGNED = b"accord-audit-archive 1\n"  # what a signature is over begins so (domain separation)


def signing_key(engine: Engine) -> Ed25519PrivateKey:
    """The node's archive key, made the first time it is asked for."""
    return Ed25519PrivateKey.from_private_bytes(node_secret(engine, KEY_NAME, 32))


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def node_public_key(conn: Connection) -> str | None:
    """This node's archive public key (hex), or None when it never archived (read only:
    checking never makes a key)."""
    seed = conn.execute(
        select(node_secrets.c.value).where(node_secrets.c.name == KEY_NAME)
    ).scalar()
    if seed is None:
        return None
    return public_hex(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed)))


def fingerprint(public_key: str) -> str:
    """A short name for a public key (hex), for messages: the first 16 hex digits of its
    SHA-256."""
    try:
        return hashlib.sha256(bytes.fromhex(public_key)).hexdigest()[:16]
    except ValueError:
        return "(not a key)"


def signed_bytes(manifest: dict[str, Any]) -> bytes:
    """What the signature covers: every field of the manifest but the signature, in a
    canonical JSON (sorted keys)."""
    fields = {name: value for name, value in manifest.items() if name != "signature"}
    return _SIGNED + orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def sign(key: Ed25519PrivateKey, manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with its ``public_key`` and ``signature``."""
    unsigned = {**manifest, "public_key": public_hex(key)}
    unsigned.pop("signature", None)
    return {**unsigned, "signature": key.sign(signed_bytes(unsigned)).hex()}


def signature_problem(manifest: dict[str, Any], node_key: str | None) -> str | None:
    """Why ``manifest``'s signature does not show that this node made it, or None. The key
    is checked first: a file signed, validly, by another node is not this node's."""
    public = manifest.get("public_key")
    if not isinstance(public, str):
        return "its manifest names no public key"
    if node_key is None:
        return (
            f"it is signed by key {fingerprint(public)}, and this node has no archive key "
            "(it never archived): a file from another node"
        )
    if public != node_key:
        return (
            f"it is signed by another node's key ({fingerprint(public)}; this node's is "
            f"{fingerprint(node_key)})"
        )
    try:
        signature = bytes.fromhex(str(manifest.get("signature", "")))
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(
            signature, signed_bytes(manifest)
        )
    except (InvalidSignature, ValueError):
        return "its signature does not verify: the manifest was changed after it was signed"
    return None


@dataclass(frozen=True, slots=True)
class Start:
    """Where the live chain starts: after the archived entry ``seq`` with hash ``hash``
    (0 and GENESIS when nothing was archived), and what is wrong with the anchors."""

    seq: int
    hash: str
    problems: tuple[str, ...] = ()
    archives: int = 0  # how many archives were made


def start(conn: Connection, genesis: str) -> Start:
    """The anchor of the live chain, every archive row checked (see the module)."""
    rows = conn.execute(select(audit_archives).order_by(audit_archives.c.seq)).all()
    if not rows:
        return Start(0, genesis)
    node_key = node_public_key(conn)
    problems: list[str] = []
    follows = genesis
    for row in rows:
        try:
            manifest = orjson.loads(row.manifest)
        except orjson.JSONDecodeError:
            problems.append(f"archive record {row.seq}: its manifest cannot be read")
            continue
        if not isinstance(manifest, dict):
            problems.append(f"archive record {row.seq}: its manifest cannot be read")
            continue
        found = signature_problem(manifest, node_key)
        if found is not None:
            problems.append(f"archive record {row.seq} (through entry {row.last_seq}): {found}")
        if manifest.get("last_seq") != row.last_seq or manifest.get("last_hash") != row.last_hash:
            problems.append(
                f"archive record {row.seq}: its last entry ({row.last_seq}, {row.last_hash[:12]}) "
                "is not the one its signed manifest names (the record was changed)"
            )
        if manifest.get("first_prev_hash") != follows:
            problems.append(
                f"archive record {row.seq}: it does not follow the archive before it "
                "(a record was deleted or changed)"
            )
        follows = row.last_hash
    newest = rows[-1]
    return Start(int(newest.last_seq), str(newest.last_hash), tuple(problems), len(rows))
