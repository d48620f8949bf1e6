"""Peers over the REST API (issue 18): `accord peer add / list / status / remove / pull /
push` for the node admin alone, on SQLite and PostgreSQL. Anyone else, the peer's own
account among them, gets 403 on every route and learns no peer's name or address; a listing
never holds a key a peer gave; each change is audited; bad input is a problem document whose
pointer names the field. (Pulls and pushes against a real second node: tests/federation.)"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from accord.store.peers import PULL

ADMIN = "admin@node.example"
OTHERS = [
    "analyst@cert.example",
    "boss@water.example",
    "reader@police.example",
    "soc@water.example",
]
SECRET = "acc_peerkey_the-key-the-peer-gave-us"
UNREACHABLE = "http://127.0.0.1:9/taxii2/accord/"  # the discard port: nothing listens
Api = Any  # tests/api/conftest.py's Api


def card(node: str = "Partner node", orgs: tuple[str, ...] = ("Partner CERT",)) -> dict[str, Any]:
    """A peer's card as `accord node card` prints it."""
    hosted = [{"id": f"identity--{uuid.uuid4()}", "name": name} for name in orgs]
    return {
        "identity": {
            "type": "identity",
            "spec_version": "2.1",
            "id": f"identity--{uuid.uuid4()}",
            "name": node,
            "identity_class": "system",
            "created_by_ref": hosted[0]["id"],
        },
        "operator": hosted[0],
        "hosted_organizations": hosted,
    }


def call(api: Api, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key or api.keys[ADMIN]}"}
    return api.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)


@pytest.fixture
def node(api: Api) -> Api:
    """The API's node with its identity (`accord node init`)."""
    api.store.identity.set("Home node", api.community.cert.id)
    return api


def add(api: Api, name: str = "partner", **body: Any) -> Any:
    return call(api, "POST", "/peers", json={"name": name, "card": card(), **body})


def _admin_changes(api: Api, change: str) -> list[Any]:
    return [e for e in api.store.audit.entries(action="admin") if e.detail.get("change") == change]


def test_the_admin_adds_lists_and_removes_a_peer(node: Api) -> None:
    given = card("Partner node", ("Partner CERT", "Partner Police"))
    answer = call(
        node,
        "POST",
        "/peers",
        json={"name": "partner", "url": UNREACHABLE, "key": SECRET, "card": given, "pull": True},
    )
    assert answer.status_code == 201, answer.text
    added = answer.json()
    assert added["node_id"] == given["identity"]["id"] and added["pull"] is True
    assert added["has_key"] is True and "key" not in added and SECRET not in answer.text
    assert added["account_key"].startswith("acc_")
    account = node.store.directory.user_for_key(added["account_key"])
    assert account is not None and account.email == added["account"]
    assert account.org_id == given["operator"]["id"] and account.role.value == "peer"
    assert {o["id"] for o in given["hosted_organizations"]} <= {
        o.id for o in node.store.directory.orgs()
    }
    (entry,) = _admin_changes(node, "add peer")
    assert entry.user_id == node.store.directory.user(ADMIN).id
    assert entry.target == given["identity"]["id"] and entry.detail["name"] == "partner"
    assert SECRET not in str(entry.detail)

    listed = call(node, "GET", "/peers")
    assert listed.status_code == 200
    assert [p["name"] for p in listed.json()] == ["partner"]
    assert SECRET not in listed.text and "account_key" not in listed.text
    status = call(node, "GET", "/peers/status")
    (row,) = status.json()
    assert row["name"] == "partner" and row["last_pull"] is None and row["pull_cursor"] is None
    assert SECRET not in status.text

    # Added again under the same name: changed, and its account keeps its key.
    again = add(node, "partner", card=given, community=True)
    assert again.status_code == 201 and again.json()["account_key"] is None
    assert again.json()["community"] is True

    gone = call(node, "DELETE", "/peers/partner")
    assert gone.status_code == 204
    assert call(node, "GET", "/peers").json() == []
    missing = call(node, "DELETE", "/peers/partner")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    (removed,) = _admin_changes(node, "remove peer")
    assert removed.target == given["identity"]["id"]


def test_nobody_else_reaches_the_peers(node: Api) -> None:
    added = add(node, "secret-partner", url=UNREACHABLE, key=SECRET)
    assert added.status_code == 201
    peer_key = added.json()["account_key"]
    routes = [
        ("GET", "/peers", None),
        ("GET", "/peers/status", None),
        ("POST", "/peers", {"name": "rogue", "card": card()}),
        ("DELETE", "/peers/{name}", None),
        ("POST", "/peers/{name}/pull", None),
        ("POST", "/peers/{name}/push", None),
    ]
    for key in [node.keys[email] for email in OTHERS] + [peer_key]:
        for method, path, body in routes:
            answer = call(node, method, path.format(name="secret-partner"), key, json=body)
            assert answer.status_code == 403, (method, path, answer.text)
            assert "127.0.0.1" not in answer.text
            # A peer's name is answered exactly as a name that is no peer's.
            missing = call(node, method, path.format(name="no-such-peer"), key, json=body)
            assert answer.text.replace("secret-partner", "no-such-peer") == missing.text
    for method, path, body in routes:
        anonymous = node.http.request(method, f"/api/v1{path}".format(name="x"), json=body)
        assert anonymous.status_code == 401
    assert [p.name for p in node.store.peers.all()] == ["secret-partner"]
    assert _admin_changes(node, "remove peer") == []
    assert node.store.peers.get("secret-partner").last_attempt is None  # never run


@pytest.mark.parametrize(
    "body, status, where",
    [
        ({"name": "bad/name", "card": card()}, 422, "/name"),
        ({"name": "status", "card": card()}, 422, "/name"),  # GET /peers/status is taken
        ({"name": "", "card": card()}, 422, "/body/name"),
        ({"name": "p", "url": "ftp://peer.example/", "key": "k", "card": card()}, 422, "/url"),
        ({"name": "p", "pull": True, "card": card()}, 422, "/url"),
        ({"name": "p", "push": True, "url": UNREACHABLE, "card": card()}, 422, "/key"),
        ({"name": "p"}, 422, "/url"),
        ({"name": "p", "card": {"identity": {}}}, 422, "/card"),
        ({"name": "p", "card": card(), "ca_file": "relative/ca.pem"}, 422, "/ca_file"),
        ({"name": "p", "card": card(), "ca_file": "/no/such/ca.pem"}, 422, "/ca_file"),
        ({"name": "p", "card": card(), "interval": 1}, 422, "/body/interval"),
        ({"name": "p", "card": card(), "surprise": 1}, 422, "/body/surprise"),
        ({"name": "p", "url": UNREACHABLE, "key": SECRET}, 422, "/url"),  # card not fetched
    ],
)
def test_bad_input_names_its_field(
    node: Api, body: dict[str, Any], status: int, where: str
) -> None:
    answer = call(node, "POST", "/peers", json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert where in {error["pointer"] for error in answer.json()["errors"]}, answer.json()
    assert node.store.peers.all() == []
    assert _admin_changes(node, "add peer") == []


def test_a_card_claiming_a_hosted_organisation_is_a_conflict(node: Api) -> None:
    claiming = card()
    cert = {"id": node.community.cert.id, "name": "CERT-EX"}
    claiming["hosted_organizations"].append(cert)
    answer = call(node, "POST", "/peers", json={"name": "thief", "card": claiming})
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["pointer"] == "/card"
    own = call(node, "GET", "/node").json()
    mirror = call(node, "POST", "/peers", json={"name": "mirror", "card": own})
    assert mirror.status_code == 409 and "own" in mirror.json()["detail"]
    assert node.store.peers.all() == []


def test_a_node_without_identity_is_told_how_to_get_one(api: Api) -> None:
    answer = add(api)
    assert answer.status_code == 409
    assert "accord node init" in answer.json()["detail"]


def test_pull_and_push_now_answer_the_run(node: Api) -> None:
    assert add(node, "partner", url=UNREACHABLE, key=SECRET, pull=True).status_code == 201
    assert add(node, "pushes-to-us").status_code == 201  # no URL: it only pushes here
    pulled = call(node, "POST", "/peers/partner/pull")
    assert pulled.status_code == 200, pulled.text
    report = pulled.json()
    assert report["peer"] == "partner" and report["direction"] == "pull"
    assert "cannot reach" in report["error"] and report["objects"] == 0
    (row,) = [r for r in call(node, "GET", "/peers/status").json() if r["name"] == "partner"]
    assert "cannot reach" in row["last_pull_error"] and row["last_attempt"] is not None
    pushed = call(node, "POST", "/peers/pushes-to-us/push").json()
    assert "has no URL" in pushed["error"]
    assert [e.detail["name"] for e in _admin_changes(node, "pull peer")] == ["partner"]
    assert {e.detail["peer"] for e in node.store.audit.entries(action="federation-pull")} == {
        "partner"
    }
    # A peer held by another run is not run twice.
    peer = node.store.peers.get("partner")
    assert node.store.peers.claim(peer.id)
    busy = call(node, "POST", "/peers/partner/pull")
    assert busy.status_code == 409 and "another worker" in busy.json()["detail"]
    node.store.peers.finish(peer.id, PULL, None)
    assert call(node, "POST", "/peers/nobody/push").status_code == 404
    assert call(node, "DELETE", "/peers/status").status_code == 405  # not a peer's name
