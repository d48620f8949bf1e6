"""Rate limits on failed authentication and anonymous look-ups (issue 14, item 9), on SQLite
and PostgreSQL: N failures, then 429 with Retry-After, counted per client address and per
claimed account; a good key from elsewhere still works; an anonymous flood gets 429 and the
audit log stops growing."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from accord.ratelimit import RateLimiter, client_address

ANALYST = "analyst@cert.example"
INVESTIGATOR = "investigator@police.example"
FAILURES = 3


@pytest.fixture
def api(api_with: Callable[..., Any]) -> Any:
    return api_with(
        auth_failure_burst=FAILURES,
        auth_failures_per_minute=0.01,  # nothing recovers during a test
        anonymous_burst=5,
        anonymous_per_second=0.001,
        anonymous_node_burst=12,
        anonymous_node_per_second=0.001,
        anonymous_bulk_max=3,
    )


def client(api: Any, address: str) -> TestClient:
    return TestClient(api.http.app, client=(address, 40000))


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def assert_limited(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer.status_code == 429, answer.text
    assert int(answer.headers["Retry-After"]) >= 1


def test_failed_authentications_per_address(api: Any) -> None:
    attacker = client(api, "203.0.113.9")
    for number in range(FAILURES):  # each for another made-up account
        answer = attacker.get("/api/v1/objects", headers=bearer(f"acc_{number:012x}_guess"))
        assert answer.status_code == 401
    assert_limited(attacker.get("/api/v1/objects", headers=bearer("acc_00000000ffff_guess")))
    assert_limited(attacker.get("/api/v1/objects", headers={"Authorization": "Bearer junk"}))
    # Refused before the key is looked at: even a good one, not already checked, from there.
    assert_limited(attacker.get("/api/v1/objects", headers=bearer(api.keys[INVESTIGATOR])))
    # A good key from another address still works.
    other = client(api, "198.51.100.200")
    assert other.get("/api/v1/objects", headers=bearer(api.keys[ANALYST])).status_code == 200
    # So does a key this worker has already checked, from the limited address.
    assert attacker.get("/api/v1/objects", headers=bearer(api.keys[ANALYST])).status_code == 200


def test_failed_authentications_per_claimed_account(api: Any) -> None:
    key_id = api.keys[ANALYST].split("_")[1]
    for number in range(FAILURES):  # a distributed guess: each from another address
        guess = client(api, f"203.0.113.{number + 1}")
        answer = guess.get("/api/v1/objects", headers=bearer(f"acc_{key_id}_wrong{number}"))
        assert answer.status_code == 401
    fresh = client(api, "203.0.113.100")
    assert_limited(fresh.get("/api/v1/objects", headers=bearer(f"acc_{key_id}_wrong")))
    # Another account's good key from another address works.
    other = client(api, "198.51.100.200")
    assert other.get("/api/v1/objects", headers=bearer(api.keys[INVESTIGATOR])).status_code == 200


def test_failed_basic_authentications_per_user_name(api: Any) -> None:
    """TAXII clients send HTTP Basic: the claimed account is the user name."""
    for number in range(FAILURES):
        guess = client(api, f"203.0.113.{number + 1}")
        answer = guess.get("/taxii2/", headers=basic(ANALYST, f"wrong{number}"))
        assert answer.status_code == 401
    fresh = client(api, "203.0.113.100")
    limited = fresh.get("/taxii2/", headers=basic(ANALYST.upper(), "wrong"))
    assert_limited(limited)
    assert limited.headers["content-type"].startswith("application/taxii+json")
    other = client(api, "198.51.100.200")
    good = other.get("/taxii2/", headers=basic(INVESTIGATOR, api.keys[INVESTIGATOR]))
    assert good.status_code == 200


def test_the_fast_lookup_route_has_the_same_limits(api: Any) -> None:
    attacker = client(api, "203.0.113.9")
    for number in range(FAILURES):
        answer = attacker.get(
            "/api/v1/lookup",
            params={"value": "198.51.100.23"},
            headers=bearer(f"acc_{number:012x}_guess"),
        )
        assert answer.status_code == 401
    assert_limited(
        attacker.get("/api/v1/lookup", params={"value": "198.51.100.23"}, headers=bearer("acc_1_x"))
    )


def _audit_size(api: Any) -> int:
    return len(api.store.audit.entries(limit=100_000))


def test_an_anonymous_flood_is_refused_before_it_is_audited(api: Any) -> None:
    flood = client(api, "203.0.113.66")
    before = _audit_size(api)
    for _ in range(5):
        assert flood.get("/api/v1/lookup", params={"value": "198.51.100.23"}).status_code == 200
    assert _audit_size(api) == before + 5
    for _ in range(20):
        assert_limited(flood.get("/api/v1/lookup", params={"value": "198.51.100.23"}))
        assert_limited(flood.post("/api/v1/lookup", json={"values": ["198.51.100.23"]}))
    assert _audit_size(api) == before + 5
    # An authenticated caller at the same address is not anonymous.
    answer = flood.get(
        "/api/v1/lookup", params={"value": "198.51.100.23"}, headers=bearer(api.keys[ANALYST])
    )
    assert answer.status_code == 200


def test_an_anonymous_flood_from_many_addresses_hits_the_node_limit(api: Any) -> None:
    before = _audit_size(api)
    answered = 0
    for number in range(40):  # 40 addresses, 2 look-ups each: 80 asked, 12 answered
        flood = client(api, f"10.0.{number}.1")
        for _ in range(2):
            answer = flood.get("/api/v1/lookup", params={"value": "198.51.100.23"})
            if answer.status_code == 200:
                answered += 1
            else:
                assert_limited(answer)
    assert answered == 12
    assert _audit_size(api) == before + 12


def test_anonymous_bulk_lookups_are_capped(api: Any) -> None:
    anonymous = client(api, "203.0.113.5")
    answer = anonymous.post("/api/v1/lookup", json={"values": ["a.example"] * 4})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"] == "/values"
    assert "at most 3 values" in answer.json()["detail"]
    assert anonymous.post("/api/v1/lookup", json={"values": ["a.example"] * 3}).status_code == 200
    signed = anonymous.post(
        "/api/v1/lookup", json={"values": ["a.example"] * 4}, headers=bearer(api.keys[ANALYST])
    )
    assert signed.status_code == 200


def test_client_address_believes_only_trusted_proxies() -> None:
    trusted = frozenset({"10.0.0.1"})
    assert client_address(("203.0.113.1", 1), "198.51.100.1", frozenset()) == "203.0.113.1"
    assert client_address(("203.0.113.1", 1), "198.51.100.1", trusted) == "203.0.113.1"
    assert client_address(("10.0.0.1", 1), "1.2.3.4, 198.51.100.1", trusted) == "198.51.100.1"
    assert client_address(("10.0.0.1", 1), "198.51.100.1, 10.0.0.1", trusted) == "198.51.100.1"
    assert client_address(("10.0.0.1", 1), None, trusted) == "10.0.0.1"
    assert client_address(None, None, trusted) == "-"


def test_the_limiter_keeps_a_bounded_table() -> None:
    limiter = RateLimiter(rate=1000.0, burst=2, max_keys=100)
    for number in range(10_000):
        limiter.take(f"made-up-{number}")
    assert len(limiter._buckets) <= 100
