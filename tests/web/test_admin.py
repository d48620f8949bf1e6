"""The administration pages: who may open them, and each action per role, with the
escalations the API refuses refused here too (an org-admin naming another organisation's user,
key or allowlist, a role above their own, a forged form; a reader posting to /admin). A user,
key or allowlist an administrator may not act on answers exactly like a missing one.

Cast (tests/web/portal_support.py): the node admin (CERT-EX), the Water Utility's org-admin
("orgadmin") and sensor ("operator"), CERT analysts, a police analyst and reader; and here a
second org-admin of the Water Utility (a peer, whom an org-admin may not act on)."""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest
from portal_support import PASSWORD, Browsing, Portal

from accord.model.roles import Role
from accord.store.organisations import User

KEY = re.compile(r'id="new-key"[^>]*value="(acc_[^"]+)"')
MISSING_USER = "00000000-0000-4000-8000-000000000000"
MISSING_KEY = "0123456789ab"


@pytest.fixture
def peer(portal: Portal) -> User:
    """A second org-admin of the Water Utility."""
    user, _ = portal.store.directory.add_user(
        "deputy@water.example", "Water Utility", Role.ORG_ADMIN
    )
    portal.store.credentials.set_password(user.id, PASSWORD)
    return user


def _user(portal: Portal, role_name: str) -> User:
    return portal.store.directory.user(portal.emails[role_name])


def _admin_entries(portal: Portal, change: str) -> list[dict[str, object]]:
    entries = portal.store.audit.entries(action="admin")
    return [
        {"user_id": e.user_id, "target": e.target, **e.detail}
        for e in entries
        if e.detail.get("change") == change
    ]


def _missing(client: Browsing, path: str) -> str:
    answer = client.http.get(path)
    assert answer.status_code == 404
    return answer.text


def _same_as_missing(answer: object, missing: str) -> None:
    assert answer.status_code == 404, answer.text[:300]  # type: ignore[attr-defined]
    assert answer.text == missing  # type: ignore[attr-defined]


# who may open the pages -----------------------------------------------------------------


ADMIN_PATHS = (
    "/admin",
    "/admin/organisations",
    "/admin/groups",
    "/admin/allowlist",
    "/admin/feeds",
    "/admin/peers",
)


@pytest.mark.parametrize("role_name", ["analyst", "reader", "operator", "investigator"])
def test_others_get_the_missing_page(portal: Portal, role_name: str) -> None:
    client = portal.sign_in(portal.emails[role_name])
    missing = _missing(client, "/no-such-page")
    for path in (*ADMIN_PATHS, f"/admin/users/{_user(portal, 'analyst').id}"):
        _same_as_missing(client.http.get(path), missing)
    page = client.http.get("/")
    assert 'href="/admin"' not in page.text and 'href="/audit"' not in page.text


@pytest.mark.parametrize("role_name", ["reader", "analyst", "operator"])
def test_a_non_admin_posting_to_admin_changes_nothing(portal: Portal, role_name: str) -> None:
    client = portal.sign_in(portal.emails[role_name])
    missing = _missing(client, "/no-such-page")
    target = _user(portal, "colleague")
    key_id = portal.store.directory.keys(target.id)[0][0]
    before_users = portal.store.directory.users()
    forms = [
        ("/admin/users", {"email": "new@cert.example", "org": "CERT-EX", "role": "analyst"}),
        (f"/admin/users/{target.id}/keys", {}),
        (f"/admin/keys/{key_id}/revoke", {}),
        (f"/admin/users/{target.id}/password", {"password": "a long enough password"}),
        (f"/admin/users/{target.id}/totp-reset", {}),
        ("/admin/organisations", {"name": "Rogue Org"}),
        (f"/admin/organisations/{portal.community.cert.id}/require-totp", {"required": "on"}),
        ("/admin/groups", {"name": "Rogue group"}),
        ("/admin/allowlist", {"action": "add", "value": "192.0.2.1"}),
        ("/admin/feeds", {"name": "f", "url": "http://127.0.0.1:9/", "collection": "c"}),
        ("/admin/peers", {"name": "p", "url": "http://127.0.0.1:9/", "key": "k"}),
    ]
    for path, data in forms:
        _same_as_missing(client.post(path, data), missing)
    assert portal.store.directory.users() == before_users
    assert portal.store.directory.keys(target.id)[0][2] is False
    assert portal.store.credentials.check_password(target.email, "a long enough password") is None
    assert len(portal.store.directory.orgs()) == 3
    assert portal.store.directory.groups() == []
    assert portal.store.allowlists.entries(_user(portal, role_name).org_id) == []
    assert portal.store.feeds.all() == []
    assert portal.store.peers.all() == []
    assert _admin_entries(portal, "add user") == []


# users -------------------------------------------------------------------------------------


def test_the_node_admin_lists_every_user(portal: Portal) -> None:
    page = portal.sign_in(portal.emails["admin"]).http.get("/admin")
    assert page.status_code == 200
    for user in portal.store.directory.users():
        assert user.email in page.text
        assert f'href="/admin/users/{user.id}"' in page.text


def test_an_org_admin_lists_only_their_organisation(portal: Portal, peer: User) -> None:
    client = portal.sign_in(portal.emails["orgadmin"])
    page = client.http.get("/admin").text
    water = portal.community.water.id
    for user in portal.store.directory.users():
        if user.org_id == water:
            assert user.email in page
        else:
            assert user.email not in page and user.id not in page
    # The peer is listed (as over the API) but is not theirs to open.
    assert f'href="/admin/users/{_user(portal, "operator").id}"' in page
    assert f'href="/admin/users/{peer.id}"' not in page
    assert "CERT-EX" not in page  # no other organisation offered in the form
    assert 'value="admin"' not in page and 'value="org-admin"' not in page


def test_an_org_admin_opens_only_whom_they_manage(portal: Portal, peer: User) -> None:
    client = portal.sign_in(portal.emails["orgadmin"])
    missing = _missing(client, f"/admin/users/{MISSING_USER}")
    assert client.http.get(f"/admin/users/{_user(portal, 'operator').id}").status_code == 200
    admin = _user(portal, "admin")
    for other in (_user(portal, "analyst"), _user(portal, "reader"), admin, peer):
        answer = client.http.get(f"/admin/users/{other.id}")
        assert answer.status_code == 404
        assert answer.text.replace(other.id, MISSING_USER) == missing
        assert other.email not in answer.text
    _same_as_missing(client.http.get("/admin/users/" + "x" * 200), missing)


def test_an_org_admin_adds_a_user_of_their_organisation(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["orgadmin"])
    answer = client.post(
        "/admin/users",
        {
            "email": "New.Analyst@water.example",
            "org": portal.community.water.id,
            "role": "analyst",
            "password": "a long enough password",
        },
    )
    assert answer.status_code == 201
    added = portal.store.directory.user("new.analyst@water.example")
    assert added.role is Role.ANALYST and added.org_id == portal.community.water.id
    key = KEY.search(answer.text)
    assert key, "the first key is shown once"
    assert portal.store.directory.user_for_key(key.group(1)) == added
    assert 'data-copy="new-key"' in answer.text
    assert portal.store.credentials.check_password(added.email, "a long enough password") == added
    again = client.http.get(f"/admin/users/{added.id}")
    assert key.group(1) not in again.text  # never shown again
    (entry,) = _admin_entries(portal, "add user")
    assert entry["target"] == added.id and entry["role"] == "analyst"
    assert entry["via"] == "portal" and entry["user_id"] == _user(portal, "orgadmin").id


@pytest.mark.parametrize(
    ("org_name", "role"),
    [
        ("water", "admin"),
        ("water", "org-admin"),
        ("cert", "analyst"),
        ("cert", "reader"),
        ("police", "sensor"),
    ],
)
def test_an_org_admin_may_not_escalate_when_adding(
    portal: Portal, org_name: str, role: str
) -> None:
    """A forged form: a role above theirs, or another organisation."""
    client = portal.sign_in(portal.emails["orgadmin"])
    org = getattr(portal.community, org_name)
    answer = client.post(
        "/admin/users", {"email": "sneaky@evil.example", "org": org.id, "role": role}
    )
    assert answer.status_code == 403
    assert "sneaky@evil.example" not in {u.email for u in portal.store.directory.users()}
    assert _admin_entries(portal, "add user") == []


def test_the_node_admin_adds_anyone_anywhere(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["admin"])
    answer = client.post(
        "/admin/users",
        {"email": "chief@police.example", "org": portal.community.police.id, "role": "org-admin"},
    )
    assert answer.status_code == 201
    assert portal.store.directory.user("chief@police.example").role is Role.ORG_ADMIN


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"email": "not an address"}, 422),
        ({"role": "overlord"}, 422),
        ({"org": "no such org"}, 422),
        ({"password": "short"}, 422),
        ({"email": "soc@water.example"}, 409),
    ],
)
def test_adding_a_user_with_a_bad_form(portal: Portal, fields: dict[str, str], status: int) -> None:
    client = portal.sign_in(portal.emails["orgadmin"])
    before = portal.store.directory.users()
    data = {"email": "ok@water.example", "org": portal.community.water.id, "role": "reader"}
    answer = client.post("/admin/users", data | fields)
    assert answer.status_code == status
    assert 'role="alert"' in answer.text
    assert portal.store.directory.users() == before


# keys --------------------------------------------------------------------------------------


def test_keys_made_and_revoked_by_an_org_admin(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["orgadmin"])
    sensor = _user(portal, "operator")
    made = client.post(f"/admin/users/{sensor.id}/keys", {})
    assert made.status_code == 201
    key = KEY.search(made.text)
    assert key and portal.store.directory.user_for_key(key.group(1)) == sensor
    key_id = key.group(1).split("_")[1]
    # The API takes the key, then refuses it as soon as it is revoked here.
    api = portal.client()
    headers = {"Authorization": f"Bearer {key.group(1)}"}
    assert api.get("/api/v1/organisations", headers=headers).status_code == 200
    done = client.post(f"/admin/keys/{key_id}/revoke", {}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/users/{sensor.id}?done=revoked"
    assert portal.store.directory.user_for_key(key.group(1)) is None
    assert api.get("/api/v1/organisations", headers=headers).status_code == 401
    assert [e["key"] for e in _admin_entries(portal, "new key")] == [key_id]
    assert [e["key"] for e in _admin_entries(portal, "revoke key")] == [key_id]


def test_an_org_admin_may_not_touch_other_keys(portal: Portal, peer: User) -> None:
    client = portal.sign_in(portal.emails["orgadmin"])
    missing_key = client.post(f"/admin/keys/{MISSING_KEY}/revoke", {})
    assert missing_key.status_code == 404
    missing_user = client.post(f"/admin/users/{MISSING_USER}/keys", {})
    assert missing_user.status_code == 404
    for other in (_user(portal, "analyst"), _user(portal, "admin"), peer):
        key_id = portal.store.directory.keys(other.id)[0][0]
        answer = client.post(f"/admin/keys/{key_id}/revoke", {})
        assert answer.status_code == 404 and answer.text == missing_key.text
        assert portal.store.directory.keys(other.id)[0][2] is False
        minted = client.post(f"/admin/users/{other.id}/keys", {})
        assert minted.status_code == 404
        assert minted.text.replace(other.id, MISSING_USER) == missing_user.text
        assert len(portal.store.directory.keys(other.id)) == 1
    assert _admin_entries(portal, "new key") == [] == _admin_entries(portal, "revoke key")


def test_an_admin_handles_their_own_keys(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["orgadmin"])
    me = _user(portal, "orgadmin")
    page = client.http.get(f"/admin/users/{me.id}")
    assert page.status_code == 200
    assert "/account" in page.text and f"/admin/users/{me.id}/password" not in page.text
    assert f"/admin/users/{me.id}/totp-reset" not in page.text
    assert client.post(f"/admin/users/{me.id}/keys", {}).status_code == 201


# passwords and second factors --------------------------------------------------------------


def test_setting_a_password_ends_the_users_sessions(portal: Portal) -> None:
    sensor = _user(portal, "operator")
    their = portal.sign_in(sensor.email)
    assert their.http.get("/account").status_code == 200
    client = portal.sign_in(portal.emails["orgadmin"])
    done = client.post(
        f"/admin/users/{sensor.id}/password",
        {"password": "a brand new password"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert portal.store.credentials.check_password(sensor.email, "a brand new password") == sensor
    gone = their.http.get("/account", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/sign-in")
    (entry,) = _admin_entries(portal, "set password")
    assert entry["target"] == sensor.id and entry["sessions_ended"] == 1
    assert "brand new" not in str(entry)
    # The administrator's own session goes on.
    assert client.http.get("/admin").status_code == 200


def test_a_weak_password_is_refused_with_a_message(portal: Portal) -> None:
    sensor = _user(portal, "operator")
    client = portal.sign_in(portal.emails["orgadmin"])
    answer = client.post(f"/admin/users/{sensor.id}/password", {"password": "short"})
    assert answer.status_code == 422 and 'role="alert"' in answer.text
    assert portal.store.credentials.check_password(sensor.email, PASSWORD) == sensor


def test_passwords_of_others_are_out_of_reach(portal: Portal, peer: User) -> None:
    client = portal.sign_in(portal.emails["orgadmin"])
    missing = client.post(f"/admin/users/{MISSING_USER}/password", {"password": "x" * 20})
    assert missing.status_code == 404
    for other in (_user(portal, "analyst"), _user(portal, "admin"), peer):
        answer = client.post(f"/admin/users/{other.id}/password", {"password": "x" * 20})
        assert answer.text.replace(other.id, MISSING_USER) == missing.text
        assert portal.store.credentials.check_password(other.email, PASSWORD) == other
    me = _user(portal, "orgadmin")
    own = client.post(
        f"/admin/users/{me.id}/password", {"password": "x" * 20}, follow_redirects=False
    )
    assert own.status_code == 303 and own.headers["location"] == "/account"
    assert portal.store.credentials.check_password(me.email, PASSWORD) == me


def _with_totp(portal: Portal, user: User) -> None:
    secret = portal.store.credentials.new_totp_secret()
    assert portal.store.credentials.enable_totp(user.id, secret, pyotp.TOTP(secret).now())


def test_resetting_a_second_factor(portal: Portal, peer: User) -> None:
    sensor = _user(portal, "operator")
    _with_totp(portal, sensor)
    _with_totp(portal, peer)
    client = portal.sign_in(portal.emails["orgadmin"])
    page = client.http.get(f"/admin/users/{sensor.id}")
    assert f"/admin/users/{sensor.id}/totp-reset" in page.text
    done = client.post(f"/admin/users/{sensor.id}/totp-reset", {}, follow_redirects=False)
    assert done.status_code == 303
    account = portal.store.credentials.account(sensor.id)
    assert account is not None and not account.totp_enabled
    (entry,) = _admin_entries(portal, "reset second factor")
    assert entry["had_totp"] is True
    # A peer's, and one's own, are not the org-admin's to reset.
    me = _user(portal, "orgadmin")
    missing = client.post(f"/admin/users/{MISSING_USER}/totp-reset", {})
    for other in (peer, me):
        answer = client.post(f"/admin/users/{other.id}/totp-reset", {})
        assert answer.status_code == 404
        assert answer.text.replace(other.id, MISSING_USER) == missing.text
    peer_account = portal.store.credentials.account(peer.id)
    assert peer_account is not None and peer_account.totp_enabled


# organisations and groups ------------------------------------------------------------------


def test_the_node_admin_adds_an_organisation(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["admin"])
    done = client.post(
        "/admin/organisations",
        {"name": "Power Grid", "sector": "energy", "country": "ex"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    org = portal.store.directory.org("Power Grid")
    assert org.country == "EX"
    again = client.post("/admin/organisations", {"name": "Power Grid"})
    assert again.status_code == 409
    (entry,) = _admin_entries(portal, "add organisation")
    assert entry["target"] == org.id


def test_an_org_admin_sees_organisations_and_sets_only_their_own_policy(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["orgadmin"])
    page = client.http.get("/admin/organisations")
    assert page.status_code == 200
    assert "Police Cyber Unit" in page.text  # organisations are public, as over the API
    assert 'action="/admin/organisations"' not in page.text  # no add form
    water, cert = portal.community.water, portal.community.cert
    assert f"/admin/organisations/{water.id}/require-totp" in page.text
    assert f"/admin/organisations/{cert.id}/require-totp" not in page.text
    assert client.post("/admin/organisations", {"name": "Mine"}).status_code == 404
    missing = client.post("/admin/organisations/identity--nope/require-totp", {"required": "on"})
    refused = client.post(f"/admin/organisations/{cert.id}/require-totp", {"required": "on"})
    assert refused.status_code == 404 and refused.text == missing.text
    assert portal.store.credentials.orgs_requiring_totp() == frozenset()
    done = client.post(
        f"/admin/organisations/{water.id}/require-totp", {"required": "on"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert portal.store.credentials.orgs_requiring_totp() == {water.id}
    # The org-admin's own session gave no second factor: it ended, as the API ends it.
    gone = client.http.get("/admin", follow_redirects=False)
    assert gone.status_code == 303
    (entry,) = _admin_entries(portal, "require second factor")
    assert entry["target"] == water.id


def test_sharing_groups_are_the_node_admins(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["admin"])
    c = portal.community
    done = client.http.post(
        "/admin/groups",
        data={"csrf": client.csrf, "name": "Water sector", "members": [c.water.id, c.police.id]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    (group,) = portal.store.directory.groups()
    assert group.name == "Water sector" and set(group.org_ids) == {c.water.id, c.police.id}
    page = client.http.get("/admin/groups").text
    assert "Water sector" in page and "Police Cyber Unit, Water Utility" in page
    assert client.post("/admin/groups", {"name": "Water sector"}).status_code == 409
    bad = client.post("/admin/groups", {"name": "Other", "members": "identity--nope"})
    assert bad.status_code == 422
    orgadmin = portal.sign_in(portal.emails["orgadmin"])
    assert orgadmin.http.get("/admin/groups").status_code == 404
    assert 'href="/admin/groups"' not in orgadmin.http.get("/admin").text


# the allowlist -----------------------------------------------------------------------------


def test_an_org_admin_keeps_their_own_allowlist(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["orgadmin"])
    water = portal.community.water.id
    done = client.post(
        "/admin/allowlist",
        {"action": "add", "value": "*.Water.example", "comment": "our own"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    (entry,) = portal.store.allowlists.entries(water)
    assert entry.display == "*.water.example"
    page = client.http.get("/admin/allowlist")
    assert "*.water.example" in page.text and "our own" in page.text
    again = client.post("/admin/allowlist", {"action": "add", "value": ".water.example"})
    assert again.status_code == 409 and 'role="alert"' in again.text
    bad = client.post("/admin/allowlist", {"action": "add", "value": "not a value at all"})
    assert bad.status_code == 422
    removed = client.post(
        "/admin/allowlist",
        {"action": "remove", "org": water, "entry": entry.id},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert portal.store.allowlists.entries(water) == []
    assert next(e["entry"] for e in _admin_entries(portal, "allowlist add")) == "*.water.example"
    assert [e["entry"] for e in _admin_entries(portal, "allowlist remove")] == ["*.water.example"]


def test_another_organisations_allowlist_answers_as_missing(portal: Portal) -> None:
    cert = portal.community.cert.id
    theirs = portal.store.allowlists.add(cert, "192.0.2.50", "CERT's own")
    client = portal.sign_in(portal.emails["orgadmin"])
    missing = client.http.get("/admin/allowlist?org=identity--nope")
    assert missing.status_code == 404
    for asked in (cert, "CERT-EX"):
        answer = client.http.get(f"/admin/allowlist?org={asked}")
        assert answer.status_code == 404 and answer.text == missing.text
    forged = [
        {"action": "add", "org": cert, "value": "192.0.2.51"},
        {"action": "remove", "org": cert, "entry": theirs.id},
    ]
    for data in forged:
        answer = client.post("/admin/allowlist", data)
        assert answer.status_code == 404 and answer.text == missing.text
    # Their own organisation named, another's entry id: not found there.
    water = portal.community.water.id
    answer = client.post("/admin/allowlist", {"action": "remove", "org": water, "entry": theirs.id})
    assert answer.status_code == 404
    assert [e.id for e in portal.store.allowlists.entries(cert)] == [theirs.id]
    assert "192.0.2.50" not in client.http.get("/admin/allowlist").text


def test_the_node_admin_keeps_any_allowlist(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["admin"])
    water = portal.community.water.id
    page = client.http.get(f"/admin/allowlist?org={water}")
    assert page.status_code == 200 and "Water Utility" in page.text
    done = client.post(
        "/admin/allowlist",
        {"action": "add", "org": water, "value": "192.0.2.9"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert [e.value for e in portal.store.allowlists.entries(water)] == ["192.0.2.9"]


# feeds -------------------------------------------------------------------------------------


def test_feeds_are_the_node_admins(portal: Portal) -> None:
    orgadmin = portal.sign_in(portal.emails["orgadmin"])
    assert orgadmin.http.get("/admin/feeds").status_code == 404
    data = {"name": "Peer", "url": "http://127.0.0.1:9/taxii2/api/", "collection": "c1"}
    assert orgadmin.post("/admin/feeds", data).status_code == 404
    assert portal.store.feeds.all() == []
    client = portal.sign_in(portal.emails["admin"])
    done = client.post(
        "/admin/feeds", data | {"tlp": "amber", "key": "secret-key"}, follow_redirects=False
    )
    assert done.status_code == 303
    (feed,) = portal.store.feeds.all()
    assert feed.as_user == _user(portal, "admin").id and feed.secret == "secret-key"
    page = client.http.get("/admin/feeds").text
    assert "Peer" in page and "secret-key" not in page
    assert client.post("/admin/feeds", data).status_code == 409
    for bad in ({"url": "file:///etc/passwd"}, {"interval": "5"}, {"username": "u"}, {"name": ""}):
        assert client.post("/admin/feeds", data | {"name": "Other"} | bad).status_code == 422


def test_pull_now_claims_the_feed_and_audits_the_pull(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["admin"])
    admin = _user(portal, "admin")
    feed = portal.store.feeds.add(
        "Unreachable", "taxii", admin.id, url="http://127.0.0.1:9/api/", collection="c1"
    )
    done = client.post(f"/admin/feeds/{feed.id}/pull", {}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/admin/feeds?done=pulling"
    pulled = portal.store.feeds.get(feed.id)
    assert pulled.last_pull is not None and pulled.last_error  # nothing listens there
    writes = [e for e in portal.store.audit.entries(action="write") if e.target == feed.id]
    assert (
        writes and writes[-1].user_id == admin.id and writes[-1].detail["via"] == "portal feed pull"
    )
    # A feed being pulled (claimed) is not pulled twice.
    assert portal.store.feeds.claim(feed.id) is not None
    busy = client.post(f"/admin/feeds/{feed.id}/pull", {}, follow_redirects=False)
    assert busy.headers["location"] == "/admin/feeds?done=busy"
    assert client.post(f"/admin/feeds/{uuid.uuid4()}/pull", {}).status_code == 404


# CSRF --------------------------------------------------------------------------------------


def test_admin_forms_need_the_csrf_token(portal: Portal) -> None:
    client = portal.sign_in(portal.emails["admin"])
    other = portal.sign_in(portal.emails["orgadmin"])
    data = {"email": "csrf@water.example", "org": portal.community.water.id, "role": "reader"}
    for token in ("", "forged", other.csrf):
        answer = client.http.post("/admin/users", data=data | {"csrf": token})
        assert answer.status_code == 403
    cross_site = client.http.post(
        "/admin/users",
        data=data | {"csrf": client.csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert "csrf@water.example" not in {u.email for u in portal.store.directory.users()}
    for path in (
        "/admin",
        "/admin/organisations",
        "/admin/allowlist",
        "/admin/feeds",
        "/admin/groups",
        "/admin/peers",
    ):
        page = client.http.get(path).text
        forms = page.count('method="post"')
        assert page.count('name="csrf"') >= forms, path


def test_ending_a_users_sessions(portal: Portal, peer: User) -> None:
    sensor = _user(portal, "operator")
    their = portal.sign_in(sensor.email)
    client = portal.sign_in(portal.emails["orgadmin"])
    assert "1 portal session open." in client.http.get(f"/admin/users/{sensor.id}").text
    done = client.post(f"/admin/users/{sensor.id}/sessions/end", {}, follow_redirects=False)
    assert done.status_code == 303
    assert their.http.get("/account", follow_redirects=False).status_code == 303
    (entry,) = _admin_entries(portal, "end sessions")
    assert entry["target"] == sensor.id and entry["sessions_ended"] == 1
    missing = client.post(f"/admin/users/{MISSING_USER}/sessions/end", {})
    peers = portal.sign_in(peer.email)
    answer = client.post(f"/admin/users/{peer.id}/sessions/end", {})
    assert answer.status_code == 404
    assert answer.text.replace(peer.id, MISSING_USER) == missing.text
    assert peers.http.get("/account").status_code == 200
    me = _user(portal, "orgadmin")
    own = client.post(f"/admin/users/{me.id}/sessions/end", {}, follow_redirects=False)
    assert own.headers["location"] == "/account"
    assert client.http.get("/admin").status_code == 200
