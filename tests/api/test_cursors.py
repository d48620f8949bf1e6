"""Cursors are opaque (`accord.store.cursors`): REST ``/objects`` and ``/audit`` cursors and
TAXII ``next`` tokens carry the insertion sequence encrypted, bound to the caller, the
listing and the node; anything else answers 400."""

from __future__ import annotations

import base64
import struct
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.cursors import BadCursor, Cursors, listing
from accord.store.node import Store
from accord.store.schema import objects
from accord.taxii.collections import DEFAULT_ID

TAXII = "application/taxii+json;version=2.1"
OBJECTS = f"/taxii2/accord/collections/{DEFAULT_ID}/objects/"
COUNT = 150  # enough for sequences of three digits


def _indicator(number: int) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{number:012d}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"indicator {number}",
        "pattern": f"[ipv4-addr:value = '10.1.{number // 256}.{number % 256}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }


def _load(api: Any) -> set[int]:
    """COUNT GREEN indicators from the CERT analyst, and an AMBER one for the police in the
    middle (a gap in the water utility's sequence); answers every sequence number."""
    cert = api.client("analyst@cert.example")
    cert.ingest([_indicator(n) for n in range(COUNT // 2)], tlp="green")
    cert.ingest([_indicator(COUNT)], tlp="amber", recipients=["Police Cyber Unit"])
    cert.ingest([_indicator(n) for n in range(COUNT // 2, COUNT)], tlp="green")
    with api.store.engine.connect() as conn:
        return set(conn.execute(select(objects.c.seq)).scalars())


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _reveals(token: str, seq: int) -> bool:
    """Whether ``token``'s bytes hold ``seq`` as text (three digits or more: shorter ones
    turn up in random bytes by chance) or as an 8- or 4-byte integer."""
    raw = _raw(token)
    forms = [struct.pack(f"{order}{size}", seq) for order in "<>" for size in "QI"]
    if seq >= 100:
        forms.append(str(seq).encode())
    return any(form in raw for form in forms) or str(seq) == token


def _pages(
    client: Any, path: str, limit: int, key: str, **params: Any
) -> tuple[list[str], list[str]]:
    """Follow a listing to its end: the ids served, and the cursors given."""
    ids: list[str] = []
    tokens: list[str] = []
    query: dict[str, Any] = {"limit": limit, **params}
    while True:
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [o["id"] for o in body.get("objects", [])]
        if not body.get("next"):
            return ids, tokens
        tokens.append(body["next"])
        query[key] = body["next"]


def test_rest_cursors_are_opaque_and_bound(api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seqs = _load(api)
    water = api.client("soc@water.example").http
    ids, tokens = _pages(water, "/api/v1/objects", 7, "cursor", type="indicator")
    assert len(ids) == len(set(ids)) == COUNT  # every visible object once; the AMBER one not
    everything, _ = _pages(water, "/api/v1/objects", 1000, "cursor", type="indicator")
    assert sorted(ids) == sorted(everything)
    assert len(tokens) == COUNT // 7 and len({len(t) for t in tokens}) == 1
    for token in tokens:
        assert not any(_reveals(token, seq) for seq in seqs), token
    cursor = {"type": "indicator", "limit": 7, "cursor": tokens[0]}
    assert water.get("/api/v1/objects", params=cursor).status_code == 200
    # another caller (the same organisation's, too), other filters, another listing
    boss = api.client("boss@water.example").http
    for client, params in (
        (boss, cursor),
        (api.client("analyst@cert.example").http, cursor),
        (water, cursor | {"type": "malware"}),
        (water, {"limit": 7, "cursor": tokens[0]}),
    ):
        refused = client.get("/api/v1/objects", params=params)
        assert refused.status_code == 400, refused.text
        assert "not a cursor this node gave out to you" in refused.json()["detail"]
    assert boss.get("/api/v1/audit", params={"cursor": tokens[0]}).status_code == 400
    # tampered with, or garbage
    raw = bytearray(_raw(tokens[0]))
    for position in (0, 5, len(raw) - 1):
        changed = raw.copy()
        changed[position] ^= 1
        token = base64.urlsafe_b64encode(bytes(changed)).decode().rstrip("=")
        assert water.get("/api/v1/objects", params=cursor | {"cursor": token}).status_code == 400
    for junk in ("!!", "MTAw", "x" * 50, tokens[0][:-2], tokens[0] + "AA"):
        assert water.get("/api/v1/objects", params=cursor | {"cursor": junk}).status_code == 400
    # another node's cursor, for the same caller and listing, does not open here
    other = Store.open(f"sqlite:///{tmp_path / 'other.db'}")
    other.init()
    try:
        viewer = api.store.directory.viewer(api.store.directory.user("soc@water.example"))
        asked = listing("GET /objects", ["indicator"], None, None, None)
        foreign = Cursors(other.engine).seal(min(seqs), viewer, asked)
        assert api.store.cursors.open(api.store.cursors.seal(5, viewer, asked), viewer, asked) == 5
        with pytest.raises(BadCursor):
            api.store.cursors.open(foreign, viewer, asked)
    finally:
        other.close()
    refused = water.get("/api/v1/objects", params=cursor | {"cursor": foreign})
    assert refused.status_code == 400


def test_audit_cursors_are_opaque(api) -> None:  # type: ignore[no-untyped-def]
    _load(api)
    admin = api.client("admin@node.example")
    for n in range(120):
        admin.lookup(f"10.1.0.{n}")
    seqs = {entry.seq for entry in api.store.audit.entries(limit=10_000)}
    _, tokens = _pages(admin.http, "/api/v1/audit", 9, "cursor")
    assert tokens and not any(_reveals(t, seq) for t in tokens for seq in seqs)
    assert len(admin.audit()) == len(seqs)
    other = api.client("boss@water.example").http
    assert other.get("/api/v1/audit", params={"cursor": tokens[0]}).status_code == 400


def test_taxii_tokens_are_opaque_and_bound(api) -> None:  # type: ignore[no-untyped-def]
    seqs = _load(api)

    def taxii(email: str) -> Any:
        http = api.client(email).http
        http.headers["Accept"] = TAXII
        return http

    water = taxii("soc@water.example")
    ids, tokens = _pages(water, OBJECTS, 11, "next", **{"match[type]": "indicator"})
    assert len(ids) == len(set(ids)) == COUNT and tokens
    for token in tokens:
        assert not any(_reveals(token, seq) for seq in seqs), token
    params = {"limit": 11, "next": tokens[0], "match[type]": "indicator"}
    for client in (taxii("boss@water.example"), taxii("analyst@cert.example")):
        refused = client.get(OBJECTS, params=params)
        assert refused.status_code == 400 and "gave out to you" in refused.json()["description"]
    raw = bytearray(_raw(tokens[0]))
    raw[-3] ^= 0x80
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    assert water.get(OBJECTS, params=params | {"next": tampered}).status_code == 400
    # a REST cursor is not a TAXII token, nor the other way round
    rest = api.client("soc@water.example").http
    _, rest_tokens = _pages(rest, "/api/v1/objects", 11, "cursor", type="indicator")
    assert water.get(OBJECTS, params=params | {"next": rest_tokens[0]}).status_code == 400
    assert (
        rest.get(
            "/api/v1/objects", params={"type": "indicator", "limit": 11, "cursor": tokens[0]}
        ).status_code
        == 400
    )


def test_cursor_key_is_made_once_per_store(store: Store, store_url: str) -> None:
    """Two processes of one node (two Store objects over one database) share the key."""
    second = Store.open(store_url)
    try:
        someone = Viewer(org_id="identity--00000000-0000-4000-8000-000000000001", user_id="u")
        asked = listing("GET /objects", [], None, Tlp.GREEN.slug, None)
        token = store.cursors.seal(123456, someone, asked)
        assert second.cursors.open(token, someone, asked) == 123456
        assert token != store.cursors.seal(123456, someone, asked)  # a random nonce each time
        with pytest.raises(BadCursor):
            second.cursors.open(token, Viewer(org_id=someone.org_id, user_id="v"), asked)
    finally:
        second.close()
