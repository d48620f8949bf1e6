"""The leak matrix over TAXII: objects, an object, its versions and the manifest, for every
TLP level and every kind of caller, in every collection; and paging never counts or pages
past a hidden object."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.taxii import collections
from accord.taxii.collections import DEFAULT_ID
from community import make_community
from leakdata import EXPECTED, VIEWERS, indicator, load_matrix

EMAILS = {
    "creator": "analyst@cert.example",
    "colleague": "colleague@cert.example",
    "recipient": "investigator@police.example",
    "outsider": "soc@water.example",
}
READS = ["objects", "object", "versions", "manifest", "paged"]
ACCEPT = {"Accept": "application/taxii+json;version=2.1"}


class Caller:
    def __init__(self, http: TestClient, email: str | None, key: str | None) -> None:
        self.http = http
        self.headers = dict(ACCEPT)
        if email and key:
            token = base64.b64encode(f"{email}:{key}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"

    def get(self, path: str, **params: str) -> tuple[int, dict[str, object]]:
        response = self.http.get(f"/taxii2/accord/{path}", headers=self.headers, params=params)
        assert response.headers["content-type"] == "application/taxii+json;version=2.1"
        return response.status_code, response.json()


@pytest.fixture
def callers(store, store_url: str) -> Iterator[dict[str, Caller]]:  # type: ignore[no-untyped-def]
    community = make_community(store)
    load_matrix(store, community)
    store.directory.add_group("Water ISAC", ["Water Utility"])
    collections.define(store, "AMBER only", tlp=Tlp.AMBER)
    collections.define(store, "Water ISAC", group="Water ISAC")
    app = create_app(Settings(database_url=store_url), store=store)
    with TestClient(app) as http:
        found = {
            name: Caller(http, email, store.directory.new_key(email))
            for name, email in EMAILS.items()
        }
        found["anonymous"] = Caller(http, None, None)
        yield found


def _ids(body: dict[str, object], key: str = "objects") -> set[str]:
    return {str(o["id"]) for o in body.get(key, [])}  # type: ignore[attr-defined]


def _visible(caller: Caller, read: str, level: Tlp, collection: str) -> bool:
    object_id = str(indicator(level)["id"])
    base = f"collections/{collection}/"
    if read == "objects":
        status, body = caller.get(base + "objects/", **{"match[type]": "indicator"})
        assert status == 200
        return object_id in _ids(body)
    if read == "manifest":
        status, body = caller.get(base + "manifest/", **{"match[version]": "all"})
        assert status == 200
        return object_id in _ids(body)
    if read == "object":
        status, body = caller.get(f"{base}objects/{object_id}/", **{"match[version]": "all"})
        assert status in (200, 404)
        return status == 200 and len(body["objects"]) == 2  # type: ignore[arg-type]
    if read == "versions":
        status, body = caller.get(f"{base}objects/{object_id}/versions/")
        assert status in (200, 404)
        return status == 200 and len(body["versions"]) == 2  # type: ignore[arg-type]
    if read == "paged":  # one object a page: the pages never stop at a hidden one
        seen: list[str] = []
        params = {"match[type]": "indicator", "limit": "1"}
        while True:
            status, body = caller.get(base + "objects/", **params)
            assert status == 200
            seen.extend(_ids(body))
            if not body["more"]:
                assert "next" not in body
                break
            assert len(_ids(body)) == 1
            params["next"] = str(body["next"])
        return object_id in seen
    raise AssertionError(read)


@pytest.mark.parametrize("read", READS)
def test_taxii_leak_matrix(callers: dict[str, Caller], read: str) -> None:
    for level in Tlp:
        for name in VIEWERS:
            caller = callers[name]
            if name == "anonymous":
                status, body = caller.get(f"collections/{DEFAULT_ID}/objects/")
                assert status == 401 and body["http_status"] == "401"
                continue
            seen = _visible(caller, read, level, DEFAULT_ID)
            expected = name in EXPECTED[level]
            assert seen == expected, f"{read}: {name} {'sees' if seen else 'misses'} {level.label}"


def test_collections_narrow_and_never_widen(callers: dict[str, Caller]) -> None:
    creator, outsider, recipient = callers["creator"], callers["outsider"], callers["recipient"]
    _, listed = creator.get("collections/")
    amber = next(c for c in listed["collections"] if c["title"] == "AMBER only")  # type: ignore[index, union-attr]
    assert [c["title"] for c in listed["collections"]] == ["Everything you may see", "AMBER only"]  # type: ignore[index, union-attr]
    for caller, expected in ((creator, True), (recipient, True), (outsider, False)):
        for level in Tlp:
            seen = _visible(caller, "objects", level, str(amber["id"]))
            assert seen == (expected and level == Tlp.AMBER)
    # the group's collection exists only for its members: an outsider of the group gets 404
    _, water = outsider.get("collections/")
    group = next(c for c in water["collections"] if c["title"] == "Water ISAC")  # type: ignore[index, union-attr]
    assert creator.get(f"collections/{group['id']}/")[0] == 404
    assert creator.get(f"collections/{group['id']}/objects/")[0] == 404
    assert outsider.get(f"collections/{group['id']}/objects/")[0] == 200
    # a hidden object answers exactly like an unknown one
    hidden = outsider.get(f"collections/{DEFAULT_ID}/objects/{indicator(Tlp.AMBER)['id']}/")
    unknown = outsider.get(
        f"collections/{DEFAULT_ID}/objects/indicator--00000000-0000-4000-8000-0000000000ff/"
    )
    assert hidden[0] == unknown[0] == 404
    assert hidden[1]["title"] == unknown[1]["title"]
