"""API fixtures: the app in-process (FastAPI's TestClient) over the parametrised store, and
one `accord.client.Client` per community member."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.client import Client
from accord.model.roles import Role
from accord.settings import Settings
from accord.store.node import Store
from community import Community, make_community
from leakdata import DOCUMENTATION_LISTS

# The tests' made-up values are documentation addresses, which these lists (rightly) flag.


@dataclass
class Api:
    store: Store
    community: Community
    http: TestClient
    keys: dict[str, str]  # e-mail -> API key

    def client(self, email: str) -> Client:
        http = TestClient(self.http.app)
        return Client("http://testserver", self.keys[email], http=http)

    def anonymous(self) -> Client:
        return Client("http://testserver", None, http=TestClient(self.http.app))


def build_api(store: Store, settings: Settings) -> Api:
    community = make_community(store)
    keys = {}
    for user in (
        community.analyst,
        community.colleague,
        community.investigator,
        community.operator,
    ):
        keys[user.email] = store.directory.new_key(user.email)
    admin, key = store.directory.add_user("admin@node.example", "CERT-EX", Role.ADMIN)
    keys[admin.email] = key
    orgadmin, key = store.directory.add_user("boss@water.example", "Water Utility", Role.ORG_ADMIN)
    keys[orgadmin.email] = key
    reader, key = store.directory.add_user(
        "reader@police.example", "Police Cyber Unit", Role.READER
    )
    keys[reader.email] = key
    app = create_app(settings, store=store)
    return Api(store, community, TestClient(app), keys)


@pytest.fixture
def api(store: Store, store_url: str) -> Iterator[Api]:
    settings = Settings(
        database_url=store_url, public_lookups=True, warninglists_ignore=DOCUMENTATION_LISTS
    )
    built = build_api(store, settings)
    with built.http:
        yield built


@pytest.fixture
def api_with(store: Store, store_url: str) -> Iterator[Callable[..., Api]]:
    """Makes the `api` with other settings (rate limits, say): call it with `Settings`
    fields."""
    with ExitStack() as stack:

        def make(**changes: object) -> Api:
            settings = Settings(
                database_url=store_url,
                public_lookups=True,
                warninglists_ignore=DOCUMENTATION_LISTS,
                **changes,  # type: ignore[arg-type]
            )
            built = build_api(store, settings)
            stack.enter_context(built.http)
            return built

        yield make
