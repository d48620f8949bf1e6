"""The protocol's edges, in process: content negotiation (406, 415), TAXII error messages,
bad tokens and filters (400), status resources per organisation, paging while objects are
added, and scheduled pulls."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from taxii_support import indicator, make_node

from accord.api.app import create_app
from accord.settings import Settings
from accord.taxii.collections import DEFAULT_ID

TAXII = "application/taxii+json;version=2.1"
OBJECTS = f"/taxii2/accord/collections/{DEFAULT_ID}/objects/"


@pytest.fixture
def http(store_url: str) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store, _, keys = make_node(store_url)
    app = create_app(Settings(database_url=store_url, rate_burst=100_000), store=store)
    with TestClient(app) as client:
        yield client, keys
    store.close()


def _auth(keys: dict[str, str], email: str = "analyst@cert.example") -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[email]}", "Accept": TAXII}


def _post(
    client: TestClient,
    keys: dict[str, str],
    objects: list[dict[str, object]],
    email: str = "analyst@cert.example",
) -> dict[str, object]:
    response = client.post(
        OBJECTS,
        headers=_auth(keys, email) | {"Content-Type": TAXII},
        content=orjson.dumps({"objects": objects}),
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def test_negotiation_and_errors(http: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = http
    headers = _auth(keys)
    for accept in (
        "application/taxii+json",
        "application/taxii+json;version=2.1",
        "*/*",
        "application/*",
    ):
        assert client.get("/taxii2/", headers=headers | {"Accept": accept}).status_code == 200
    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        refused = client.get(OBJECTS, headers=headers | {"Accept": accept})
        assert refused.status_code == 406 and refused.headers["content-type"] == TAXII
        assert refused.json()["http_status"] == "406"
    wrong = client.post(
        OBJECTS, headers=headers | {"Content-Type": "application/json"}, content=b'{"objects": []}'
    )
    assert wrong.status_code == 415 and wrong.json()["title"] == "Unsupported media type"
    assert (
        client.post(OBJECTS, headers=headers | {"Content-Type": TAXII}, content=b"[").status_code
        == 400
    )
    assert client.get(OBJECTS, headers=headers, params={"next": "forged"}).status_code == 400
    assert client.get(OBJECTS, headers=headers, params={"limit": "0"}).status_code == 400
    assert (
        client.get(OBJECTS, headers=headers, params={"added_after": "yesterday"}).status_code == 400
    )
    assert (
        client.get(OBJECTS, headers=headers, params={"match[spec_version]": "3.0"}).status_code
        == 400
    )
    versions = f"{OBJECTS}{indicator(1)['id']}/versions/"
    assert (
        client.get(versions, headers=headers, params={"match[type]": "indicator"}).status_code
        == 400
    )
    assert client.get("/taxii2/other-root/", headers=headers).status_code == 404
    assert (
        client.get("/taxii2/accord/nothing-here/", headers=headers).json()["http_status"] == "404"
    )
    put = client.put(OBJECTS, headers=headers)
    assert put.status_code == 405 and set(put.headers["allow"].split(", ")) >= {"GET", "POST"}
    anonymous = client.get(OBJECTS, headers={"Accept": TAXII})
    assert anonymous.status_code == 401 and "Basic" in anonymous.headers["www-authenticate"]
    # a token is bound to its filters
    first = client.get(OBJECTS, headers=headers, params={"limit": "1"}).json()
    assert (
        client.get(
            OBJECTS,
            headers=headers,
            params={"limit": "1", "next": first["next"], "match[type]": "indicator"},
        ).status_code
        == 400
    )
    assert (
        client.get(
            OBJECTS, headers=headers, params={"limit": "5", "next": first["next"]}
        ).status_code
        == 200
    )


def test_status_belongs_to_the_poster(http: tuple[TestClient, dict[str, str]]) -> None:
    client, keys = http
    status = _post(client, keys, [indicator(1), {"type": "indicator"}])
    assert (
        status["total_count"],
        status["success_count"],
        status["failure_count"],
        status["pending_count"],
    ) == (2, 1, 1, 0)
    url = f"/taxii2/accord/status/{status['id']}/"
    assert client.get(url, headers=_auth(keys)).json() == status
    assert client.get(url, headers=_auth(keys, "colleague@cert.example")).status_code == 200
    assert client.get(url, headers=_auth(keys, "soc@water.example")).status_code == 404
    again = _post(client, keys, [indicator(1)])
    assert again["successes"] == [
        {
            "id": indicator(1)["id"],
            "version": "2026-01-01T00:00:00.000Z",
            "message": "already stored",
        }
    ]


def test_objects_added_while_paging_come_at_the_end(
    http: tuple[TestClient, dict[str, str]],
) -> None:
    client, keys = http
    _post(client, keys, [indicator(n) for n in range(10)])
    headers = _auth(keys)
    params = {"limit": "4", "match[type]": "indicator"}
    seen: list[str] = []
    page = client.get(OBJECTS, headers=headers, params=params).json()
    seen += [o["id"] for o in page["objects"]]
    # meanwhile: a new object, and a new version of one already served
    _post(client, keys, [indicator(99), indicator(0, modified="2026-05-01T00:00:00.000Z")])
    while page["more"]:
        page = client.get(OBJECTS, headers=headers, params=params | {"next": page["next"]}).json()
        seen += [o["id"] for o in page.get("objects", [])]
    assert seen[:10] == [indicator(n)["id"] for n in range(10)]
    assert seen[10:] == [indicator(99)["id"], indicator(0)["id"]]  # at the end, in order added
