"""GET /lookup is served by a plain Starlette endpoint (`accord.api.routes.lookup.
lookup_one_fast`) placed ahead of the documented FastAPI route: its errors must be the
documented route's, byte for byte (status, problem document, content type, headers that say
what to do next)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accord import ratelimit
from accord.api.app import create_app
from accord.api.routes import lookup
from accord.settings import Settings
from accord.store.node import Store
from community import make_community

PATH = "/api/v1/lookup"


def _documented_only(app: FastAPI) -> FastAPI:
    """``app`` without the fast route: GET /lookup reaches the FastAPI route."""
    app.router.routes[:] = [
        route
        for route in app.router.routes
        if getattr(route, "endpoint", None) is not lookup.lookup_one_fast
    ]
    return app


@pytest.fixture
def key(store: Store) -> str:
    community = make_community(store)
    return store.directory.new_key(community.analyst.email)


def _pair(store: Store, settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    fast = create_app(settings, store=store)
    documented = _documented_only(create_app(settings, store=store))
    assert any(getattr(r, "endpoint", None) is lookup.lookup_one_fast for r in fast.router.routes)
    with TestClient(fast) as one, TestClient(documented) as other:
        yield one, other


@pytest.fixture
def clients(store: Store, store_url: str) -> Iterator[tuple[TestClient, TestClient]]:
    yield from _pair(store, Settings(database_url=store_url, public_lookups=False))


def _same(fast: TestClient, documented: TestClient, **request: object) -> int:
    """Sends ``request`` to both; asserts the answers are the same; returns the status."""
    one = fast.get(PATH, **request)  # type: ignore[arg-type]
    other = documented.get(PATH, **request)  # type: ignore[arg-type]
    assert one.status_code == other.status_code, request
    assert one.headers.get("content-type") == other.headers.get("content-type"), request
    for header in ("www-authenticate", "retry-after"):
        assert one.headers.get(header) == other.headers.get(header), (header, request)
    assert one.content == other.content, request
    return one.status_code


BAD = [
    ({}, 422),  # no value
    ({"value": ""}, 422),
    ({"value": "x" * (lookup.MAX_VALUE + 1)}, 422),
    ({"value": "not a value"}, 422),  # detection finds no kind
    ({"value": "198.51.100.7", "type": "colour"}, 422),  # unknown type
    ({"value": "198.51.100.7", "type": "domain"}, 422),  # not of the type given
    ({"value": "bad\x00value.example"}, 422),
    ({"value": "198.51.100.7"}, 200),  # and an answer, for contrast
]


@pytest.mark.parametrize(("params", "status"), BAD)
def test_the_fast_route_fails_as_the_documented_one(
    clients: tuple[TestClient, TestClient], key: str, params: dict[str, str], status: int
) -> None:
    fast, documented = clients
    headers = {"Authorization": f"Bearer {key}"}
    assert _same(fast, documented, params=params, headers=headers) == status


@pytest.mark.parametrize(
    "authorization",
    [
        None,  # no key where anonymous look-ups are off
        "Bearer not-a-key",
        "Basic !!!",  # malformed
        "Digest whatever",
    ],
)
def test_the_fast_route_refuses_callers_as_the_documented_one(
    clients: tuple[TestClient, TestClient], authorization: str | None
) -> None:
    fast, documented = clients
    headers = {} if authorization is None else {"Authorization": authorization}
    params = {"value": "198.51.100.7"}
    assert _same(fast, documented, params=params, headers=headers) == 401


def test_the_fast_route_limits_callers_as_the_documented_one(
    store: Store, store_url: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stopped clock: the wait the 429 names does not depend on how long the test took.
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(monotonic=lambda: 1000.0))
    settings = Settings(database_url=store_url, rate_burst=2, rate_per_second=0.001)
    for fast, documented in _pair(store, settings):
        headers = {"Authorization": f"Bearer {key}"}
        statuses = [
            _same(fast, documented, params={"value": "198.51.100.7"}, headers=headers)
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
