"""A real Accord node on loopback, driven by OASIS taxii2-client (v21 API): discovery, API
root, collections, add objects with status, paging 10,000 objects, an object, its versions,
manifests, deleting, and every filter."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import requests
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages
from taxii_support import indicator, node_store, put_generated, serve, stop

from accord.taxii.collections import DEFAULT_ID

__all__ = ["node_store"]  # a fixture

ANALYST = "analyst@cert.example"
SOC = "soc@water.example"


@pytest.fixture
def served(node_store, tmp_path: Path):  # type: ignore[no-untyped-def]
    store, community, keys, url = node_store
    ids = put_generated(store, community.cert.id, 10_000)
    base, process = serve(tmp_path, url)
    try:
        yield base, keys, store, community, ids
    finally:
        stop(process)


def test_taxii2_client_against_a_served_node(served) -> None:  # type: ignore[no-untyped-def]
    base, keys, store, community, ids = served
    key = keys[ANALYST]
    server = Server(f"{base}/taxii2/", user=ANALYST, password=key)
    assert server.title == "Accord TAXII 2.1"
    assert server.api_roots[0].url == f"{base}/taxii2/accord/"
    root = server.default
    assert isinstance(root, ApiRoot)
    assert root.versions == ["application/taxii+json;version=2.1"]
    assert [c.id for c in root.collections] == [DEFAULT_ID]
    collection = root.collections[0]
    assert collection.can_read and collection.can_write

    # add objects, with a status resource (and one bad object)
    fresh = [indicator(100_000 + n) for n in range(3)]
    status = collection.add_objects({"objects": [*fresh, {"type": "indicator", "id": "x"}]})
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (4, 3, 1)
    assert root.get_status(status.id).success_count == 3

    # every object, page by page: exact count, no duplicates
    viewer = store.directory.viewer(community.analyst)
    expected = sum(store.objects.count_latest(viewer).values())
    seen: list[str] = []
    pages = 0
    for envelope in as_pages(collection.get_objects, per_request=1000):
        seen.extend(obj["id"] for obj in envelope.get("objects", []))
        pages += 1
    assert len(seen) == expected == 10_000 + 3 + 7  # + TLP markings and Accord's definitions
    assert len(set(seen)) == len(seen)
    assert set(ids) <= set(seen)
    assert pages == 11

    # an object, its versions, the manifest
    one = fresh[0]
    newer = one | {"modified": "2026-03-01T00:00:00.000Z", "name": "updated"}
    assert collection.add_objects({"objects": [newer]}).success_count == 1
    got = collection.get_object(one["id"])
    assert [o["name"] for o in got["objects"]] == ["updated"]
    versions = collection.object_versions(one["id"])
    assert versions["versions"] == ["2026-01-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"]
    manifest = collection.get_manifest(limit=5)
    assert manifest["more"] is True and len(manifest["objects"]) == 5
    assert set(manifest["objects"][0]) == {"id", "date_added", "version", "media_type"}

    # filters
    assert [
        o["id"] for o in collection.get_objects(type="indicator", id=[ids[5], ids[7]])["objects"]
    ] == [ids[5], ids[7]]
    assert collection.get_objects(type="malware").get("objects") is None
    first = collection.get_objects(id=one["id"], version="first")["objects"]
    assert [o["modified"] for o in first] == ["2026-01-01T00:00:00.000Z"]
    every = collection.get_objects(id=one["id"], version="all")["objects"]
    assert len(every) == 2
    both = collection.get_objects(id=one["id"], version="first,last")["objects"]
    assert len(both) == 2
    exact = collection.get_objects(id=one["id"], version="2026-03-01T00:00:00.000Z")["objects"]
    assert [o["name"] for o in exact] == ["updated"]
    assert collection.get_objects(id=one["id"], spec_version="2.0").get("objects") is None
    assert len(collection.get_objects(id=one["id"], spec_version="2.1")["objects"]) == 1
    manifest_first = collection.get_manifest(id=one["id"], version="first")["objects"]
    assert [m["version"] for m in manifest_first] == ["2026-01-01T00:00:00.000Z"]

    # added_after: only what came after a page's last date_added
    http = httpx.Client(
        auth=(ANALYST, key), headers={"Accept": "application/taxii+json;version=2.1"}
    )
    objects_url = f"{base}/taxii2/accord/collections/{DEFAULT_ID}/objects/"
    page = http.get(objects_url, params={"limit": 10_004})
    marker = page.headers["X-TAXII-Date-Added-Last"]
    later = http.get(objects_url, params={"added_after": marker}).json()
    assert {o["id"] for o in later["objects"]} <= {o["id"] for o in fresh}
    assert later["objects"][-1]["name"] == "updated"
    first_added = http.get(objects_url, params={"limit": 1}).headers["X-TAXII-Date-Added-First"]
    assert first_added <= marker

    # delete: the object is gone, every version
    collection.delete_object(one["id"])
    for read in (collection.get_object, collection.object_versions):
        with pytest.raises(requests.HTTPError) as caught:
            read(one["id"])
        assert caught.value.response.status_code == 404

    # another organisation may read it (GREEN) but not delete it
    soc = Collection(
        f"{base}/taxii2/accord/collections/{DEFAULT_ID}/", user=SOC, password=keys[SOC]
    )
    assert soc.can_read and not soc.can_write  # a sensor
    assert soc.get_object(ids[0])["objects"][0]["id"] == ids[0]
    boss = httpx.Client(
        auth=("boss@water.example", keys["boss@water.example"]),
        headers={"Accept": "application/taxii+json;version=2.1"},
    )
    refused = boss.delete(f"{objects_url}{ids[0]}/")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/taxii+json;version=2.1"
    assert refused.json()["http_status"] == "403"
    for client in (http, boss, soc, server):
        client.close()
