"""GET /lookup is served by a plain Starlette endpoint ahead of the FastAPI route that
documents it: the same contract (parameters, problems, auth, audit) must hold, and the
OpenAPI document must still describe it. POST /lookup records one audit entry per request."""

from __future__ import annotations

from typing import Any

from test_api import INDICATOR, campaign_bundle

from accord.model.tlp import Tlp
from accord.store.audit import AuditLog, Event

LOOKUP = "/api/v1/lookup"


def _problem(response: Any, status: int, pointer: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["instance"] == LOOKUP
    if pointer is not None:
        assert [error["pointer"] for error in body["errors"]] == [pointer]
    return body


def test_lookup_is_still_documented(api) -> None:  # type: ignore[no-untyped-def]
    document = api.http.get("/api/v1/openapi.json").json()
    operations = document["paths"]["/api/v1/lookup"]
    assert set(operations) == {"get", "post"}
    parameters = {p["name"]: p for p in operations["get"]["parameters"]}
    assert parameters["value"]["required"] is True
    assert parameters["value"]["schema"]["maxLength"] == 8192
    assert "type" in parameters


def test_lookup_checks_its_query_like_the_documented_route(api) -> None:  # type: ignore[no-untyped-def]
    client = api.client("analyst@cert.example").http
    body = _problem(client.get(LOOKUP), 422, "/query/value")
    assert body["detail"] == "/query/value: Field required"
    _problem(client.get(LOOKUP, params={"value": ""}), 422, "/query/value")
    _problem(client.get(LOOKUP, params={"value": "1" * 8193}), 422, "/query/value")
    _problem(client.get(LOOKUP, params={"value": "198.51.100.1", "type": "bogus"}), 422, "/type")
    _problem(client.get(LOOKUP, params={"value": "no such thing"}), 422, "/value")
    assert client.get(LOOKUP, params={"value": "198.51.100.1"}).status_code == 200


def test_lookup_authenticates_before_it_validates(api) -> None:  # type: ignore[no-untyped-def]
    anonymous = api.anonymous().http
    wrong = {"Authorization": "Bearer acc_nope_nope"}
    body = _problem(anonymous.get(LOOKUP, headers=wrong), 401)
    assert "not valid" in body["detail"]
    # Public look-ups are on in these tests: anonymous callers pass, and are validated.
    _problem(anonymous.get(LOOKUP), 422, "/query/value")


def test_other_methods_are_refused_with_allow(api) -> None:  # type: ignore[no-untyped-def]
    client = api.client("analyst@cert.example").http
    for method in ("PUT", "DELETE", "HEAD"):
        response = client.request(method, LOOKUP, params={"value": "198.51.100.1"})
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, POST"


def test_bulk_lookup_is_one_audit_entry_naming_every_value(api) -> None:  # type: ignore[no-untyped-def]
    cert = api.client("analyst@cert.example")
    cert.ingest(campaign_bundle(Tlp.GREEN))
    values = ["198.51.100.23", "192.0.2.250", "no such thing"]
    answers = cert.lookup_many(values)
    assert [a["verdict"] for a in answers][:2] == ["malicious", "unknown"]
    lookups = [e for e in api.client("admin@node.example").audit() if e["action"] == "lookup"]
    assert len(lookups) == 1
    detail = lookups[0]["detail"]
    assert detail["count"] == 3
    assert detail["values"] == ["198.51.100.23", "192.0.2.250", "no such thing"]
    assert detail["verdicts"] == [a["verdict"] for a in answers]
    assert detail["answered_by"] == [[INDICATOR], [], []]
    assert api.store.audit.verify()[1] == []


def test_single_lookups_chain_across_writers(api) -> None:  # type: ignore[no-untyped-def]
    """Two processes' logs append to one chain, single entries on a look-up's connection
    and batches in a transaction of their own: neither chains onto a stale hash."""
    store = api.store
    other = AuditLog(store.engine)
    event = Event("lookup", None, None, "198.51.100.1", {"answered_by": []})
    with store.engine.connect() as conn:
        for number in range(30):
            log = store.audit if number % 3 else other
            if number % 7 == 0:
                log.append(event, event)
            else:
                log.record(event, on=conn)
    count, breaks = store.audit.verify()
    assert count >= 30 and breaks == []
