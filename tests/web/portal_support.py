"""The portal in-process (Starlette's TestClient), over the parametrised store, with the
community of the leak matrix: every user has a password; `Portal.sign_in` gives a client
signed in as one of them, with the CSRF token its forms carry.

The fixture is registered by this folder's conftest.py.
(The browser tests' live server is in this folder's conftest.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.model.roles import Role
from accord.settings import Settings
from accord.store.node import Store
from community import Community, make_community
from leakdata import DOCUMENTATION_LISTS

PASSWORD = "portal password 1"  # every test user's
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_SIGNIN = re.compile(r'name="signin_token" value="([^"]+)"')


@dataclass
class Browsing:
    """A signed-in person's client and the CSRF token of their session."""

    http: TestClient
    csrf: str

    def post(self, path: str, data: dict[str, str], **kwargs: object) -> object:
        return self.http.post(path, data={"csrf": self.csrf, **data}, **kwargs)  # type: ignore[arg-type]


@dataclass
class Portal:
    store: Store
    community: Community
    app: object
    emails: dict[str, str]  # role name in the tests -> e-mail

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://testserver")  # type: ignore[arg-type]

    def sign_in(self, email: str, password: str = PASSWORD) -> Browsing:
        http = self.client()
        done = post_sign_in(http, email, password)
        assert done.status_code == 303, done.text
        found = _CSRF.search(http.get("/account").text)
        assert found is not None, "signed in, but the account page has no CSRF token"
        return Browsing(http, found.group(1))


def signin_token(http: TestClient) -> str:
    """The sign-in form's own CSRF token (and its cookie, kept by ``http``)."""
    found = _SIGNIN.search(http.get("/sign-in").text)
    assert found is not None
    return found.group(1)


def post_sign_in(
    http: TestClient, email: str, password: str = PASSWORD, token: str | None = None, **extra: str
) -> Any:
    """The sign-in form sent as a browser sends it; the answer, redirects not followed."""
    data = {"email": email, "password": password, "signin_token": token or signin_token(http)}
    return http.post("/sign-in", data={**data, **extra}, follow_redirects=False)


def cheap_hashes(store: Store) -> None:
    """Argon2id with argon2-cffi's cheapest parameters: the same code path at a fraction of
    the node's cost (64 MiB and about a second per hash on a busy 2-core test machine)."""
    store.credentials.hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


def build_portal(store: Store, settings: Settings) -> Portal:
    cheap_hashes(store)
    community = make_community(store)
    store.directory.add_user("admin@node.example", "CERT-EX", Role.ADMIN)
    store.directory.add_user("boss@water.example", "Water Utility", Role.ORG_ADMIN)
    store.directory.add_user("reader@police.example", "Police Cyber Unit", Role.READER)
    for user in store.directory.users():
        store.credentials.set_password(user.id, PASSWORD)
    emails = {
        "analyst": community.analyst.email,
        "colleague": community.colleague.email,
        "investigator": community.investigator.email,
        "operator": community.operator.email,
        "admin": "admin@node.example",
        "orgadmin": "boss@water.example",
        "reader": "reader@police.example",
    }
    return Portal(store, community, create_app(settings, store=store), emails)


@pytest.fixture
def portal(store: Store, store_url: str) -> Iterator[Portal]:
    # Sessions are remembered for a moment per worker, as API keys are; short here, so that a
    # test of a revocation made outside the portal waits only this long.
    settings = Settings(
        database_url=store_url, warninglists_ignore=DOCUMENTATION_LISTS, key_cache_seconds=0.3
    )
    built = build_portal(store, settings)
    with built.client():  # runs the application's start-up and shut-down once
        yield built
