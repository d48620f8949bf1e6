"""The node admin's Peers page (issue 18): this node's identity and card, the peers and how
each stands, adding one from a pasted card, pull/push now, removing one; a node without an
identity is given one. Only the node admin: anyone else gets the page of a missing one, for
the page and for every form, and nothing changes; every form needs the CSRF token; each
change is audited; a key a peer gave is never shown back. (Runs against a real second node:
tests/federation.)"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import orjson
import pytest
from portal_support import Browsing, Portal

from accord.store.peers import PULL

SECRET = "acc_peerkey_the-key-the-peer-gave-us"
UNREACHABLE = "http://127.0.0.1:9/taxii2/accord/"  # the discard port: nothing listens
KEY = re.compile(r'id="new-key"[^>]*value="(acc_[^"]+)"')
CARD = re.compile(r'<textarea id="node-card"[^>]*>(.*?)</textarea>', re.S)


def card(node: str = "Partner node", orgs: tuple[str, ...] = ("Partner CERT",)) -> dict[str, Any]:
    """A peer's card as `accord node card` prints it."""
    hosted = [{"id": f"identity--{uuid.uuid4()}", "name": name} for name in orgs]
    return {
        "identity": {"type": "identity", "id": f"identity--{uuid.uuid4()}", "name": node},
        "operator": hosted[0],
        "hosted_organizations": hosted,
    }


@pytest.fixture
def node(portal: Portal) -> Portal:
    portal.store.identity.set("Home node", portal.community.cert.id)
    return portal


def _changes(portal: Portal, change: str) -> list[Any]:
    return [
        e for e in portal.store.audit.entries(action="admin") if e.detail.get("change") == change
    ]


def _add(client: Browsing, name: str = "partner", **fields: str) -> Any:
    data = {"name": name, "card": orjson.dumps(card()).decode()} | fields
    return client.post("/admin/peers", data, follow_redirects=False)


def test_the_admin_sees_the_node_its_card_and_its_peers(node: Portal) -> None:
    client = node.sign_in(node.emails["admin"])
    page = client.http.get("/admin/peers")
    assert page.status_code == 200
    assert 'href="/admin/peers" aria-current="page"' in page.text
    shown = CARD.search(page.text)
    assert shown is not None
    assert orjson.loads(html.unescape(shown.group(1))) == node.store.identity.card()
    assert "No peers yet." in page.text and 'action="/admin/peers/identity"' not in page.text
    assert 'href="/admin/peers"' in client.http.get("/admin").text  # in the navigation


def test_adding_a_peer_from_a_pasted_card(node: Portal) -> None:
    client = node.sign_in(node.emails["admin"])
    given = card("Partner node", ("Partner CERT", "Partner Police"))
    answer = _add(
        client,
        card=orjson.dumps(given).decode(),
        url=UNREACHABLE,
        key=SECRET,
        pull="on",
        community="on",
        interval="60",
    )
    assert answer.status_code == 201, answer.text[:500]
    key = KEY.search(answer.text)
    assert key is not None and SECRET not in answer.text
    peer = node.store.peers.get("partner")
    assert peer.node_id == given["identity"]["id"] and peer.secret == SECRET
    assert peer.pull and not peer.push and peer.community and peer.interval == 60
    account = node.store.directory.user_for_key(key.group(1))
    assert account is not None and account.role.value == "peer"
    assert account.org_id == given["operator"]["id"]
    (entry,) = _changes(node, "add peer")
    assert entry.detail["via"] == "portal" and entry.target == peer.node_id
    assert entry.user_id == node.store.directory.user(node.emails["admin"]).id
    page = client.http.get("/admin/peers").text
    assert "partner" in page and UNREACHABLE in page and "Partner CERT" in page
    assert SECRET not in page and key.group(1) not in page  # shown once, never again


@pytest.mark.parametrize(
    "fields, status",
    [
        ({"card": "{not json"}, 422),
        ({"card": "[1, 2]"}, 422),
        ({"card": '{"identity": {}}'}, 422),
        ({"card": ""}, 422),  # neither a card nor an address and key
        ({"name": "bad/name"}, 422),
        ({"pull": "on"}, 422),  # pulling needs the address and the key
        ({"ca_file": "relative.pem"}, 422),
        ({"interval": "2"}, 422),
        ({"card": "", "url": UNREACHABLE, "key": SECRET}, 422),  # the card cannot be fetched
    ],
)
def test_a_bad_form_adds_nothing(node: Portal, fields: dict[str, str], status: int) -> None:
    client = node.sign_in(node.emails["admin"])
    answer = _add(client, **fields)
    assert answer.status_code == status, answer.text[:500]
    assert 'role="alert"' in answer.text
    assert node.store.peers.all() == [] and _changes(node, "add peer") == []
    if "url" in fields:  # what was typed is kept, but the key never comes back
        assert UNREACHABLE in answer.text and SECRET not in answer.text


def test_a_card_claiming_a_hosted_organisation_is_refused(node: Portal) -> None:
    claiming = card()
    claiming["hosted_organizations"].append({"id": node.community.water.id, "name": "Water"})
    client = node.sign_in(node.emails["admin"])
    answer = _add(client, card=orjson.dumps(claiming).decode())
    assert answer.status_code == 409 and node.community.water.id in answer.text
    assert node.store.peers.all() == []


def test_a_node_without_identity_is_given_one(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["admin"])
    page = client.http.get("/admin/peers").text
    assert 'action="/admin/peers/identity"' in page and 'id="node-card"' not in page
    assert _add(client).status_code == 409  # no peer before the node has its identity
    water = portal.community.water.id
    bad = client.post("/admin/peers/identity", {"node_name": "N", "operator": "identity--nope"})
    assert bad.status_code == 422 and portal.store.identity.find() is None
    done = client.post(
        "/admin/peers/identity",
        {"node_name": "Water node", "operator": water, "identity_class": "organization"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    identity = portal.store.identity.get()
    assert (identity.name, identity.operator_org) == ("Water node", water)
    assert identity.identity_class == "organization"
    (entry,) = _changes(portal, "set node identity")
    assert entry.target == identity.id
    assert 'id="node-card"' in client.http.get("/admin/peers").text


def test_pull_and_push_now_show_the_run(node: Portal) -> None:
    client = node.sign_in(node.emails["admin"])
    assert _add(client, url=UNREACHABLE, key=SECRET, pull="on").status_code == 201
    pulled = client.post("/admin/peers/partner/pull", {})
    assert pulled.status_code == 200
    assert "Pull from partner" in pulled.text and "cannot reach" in pulled.text
    assert "cannot reach" in node.store.peers.get("partner").last_pull_error
    pushed = client.post("/admin/peers/partner/push", {})
    assert "Push to partner" in pushed.text
    assert [e.detail["name"] for e in _changes(node, "pull peer")] == ["partner"]
    assert [e.detail["name"] for e in _changes(node, "push peer")] == ["partner"]
    peer = node.store.peers.get("partner")
    assert node.store.peers.claim(peer.id)  # another worker runs it
    busy = client.post("/admin/peers/partner/pull", {})
    assert busy.status_code == 409 and "being run already" in busy.text
    node.store.peers.finish(peer.id, PULL, None)
    assert client.post("/admin/peers/nobody/pull", {}).status_code == 404


def test_removing_a_peer_asks_for_confirmation(node: Portal) -> None:
    client = node.sign_in(node.emails["admin"])
    assert _add(client).status_code == 201
    unconfirmed = client.post("/admin/peers/partner/remove", {})
    assert unconfirmed.status_code == 422 and node.store.peers.all() != []
    done = client.post("/admin/peers/partner/remove", {"confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/admin/peers?done=removed"
    assert node.store.peers.all() == []
    assert [e.detail["name"] for e in _changes(node, "remove peer")] == ["partner"]
    assert client.post("/admin/peers/partner/remove", {"confirm": "yes"}).status_code == 404


@pytest.mark.parametrize("role_name", ["orgadmin", "analyst", "reader", "operator"])
def test_others_get_the_missing_page_and_change_nothing(node: Portal, role_name: str) -> None:
    admin = node.sign_in(node.emails["admin"])
    assert _add(admin, "secret-partner", url=UNREACHABLE, key=SECRET).status_code == 201
    client = node.sign_in(node.emails[role_name])
    missing = client.http.get("/no-such-page")
    assert missing.status_code == 404
    for path, data in [
        ("/admin/peers", None),
        ("/admin/peers", {"name": "rogue", "card": orjson.dumps(card()).decode()}),
        ("/admin/peers/identity", {"node_name": "Rogue", "operator": node.community.water.id}),
        ("/admin/peers/secret-partner/pull", {}),
        ("/admin/peers/secret-partner/push", {}),
        ("/admin/peers/secret-partner/remove", {"confirm": "yes"}),
    ]:
        answer = client.http.get(path) if data is None else client.post(path, data)
        assert answer.status_code == 404 and answer.text == missing.text, path
    assert [p.name for p in node.store.peers.all()] == ["secret-partner"]
    assert node.store.peers.get("secret-partner").last_attempt is None
    assert node.store.identity.get().name == "Home node"
    assert len(node.store.audit.entries(action="admin")) == 1  # the admin's own add
    assert 'href="/admin/peers"' not in client.http.get("/").text


def test_every_peer_form_needs_the_csrf_token(node: Portal) -> None:
    client = node.sign_in(node.emails["admin"])
    assert _add(client, url=UNREACHABLE, key=SECRET).status_code == 201
    other = node.sign_in(node.emails["admin"])  # the same admin, another session
    forms = [
        ("/admin/peers", {"name": "forged", "card": orjson.dumps(card()).decode()}),
        ("/admin/peers/identity", {"node_name": "Forged", "operator": node.community.cert.id}),
        ("/admin/peers/partner/pull", {}),
        ("/admin/peers/partner/push", {}),
        ("/admin/peers/partner/remove", {"confirm": "yes"}),
    ]
    for path, data in forms:
        for token in ("", "forged", other.csrf):
            answer = client.http.post(path, data=data | {"csrf": token})
            assert answer.status_code == 403, (path, token)
        cross_site = client.http.post(
            path, data=data | {"csrf": client.csrf}, headers={"Origin": "https://evil.example"}
        )
        assert cross_site.status_code == 403, path
    assert [p.name for p in node.store.peers.all()] == ["partner"]
    assert node.store.peers.get("partner").last_attempt is None
    assert node.store.identity.get().name == "Home node"
    page = client.http.get("/admin/peers").text
    assert page.count('name="csrf"') >= page.count('method="post"') >= 4
