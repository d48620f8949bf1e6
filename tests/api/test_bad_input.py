"""Bad input on every entry point (issue 14, item 10): documents nested too deep, objects with a
repeated key, integers beyond 64 bits, NUL bytes, a body too large for TAXII, HTTP Basic with
no user name. Each answers a clear 4xx (or the same as not-found), never 500, on SQLite and
PostgreSQL alike."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.model.jsondoc import MAX_DEPTH
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.store.node import Store
from accord.taxii.collections import DEFAULT_ID
from community import make_community

TAXII = "application/taxii+json;version=2.1"
OBJECTS = f"/taxii2/accord/collections/{DEFAULT_ID}/objects/"
INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
STAMP = "2026-03-01T00:00:00.000Z"


def _indicator_text(extra: bytes = b"") -> bytes:
    return (
        b'{"type":"indicator","spec_version":"2.1","id":"' + INDICATOR.encode() + b'",'
        b'"created":"' + STAMP.encode() + b'","modified":"' + STAMP.encode() + b'",'
        b'"pattern":"[ipv4-addr:value = \'198.51.100.7\']","pattern_type":"stix",'
        b'"valid_from":"' + STAMP.encode() + b'"' + extra + b"}"
    )


def _bundle(extra: bytes = b"") -> bytes:
    return (
        b'{"type":"bundle","id":"bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd30","objects":['
        + _indicator_text(extra)
        + b"]}"
    )


DEEP = b',"x":' + b"[" * 10_000 + b"]" * 10_000
# Deeper than the limit, but shallow enough for every parser to build it.
DEEPISH = b',"x":' + b"[" * 200 + b"]" * 200
TWICE = (
    b',"object_marking_refs":["' + Tlp.RED.marking_id.encode() + b'"]'
    b',"object_marking_refs":["' + Tlp.CLEAR.marking_id.encode() + b'"]'
)
HUGE = b',"x_count":123456789012345678901234567890'


def _auth(api: Any, email: str = "analyst@cert.example") -> dict[str, str]:
    return {"Authorization": f"Bearer {api.keys[email]}"}


def _post_bundle(api: Any, body: bytes, **params: str) -> Any:
    return api.http.post(
        "/api/v1/bundles",
        content=body,
        params=params,
        headers=_auth(api) | {"Content-Type": "application/json"},
    )


def _post_taxii(api: Any, body: bytes) -> Any:
    return api.http.post(
        OBJECTS, content=body, headers=_auth(api) | {"Content-Type": TAXII, "Accept": TAXII}
    )


def _envelope(extra: bytes) -> bytes:
    return b'{"objects":[' + _indicator_text(extra) + b"]}"


@pytest.mark.parametrize("extra", [DEEP, DEEPISH], ids=["10000", "200"])
def test_rest_refuses_a_bundle_nested_too_deep(api, extra: bytes) -> None:  # type: ignore[no-untyped-def]
    response = _post_bundle(api, _bundle(extra))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert f"nested deeper than {MAX_DEPTH} levels" in detail
    assert "objects[0].x" in detail or "line 1, column" in detail


@pytest.mark.parametrize("extra", [DEEP, DEEPISH], ids=["10000", "200"])
def test_taxii_refuses_an_envelope_nested_too_deep(api, extra: bytes) -> None:  # type: ignore[no-untyped-def]
    response = _post_taxii(api, _envelope(extra))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == TAXII
    assert f"nested deeper than {MAX_DEPTH} levels" in response.json()["description"]


def test_rest_refuses_a_repeated_key(api) -> None:  # type: ignore[no-untyped-def]
    response = _post_bundle(api, _bundle(TWICE), partial="true")
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert "'object_marking_refs' is given more than once at objects[0]" in detail
    assert api.http.get(f"/api/v1/objects/{INDICATOR}", headers=_auth(api)).status_code == 404


def test_taxii_refuses_a_repeated_key(api) -> None:  # type: ignore[no-untyped-def]
    response = _post_taxii(api, _envelope(TWICE))
    assert response.status_code == 400, response.text
    assert "'object_marking_refs' is given more than once" in response.json()["description"]
    assert api.http.get(f"/api/v1/objects/{INDICATOR}", headers=_auth(api)).status_code == 404


def test_a_repeated_key_is_refused_wherever_it_is(api) -> None:  # type: ignore[no-untyped-def]
    body = _bundle(b',"external_references":[{"source_name":"a","source_name":"b"}]')
    response = _post_bundle(api, body)
    assert response.status_code == 400
    assert "objects[0].external_references[0]" in response.json()["detail"]
    # Colons inside strings, escaped or not, are no repeated key.
    fine = _bundle(b',"description":"a: b \\u003a c","x_note":{"k:":"v:"}')
    assert _post_bundle(api, fine).status_code == 200, _post_bundle(api, fine).text


def test_taxii_refuses_an_integer_beyond_64_bits_like_rest(api) -> None:  # type: ignore[no-untyped-def]
    rest = _post_bundle(api, _bundle(HUGE), partial="true")
    assert rest.status_code == 200
    assert "beyond 64 bits" in str(rest.json()["objects"][0]["problems"])
    taxii = _post_taxii(api, _envelope(HUGE))
    assert taxii.status_code == 202, taxii.text
    status = taxii.json()
    assert status["success_count"] == 0 and status["failure_count"] == 1
    assert "beyond 64 bits" in status["failures"][0]["message"]
    assert api.http.get(f"/api/v1/objects/{INDICATOR}", headers=_auth(api)).status_code == 404


def test_nul_bytes_never_reach_the_database(api) -> None:  # type: ignore[no-untyped-def]
    headers = _auth(api)
    lookup = api.http.get("/api/v1/lookup", params={"value": "198.51.100.7\x00"}, headers=headers)
    assert lookup.status_code == 422, lookup.text
    anonymous = api.http.get("/api/v1/lookup", params={"value": "evil\x00.example"})
    assert anonymous.status_code == 422, anonymous.text
    typed = api.http.get(
        "/api/v1/lookup", params={"value": "a\x00b", "type": "domain"}, headers=headers
    )
    assert typed.status_code == 422, typed.text
    bulk = api.http.post(
        "/api/v1/lookup", json={"values": ["198.51.100.7", "x\x00y"]}, headers=headers
    )
    assert bulk.status_code == 422, bulk.text
    for path in (
        f"/api/v1/objects/{INDICATOR}%00",
        "/api/v1/objects/indicator--%00",
        f"/api/v1/objects/{INDICATOR}%00/versions",
        f"/api/v1/objects/{INDICATOR}%00/correlations",
    ):
        response = api.http.get(path, headers=headers)
        assert response.status_code == 404, (path, response.text)
    listed = api.http.get("/api/v1/objects", params={"creator": "x\x00"}, headers=headers)
    assert listed.status_code in (404, 422), listed.text
    listed = api.http.get("/api/v1/objects", params={"type": "x\x00"}, headers=headers)
    assert listed.status_code in (200, 422), listed.text
    admin = _auth(api, "admin@node.example")
    keys = api.http.get("/api/v1/users/nobody%00@x.example/keys", headers=admin)
    unknown = api.http.get("/api/v1/users/nobody@x.example/keys", headers=admin)
    assert keys.status_code == unknown.status_code != 500, keys.text
    taxii = _auth(api) | {"Accept": TAXII}
    for path, params in (
        (f"{OBJECTS}{INDICATOR}%00/", {}),
        (f"{OBJECTS}{INDICATOR}%00/versions/", {}),
        (OBJECTS, {"match[id]": "x\x00"}),
        (OBJECTS, {"match[type]": "x\x00"}),
        (OBJECTS, {"match[version]": "x\x00"}),
        ("/taxii2/accord/collections/x%00/objects/", {}),
        (f"/taxii2/accord/collections/{DEFAULT_ID}/manifest/", {"match[id]": "x\x00"}),
    ):
        response = api.http.get(path, params=params, headers=taxii)
        assert response.status_code in (200, 400, 404), (path, params, response.text)
        if response.status_code == 200:
            assert response.json().get("objects", []) == []


def test_nul_bytes_in_a_bundle_are_stored_or_refused_never_500(api) -> None:  # type: ignore[no-untyped-def]
    response = _post_bundle(api, _bundle(b',"name":"a\\u0000b"'), partial="true")
    assert response.status_code in (200, 422), response.text


def test_taxii_answers_413_as_a_taxii_error(store: Store, store_url: str) -> None:
    community = make_community(store)
    key = store.directory.new_key(community.analyst.email)
    settings = Settings(database_url=store_url, max_body_bytes=1000)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": TAXII, "Accept": TAXII}
    body = b'{"objects":[' + b" " * 5000 + b"]}"
    with TestClient(create_app(settings, store=store)) as http:
        for streamed in (False, True):
            content: Any = iter([body[:600], body[600:]]) if streamed else body
            response = http.post(OBJECTS, content=content, headers=headers)
            assert response.status_code == 413
            assert response.headers["content-type"] == TAXII
            error = response.json()
            assert error["http_status"] == "413"
            assert error["title"] == "Request body too large"
            assert "larger than 1000 bytes" in error["description"]
        for streamed in (False, True):
            content = iter([body[:600], body[600:]]) if streamed else body
            rest = http.post(
                "/api/v1/bundles",
                content=content,
                headers=headers | {"Content-Type": "application/json"},
            )
            assert rest.status_code == 413, rest.text
            assert rest.headers["content-type"] == "application/problem+json"


def test_basic_auth_needs_a_user_name(api) -> None:  # type: ignore[no-untyped-def]
    key = api.keys["soc@water.example"]
    for user in ("", " "):
        token = base64.b64encode(f"{user}:{key}".encode()).decode()
        response = api.http.get("/api/v1/objects", headers={"Authorization": f"Basic {token}"})
        assert response.status_code == 401, (user, response.text)
    # The key is refused with no user name even once it is remembered.
    assert api.http.get("/api/v1/objects", auth=("soc@water.example", key)).status_code == 200
    token = base64.b64encode(f":{key}".encode()).decode()
    assert (
        api.http.get("/api/v1/objects", headers={"Authorization": f"Basic {token}"}).status_code
        == 401
    )
    token = base64.b64encode(f"soc@water.example:{key}\x00".encode()).decode()
    assert (
        api.http.get("/api/v1/objects", headers={"Authorization": f"Basic {token}"}).status_code
        == 401
    )


def test_the_depth_limit_is_exact() -> None:
    from accord.model.jsondoc import JsonLimitError, loads

    # bundle, objects, the object: three levels before "x".
    at_limit = _bundle(b',"x":' + b"[" * (MAX_DEPTH - 3) + b"]" * (MAX_DEPTH - 3))
    assert loads(at_limit)["type"] == "bundle"
    over = _bundle(b',"x":' + b"[" * (MAX_DEPTH - 2) + b"]" * (MAX_DEPTH - 2))
    with pytest.raises(JsonLimitError, match=r"objects\[0\]\.x"):
        loads(over)
    objects = _bundle(b',"x":' + b'{"a":' * (MAX_DEPTH - 2) + b"1" + b"}" * (MAX_DEPTH - 2))
    with pytest.raises(JsonLimitError):
        loads(objects)


def test_orjson_still_writes_at_most_254_levels() -> None:
    """accord.model.jsondoc relies on it to check the depth at C speed."""
    value: list[Any] = []
    for _ in range(253):
        value = [value]
    orjson.dumps(value)
    with pytest.raises(TypeError):
        orjson.dumps([value])


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":1,"a":2}',
        # An escaped colon in a string would make up for the dropped key's colon.
        b'{"a":1,"a":2,"s":"\\u003a"}',
        b'{"a":1,"a":2,"s":"\\u003A"}',
        b'[{"k":{"x":[1,{"b":1,"b":1}]}}]',
        b'{"k:":1,"k:":2}',
        b'{"a" : 1 , "a"\n:\t2}',
    ],
)
def test_every_repeated_key_is_found(text: bytes) -> None:
    from accord.model.jsondoc import JsonLimitError, loads

    with pytest.raises(JsonLimitError, match="is given more than once"):
        loads(text)


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":1,"s":"\\u003a"}',
        b'{"a":1,"s":"\\\\u003a"}',  # a backslash, then "u003a": no colon
        b'{"a":"x:y","b":{"c:d":"e:f"}}',
        b'{"a" : 1 , "b"\n:\t2}',
        b"[]",
        b'"plain"',
    ],
)
def test_no_repeated_key_is_no_error(text: bytes) -> None:
    from accord.model.jsondoc import loads

    loads(text)


def test_every_json_body_refuses_a_repeated_key_and_deep_nesting(api) -> None:  # type: ignore[no-untyped-def]
    headers = _auth(api) | {"Content-Type": "application/json"}
    sighting = (
        b'{"value":"198.51.100.7","tlp":"red","tlp":"clear",'
        b'"first_seen":"2026-05-01T00:00:00Z","last_seen":"2026-05-01T00:00:00Z"}'
    )
    response = api.http.post("/api/v1/sightings", content=sighting, headers=headers)
    assert response.status_code == 400, response.text
    assert "'tlp' is given more than once" in response.json()["detail"]
    lookup = api.http.post(
        "/api/v1/lookup",
        content=b'{"values":["a.example"],"values":["b.example"]}',
        headers=headers,
    )
    assert lookup.status_code == 400 and "'values'" in lookup.json()["detail"]
    deep = api.http.post(
        "/api/v1/lookup", content=b'{"values":' + b"[" * 500 + b"]" * 500 + b"}", headers=headers
    )
    assert deep.status_code == 400 and "nested deeper than" in deep.json()["detail"]
    broken = api.http.post("/api/v1/lookup", content=b'{"values": [1,]}', headers=headers)
    assert broken.status_code == 422  # not JSON: FastAPI's own answer, as before
    assert (
        api.http.post(
            "/api/v1/lookup", content=b'{"values":["198.51.100.7"]}', headers=headers
        ).status_code
        == 200
    )


def test_a_mapped_file_is_checked_like_bytes(tmp_path: Path) -> None:
    """Files are read mapped (accord.ingest.stix.Ingester.ingest_file), not copied."""
    import mmap

    from accord.model.jsondoc import JsonLimitError, loads

    for text, ok in (
        (b'{"a":1,"s":"\\u003a"}', True),
        (b'{"a":1,"a":2,"s":"\\u003a"}', False),
        (b'{"a":1,' + b'"s":"' + b":" * (3 << 20) + b'","a":2}', False),
        (b'{"a":1,' + b'"s":"' + b":" * (3 << 20) + b'"}', True),
    ):
        path = tmp_path / "doc.json"
        path.write_bytes(text)
        with (
            path.open("rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm,
        ):
            view = memoryview(mm)
            try:
                if ok:
                    loads(view)
                else:
                    with pytest.raises(JsonLimitError):
                        loads(view)
            finally:
                view.release()
