"""Who may act on whose account (issue 14, items 1 and 5d; issue 17 for the portal's
passwords, second factors, sessions and an organisation's TOTP requirement): every admin
route, every role acting on every role, in the same and in another organisation, on SQLite
and PostgreSQL.

The expected outcomes are written out here, not derived from `accord.model.roles`: node
admins act on everyone; org-admins on the analysts, readers and sensors of their own
organisation; everyone on their own keys; nobody else on anyone. A refusal changes nothing,
and a user or key the caller may not act on answers exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.model.roles import Role
from accord.settings import Settings
from accord.store.node import Store
from accord.store.organisations import User

ROLES = [Role.ADMIN, Role.ORG_ADMIN, Role.ANALYST, Role.READER, Role.SENSOR]
ORGS = ("Home Org", "Other Org")
MANAGED_BY_ORG_ADMIN = {Role.ANALYST, Role.READER, Role.SENSOR}


def expected(actor: Role, target: Role, same_org: bool) -> bool:
    """Whether `actor` may act on another account (not their own) of role `target`."""
    if actor is Role.ADMIN:
        return True
    return actor is Role.ORG_ADMIN and same_org and target in MANAGED_BY_ORG_ADMIN


@dataclass
class Node:
    store: Store
    http: TestClient
    actors: dict[Role, tuple[User, str]]  # in the home organisation
    targets: list[tuple[User, bool]]  # (user, same organisation as the actors)

    def call(self, actor: Role, method: str, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        key = self.actors[actor][1]
        headers = {"Authorization": f"Bearer {key}"}
        return self.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def node(store: Store, store_url: str) -> Iterator[Node]:
    directory = store.directory
    for name in ORGS:
        directory.add_org(name)
    actors = {
        role: directory.add_user(f"actor-{role.value}@home.example", ORGS[0], role)
        for role in ROLES
    }
    targets = [
        (directory.add_user(f"{role.value}@{where}.example", org, role)[0], org == ORGS[0])
        for org, where in zip(ORGS, ("home", "other"), strict=True)
        for role in ROLES
    ]
    settings = Settings(database_url=store_url, warninglists=False)
    with TestClient(create_app(settings, store=store)) as http:
        yield Node(store, http, actors, targets)


def _same_as_unknown(answer, unknown, shown: str, hidden: str) -> None:  # type: ignore[no-untyped-def]
    """``answer`` (about ``shown``) is ``unknown`` (about ``hidden``) word for word."""
    assert answer.status_code == unknown.status_code == 404
    assert answer.text.replace(shown, hidden) == unknown.text
    assert answer.headers.get("content-type") == unknown.headers.get("content-type")


@pytest.mark.parametrize("actor", ROLES)
def test_mint_a_key_for_another_user(node: Node, actor: Role) -> None:
    unknown = node.call(actor, "POST", "/users/nobody@nowhere.example/keys")
    for target, same_org in node.targets:
        before = node.store.directory.keys(target.id)
        answer = node.call(actor, "POST", f"/users/{target.email}/keys")
        if expected(actor, target.role, same_org):
            assert answer.status_code == 201, (actor, target.email)
            key = answer.json()["api_key"]
            assert node.store.directory.user_for_key(key) == target
        else:
            _same_as_unknown(answer, unknown, target.email, "nobody@nowhere.example")
            assert node.store.directory.keys(target.id) == before, (actor, target.email)


@pytest.mark.parametrize("actor", ROLES)
def test_list_another_users_keys(node: Node, actor: Role) -> None:
    unknown = node.call(actor, "GET", "/users/nobody@nowhere.example/keys")
    for target, same_org in node.targets:
        answer = node.call(actor, "GET", f"/users/{target.email}/keys")
        if expected(actor, target.role, same_org):
            assert answer.status_code == 200, (actor, target.email)
            assert len(answer.json()) == 1
        else:
            _same_as_unknown(answer, unknown, target.email, "nobody@nowhere.example")


@pytest.mark.parametrize("actor", ROLES)
def test_revoke_another_users_key(node: Node, actor: Role) -> None:
    unknown = node.call(actor, "DELETE", "/keys/0123456789ab")
    for target, same_org in node.targets:
        key_id = node.store.directory.keys(target.id)[0][0]
        answer = node.call(actor, "DELETE", f"/keys/{key_id}")
        revoked = node.store.directory.keys(target.id)[0][2]
        if expected(actor, target.role, same_org):
            assert answer.status_code == 204, (actor, target.email)
            assert revoked
        else:
            _same_as_unknown(answer, unknown, key_id, "0123456789ab")
            assert not revoked, (actor, target.email)


@pytest.mark.parametrize("actor", ROLES)
def test_own_keys(node: Node, actor: Role) -> None:
    """Everyone lists, mints and revokes their own keys."""
    user = node.actors[actor][0]
    assert node.call(actor, "GET", f"/users/{user.email}/keys").status_code == 200
    made = node.call(actor, "POST", f"/users/{user.email}/keys")
    assert made.status_code == 201
    assert node.call(actor, "DELETE", f"/keys/{made.json()['id']}").status_code == 204


@pytest.mark.parametrize("actor", ROLES)
def test_create_user_with_role(node: Node, actor: Role) -> None:
    for org in ORGS:
        for role in ROLES:
            email = f"new-{role.value}@{'home' if org == ORGS[0] else 'other'}.example"
            answer = node.call(
                actor, "POST", "/users", json={"email": email, "organisation": org, "role": role}
            )
            if expected(actor, role, org == ORGS[0]):
                assert answer.status_code == 201, (actor, role, org)
                assert node.store.directory.user(email).role is role
            else:
                assert answer.status_code == 403, (actor, role, org)
                assert email not in {u.email for u in node.store.directory.users()}


@pytest.mark.parametrize("actor", ROLES)
def test_list_users(node: Node, actor: Role) -> None:
    answer = node.call(actor, "GET", "/users")
    everyone = {u.email for u in node.store.directory.users()}
    home = node.store.directory.org(ORGS[0]).id
    if actor is Role.ADMIN:
        assert {u["email"] for u in answer.json()} == everyone
    elif actor is Role.ORG_ADMIN:
        assert {u["email"] for u in answer.json()} == {
            u.email for u in node.store.directory.users(home)
        }
    else:
        assert answer.status_code == 403


@pytest.mark.parametrize("actor", ROLES)
def test_add_organisation(node: Node, actor: Role) -> None:
    before = node.store.directory.orgs()
    answer = node.call(actor, "POST", "/organisations", json={"name": "New Org"})
    if actor is Role.ADMIN:
        assert answer.status_code == 201
        assert len(node.store.directory.orgs()) == len(before) + 1
    else:
        assert answer.status_code == 403
        assert node.store.directory.orgs() == before


def test_minted_key_for_the_node_admin_is_refused_to_an_org_admin(node: Node) -> None:
    """The escalation of the issue: an org-admin asks for a key of its own organisation's
    node admin, and would then create organisations with it."""
    admin = next(user for user, same in node.targets if same and user.role is Role.ADMIN)
    answer = node.call(Role.ORG_ADMIN, "POST", f"/users/{admin.email}/keys")
    assert answer.status_code == 404
    assert len(node.store.directory.keys(admin.id)) == 1


# -- the portal's accounts (issue 17): passwords, second factors, sessions -----------------

GOOD = "correct horse battery staple"
HOUR = timedelta(hours=1)
IDLE = timedelta(minutes=30)


@pytest.fixture
def quick(node: Node) -> Node:
    """Argon2id at its cheapest: these tests are about who may, not about the hash."""
    node.store.credentials.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return node


@pytest.mark.parametrize("actor", ROLES)
def test_set_another_users_password(quick: Node, actor: Role) -> None:
    store = quick.store
    unknown = quick.call(
        actor, "PUT", "/users/nobody@nowhere.example/password", json={"password": GOOD}
    )
    for target, same_org in quick.targets:
        token = store.web_sessions.create(target.id, HOUR)
        answer = quick.call(
            actor, "PUT", f"/users/{target.email}/password", json={"password": GOOD}
        )
        if expected(actor, target.role, same_org):
            assert answer.status_code == 204, (actor, target.email, answer.text)
            assert store.credentials.check_password(target.email, GOOD) == target
            assert store.web_sessions.get(token, IDLE) is None  # signed out everywhere
        else:
            _same_as_unknown(answer, unknown, target.email, "nobody@nowhere.example")
            assert store.credentials.check_password(target.email, GOOD) is None
            assert store.web_sessions.get(token, IDLE) is not None


@pytest.mark.parametrize("actor", ROLES)
def test_reset_another_users_second_factor(quick: Node, actor: Role) -> None:
    store = quick.store
    unknown = quick.call(actor, "DELETE", "/users/nobody@nowhere.example/totp")
    for target, same_org in quick.targets:
        secret = store.credentials.new_totp_secret()
        assert store.credentials.enable_totp(target.id, secret, pyotp.TOTP(secret).now())
        token = store.web_sessions.create(target.id, HOUR, second_factor=True)
        answer = quick.call(actor, "DELETE", f"/users/{target.email}/totp")
        account = store.credentials.account(target.id)
        assert account is not None
        if expected(actor, target.role, same_org):
            assert answer.status_code == 204, (actor, target.email, answer.text)
            assert not account.totp_enabled
            assert store.web_sessions.get(token, IDLE) is None
        else:
            _same_as_unknown(answer, unknown, target.email, "nobody@nowhere.example")
            assert account.totp_enabled, (actor, target.email)
            assert store.web_sessions.get(token, IDLE) is not None


@pytest.mark.parametrize("actor", ROLES)
def test_list_and_end_another_users_sessions(quick: Node, actor: Role) -> None:
    store = quick.store
    unknown_list = quick.call(actor, "GET", "/users/nobody@nowhere.example/sessions")
    unknown_end = quick.call(actor, "DELETE", "/users/nobody@nowhere.example/sessions")
    for target, same_org in quick.targets:
        token = store.web_sessions.create(target.id, HOUR, address="192.0.2.1")
        listed = quick.call(actor, "GET", f"/users/{target.email}/sessions")
        ended = quick.call(actor, "DELETE", f"/users/{target.email}/sessions")
        if expected(actor, target.role, same_org):
            assert listed.status_code == 200, (actor, target.email)
            assert [s["address"] for s in listed.json()] == ["192.0.2.1"]
            assert ended.status_code == 204
            assert store.web_sessions.get(token, IDLE) is None
        else:
            _same_as_unknown(listed, unknown_list, target.email, "nobody@nowhere.example")
            _same_as_unknown(ended, unknown_end, target.email, "nobody@nowhere.example")
            assert store.web_sessions.get(token, IDLE) is not None


@pytest.mark.parametrize("actor", ROLES)
def test_own_password_second_factor_and_sessions(quick: Node, actor: Role) -> None:
    """Everyone changes their own password (giving the present one) and lists and ends their
    own sessions; nobody resets their own second factor."""
    store = quick.store
    user = quick.actors[actor][0]
    path = f"/users/{user.email}"
    # No password yet: the first one is set by a manager, not by a key alone.
    first = quick.call(actor, "PUT", f"{path}/password", json={"password": GOOD})
    assert first.status_code == 403 and "no portal password yet" in first.text
    store.credentials.set_password(user.id, GOOD)
    new = "a new and longer passphrase"
    missing = quick.call(actor, "PUT", f"{path}/password", json={"password": new})
    assert missing.status_code == 422 and "/current_password" in missing.text
    wrong = quick.call(
        actor,
        "PUT",
        f"{path}/password",
        json={"password": new, "current_password": "not the password at all"},
    )
    assert wrong.status_code == 403
    token = store.web_sessions.create(user.id, HOUR)
    changed = quick.call(
        actor, "PUT", f"{path}/password", json={"password": new, "current_password": GOOD}
    )
    assert changed.status_code == 204, changed.text
    assert store.credentials.check_password(user.email, new) == user
    assert store.web_sessions.get(token, IDLE) is None
    token = store.web_sessions.create(user.id, HOUR)
    assert len(quick.call(actor, "GET", f"{path}/sessions").json()) == 1
    assert quick.call(actor, "DELETE", f"{path}/sessions").status_code == 204
    assert store.web_sessions.get(token, IDLE) is None
    own_factor = quick.call(actor, "DELETE", f"{path}/totp")
    assert own_factor.status_code == 403 and "whoever manages your account" in own_factor.text


@pytest.mark.parametrize("actor", ROLES)
def test_require_totp_of_an_organisation(quick: Node, actor: Role) -> None:
    store = quick.store
    for org_name in ORGS:
        org = store.directory.org(org_name)
        home = org_name == ORGS[0]
        answer = quick.call(
            actor, "PUT", f"/organisations/{org_name}/require-totp", json={"required": True}
        )
        required = org.id in store.credentials.orgs_requiring_totp()
        read = quick.call(actor, "GET", f"/organisations/{org.id}/require-totp")
        if actor is Role.ADMIN or (actor is Role.ORG_ADMIN and home):
            assert answer.status_code == 200, (actor, org_name, answer.text)
            assert answer.json()["required"] is True and required
            off = quick.call(
                actor, "PUT", f"/organisations/{org.id}/require-totp", json={"required": False}
            )
            assert off.json()["required"] is False
            assert org.id not in store.credentials.orgs_requiring_totp()
        else:
            assert answer.status_code == 403, (actor, org_name)
            assert not required
        # Read by the node admin and the organisation's own members.
        assert read.status_code == (200 if actor is Role.ADMIN or home else 403)
    missing = quick.call(
        actor, "PUT", "/organisations/Nowhere/require-totp", json={"required": True}
    )
    assert missing.status_code == 404
