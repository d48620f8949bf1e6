"""Webhooks end to end against a real HTTP receiver, on SQLite and PostgreSQL: deliveries
arrive signed, filters apply, a webhook never receives what its user may not see, failures
are retried with backoff and then nothing is lost or duplicated, and addresses inside the
node's network are refused."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import delete, update
from webhook_receiver import Receiver, receiving, verify

from accord.federation.webhook_targets import TargetRefused, resolve
from accord.federation.webhooks import WebhookDispatcher
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.model.webhooks import WebhookFilters, retry_delay
from accord.store.engine import write_transaction
from accord.store.node import Store
from accord.store.organisations import User
from accord.store.schema import api_keys, users
from accord.store.webhooks import KEEP_DELIVERIES
from community import Community, make_community
from leakdata import EXPECTED, load_matrix

_serial = itertools.count(1)


def indicator(
    level: Tlp, labels: list[str] | None = None, kind: str = "indicator"
) -> dict[str, Any]:
    n = next(_serial)
    obj: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--00000000-0000-4000-8000-{n:012d}",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "name": f"object {n}",
        "object_marking_refs": [level.marking_id],
    }
    if kind == "indicator":
        obj |= {
            "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']",
            "pattern_type": "stix",
            "valid_from": "2026-03-01T00:00:00Z",
        }
    else:
        obj["is_family"] = False
    if labels:
        obj["labels"] = labels
    return obj


def ingest(
    store: Store, user: User, objs: list[dict[str, Any]], recipients: Recipients | None = None
) -> None:
    data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": objs})
    options = IngestOptions(recipients=recipients or Recipients())
    report = Ingester(store, user).ingest_bytes(data, "test", options)
    assert report.ok, report.summary()


def org_admin(store: Store, email: str, org: str) -> User:
    user, _ = store.directory.add_user(email, org, Role.ORG_ADMIN)
    return user


@pytest.fixture
def community(store: Store) -> Community:
    return make_community(store)


@pytest.fixture
def receiver() -> Any:
    with receiving() as found:
        yield found


def dispatcher(store: Store, **options: Any) -> WebhookDispatcher:
    return WebhookDispatcher(store, allow_private=True, **options)


def test_deliveries_arrive_signed_and_filtered(
    store: Store, community: Community, receiver: Receiver
) -> None:
    boss = org_admin(store, "boss@cert.example", "CERT-EX")
    everything, secret = store.webhooks.add(boss, receiver.url + "/all", WebhookFilters.build())
    narrow, narrow_secret = store.webhooks.add(
        boss,
        receiver.url + "/narrow",
        WebhookFilters.build(types=["indicator"], tlps=[Tlp.GREEN], labels=["phishing"]),
    )
    objs = [
        indicator(Tlp.GREEN, ["phishing"]),  # both
        indicator(Tlp.GREEN, ["malware"]),  # not narrow: label
        indicator(Tlp.AMBER, ["phishing"]),  # not narrow: TLP
        indicator(Tlp.GREEN, ["phishing"], kind="malware"),  # not narrow: type
        indicator(Tlp.CLEAR),
    ]
    ingest(store, community.analyst, objs)
    reports = dispatcher(store).run_due()
    assert {r.webhook_id: r.events for r in reports} == {everything.id: 5, narrow.id: 1}
    assert all(r.error is None for r in reports)

    by_path = {r.path: r for r in receiver.requests}
    assert set(by_path) == {"/hook/all", "/hook/narrow"}
    whole, small = by_path["/hook/all"], by_path["/hook/narrow"]
    assert verify(secret, whole) and verify(narrow_secret, small)
    assert not verify(narrow_secret, whole)  # each webhook its own secret
    assert whole.headers["content-type"] == "application/json"
    assert whole.headers["x-accord-webhook"] == everything.id
    body = whole.json
    assert body["webhook"] == everything.id
    assert [e["id"] for e in body["events"]] == [o["id"] for o in objs]
    first = body["events"][0]
    assert set(first) == {"seq", "id", "type", "modified", "tlp", "object"}
    assert first["tlp"] == "green" and first["type"] == "indicator"
    assert first["object"]["name"] == objs[0]["name"]
    assert [e["id"] for e in small.json["events"]] == [objs[0]["id"]]

    # A tampered body or an old timestamp does not verify.
    forged = type(whole)(whole.path, dict(whole.headers), whole.body.replace(b"object", b"objecT"))
    assert not verify(secret, forged)
    replayed = type(whole)(
        whole.path, whole.headers | {"x-accord-timestamp": "1700000000"}, whole.body
    )
    assert not verify(secret, replayed)

    # Nothing new: nothing sent; the cursors sit at the last version.
    assert sum(r.posts for r in dispatcher(store).run_due()) == 0
    assert len(receiver.requests) == 2
    assert store.webhooks.get(everything.id).cursor == body["events"][-1]["seq"]
    assert store.webhooks.get(narrow.id).cursor == body["events"][-1]["seq"]
    assert store.webhooks.get(everything.id).last_success is not None


def test_a_webhook_gets_only_what_its_user_may_see(
    store: Store, community: Community, receiver: Receiver
) -> None:
    """The leak matrix (tests/leakdata.py), delivered: a webhook of each organisation, asking
    for every TLP level, receives exactly what its organisation's members may see."""
    every_level = WebhookFilters.build(max_tlp=Tlp.RED)
    hooks = {
        "colleague": store.webhooks.add(
            org_admin(store, "boss@cert.example", "CERT-EX"), receiver.url + "/cert", every_level
        )[0],
        "recipient": store.webhooks.add(
            org_admin(store, "boss@police.example", "Police Cyber Unit"),
            receiver.url + "/police",
            every_level,
        )[0],
        "outsider": store.webhooks.add(
            org_admin(store, "boss@water.example", "Water Utility"),
            receiver.url + "/water",
            every_level,
        )[0],
    }
    load_matrix(store, community)
    dispatcher(store).run_due()
    for viewer, hook in hooks.items():
        events = [
            e for r in receiver.requests if r.json["webhook"] == hook.id for e in r.json["events"]
        ]
        levels = {Tlp.parse(e["tlp"]) for e in events}
        expected = {level for level, seen_by in EXPECTED.items() if viewer in seen_by}
        if viewer == "recipient":
            # RED names the investigator, a user: not their organisation's admin.
            expected.discard(Tlp.RED)
        assert levels == expected, viewer
        assert len(events) == 2 * len(expected)  # both versions of each


def test_red_only_when_asked_for(store: Store, community: Community, receiver: Receiver) -> None:
    """RED reaches a webhook of a user in its audience only if the webhook asks for RED."""
    police_boss = org_admin(store, "boss@police.example", "Police Cyber Unit")
    default, _ = store.webhooks.add(police_boss, receiver.url + "/default", WebhookFilters.build())
    red, _ = store.webhooks.add(
        police_boss, receiver.url + "/red", WebhookFilters.build(tlps=[Tlp.RED])
    )
    secret_one = indicator(Tlp.RED)
    ingest(store, community.analyst, [secret_one], Recipients(user_ids=frozenset({police_boss.id})))
    reports = {r.webhook_id: r for r in dispatcher(store).run_due()}
    assert reports[default.id].events == 0 and reports[red.id].events == 1
    assert [r.path for r in receiver.requests] == ["/hook/red"]


def test_failures_retry_with_backoff_then_nothing_lost_or_twice(
    store: Store, community: Community, receiver: Receiver
) -> None:
    boss = org_admin(store, "boss@cert.example", "CERT-EX")
    hook, _ = store.webhooks.add(boss, receiver.url, WebhookFilters.build())
    sent = [indicator(Tlp.GREEN) for _ in range(5)]
    ingest(store, community.analyst, sent)
    runner = dispatcher(store, batch_size=2)

    # The first batch goes through, the second gets a 500: the cursor stops after the first.
    receiver.statuses = [200, 500]
    (report,) = runner.run_due()
    assert report.events == 2 and report.posts == 2 and "HTTP 500" in (report.error or "")
    state = store.webhooks.get(hook.id)
    assert state.failures == 1 and "500" in (state.last_error or "")
    assert state.claimed_until is None
    wait = _seconds_until(state.next_attempt)
    assert retry_delay(1) - 5 < wait <= retry_delay(1) == 30

    # Not due during the backoff: the scheduler leaves it alone.
    assert runner.run_due() == []
    assert len(receiver.requests) == 2

    # By hand it goes now, and fails again: the wait doubles.
    receiver.statuses = [503]
    report = runner.deliver_now(hook.id)
    assert report is not None and report.events == 0
    state = store.webhooks.get(hook.id)
    assert state.failures == 2
    assert retry_delay(2) - 5 < _seconds_until(state.next_attempt) <= 60

    # The receiver recovers; more arrives meanwhile. Everything comes, once, in order.
    later = [indicator(Tlp.CLEAR) for _ in range(2)]
    ingest(store, community.analyst, later)
    report = runner.deliver_now(hook.id)
    assert report is not None and report.error is None and report.events == 5
    delivered = [e["id"] for e in receiver.events()]
    assert delivered == [o["id"] for o in sent + later]
    seqs = [e["seq"] for e in receiver.events()]
    assert seqs == sorted(set(seqs))
    state = store.webhooks.get(hook.id)
    assert state.failures == 0 and state.last_error is None and state.next_attempt is None
    # The failed batches were the same batch each time.
    failed = [r for r in receiver.requests if not r.headers["x-answered"].startswith("2")]
    assert [e["id"] for e in failed[0].json["events"]] == [o["id"] for o in sent[2:4]]
    assert failed[0].json["events"] == failed[1].json["events"]

    log = store.webhooks.deliveries(hook.id, limit=20)
    assert [a.status for a in reversed(log)] == [200, 500, 503, 204, 204, 204]
    assert all(a.kind == "events" and a.milliseconds >= 0 for a in log)


def _seconds_until(stamp: str | None) -> float:
    assert stamp is not None
    when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


def test_disabled_or_removed_user_stops_deliveries(
    store: Store, community: Community, receiver: Receiver
) -> None:
    boss = org_admin(store, "boss@cert.example", "CERT-EX")
    hook, _ = store.webhooks.add(boss, receiver.url, WebhookFilters.build())
    ingest(store, community.analyst, [indicator(Tlp.GREEN)])
    # No command disables a user yet: the column the sign-in and API keys already obey.
    with write_transaction(store.engine) as conn:
        conn.execute(update(users).where(users.c.id == boss.id).values(disabled=True))
    report = dispatcher(store).deliver_now(hook.id)
    assert report is not None and report.posts == 0
    assert "disabled" in (report.error or "")
    state = store.webhooks.get(hook.id)
    assert "disabled" in (state.last_error or "") and state.failures == 1
    assert receiver.requests == []

    with write_transaction(store.engine) as conn:
        conn.execute(update(users).where(users.c.id == boss.id).values(disabled=False))
    report = dispatcher(store).deliver_now(hook.id)
    assert report is not None and report.events == 1

    # A user who no longer may keep webhooks (an analyst now), and one who is gone.
    demoted = store.webhooks.add(community.analyst, receiver.url, WebhookFilters.build())[0]
    leaving = org_admin(store, "leaving@cert.example", "CERT-EX")
    gone = store.webhooks.add(leaving, receiver.url, WebhookFilters.build())[0]
    with write_transaction(store.engine) as conn:
        conn.execute(delete(api_keys).where(api_keys.c.user_id == leaving.id))
        conn.execute(delete(users).where(users.c.id == leaving.id))
    ingest(store, community.analyst, [indicator(Tlp.GREEN)])
    before = len(receiver.requests)
    report = dispatcher(store).deliver_now(demoted.id)
    assert report is not None and "no longer an org-admin" in (report.error or "")
    report = dispatcher(store).deliver_now(gone.id)
    assert report is not None and "was removed" in (report.error or "")
    assert "was removed" in (store.webhooks.get(gone.id).last_error or "")
    assert len(receiver.requests) == before


def test_a_round_in_progress_is_not_run_twice(
    store: Store, community: Community, receiver: Receiver
) -> None:
    boss = org_admin(store, "boss@cert.example", "CERT-EX")
    hook, _ = store.webhooks.add(boss, receiver.url, WebhookFilters.build())
    assert store.webhooks.claim(hook.id) is not None
    assert store.webhooks.claim_due() == []
    assert dispatcher(store).deliver_now(hook.id) is None
    store.webhooks.release(hook.id)
    assert [h.id for h in store.webhooks.claim_due()] == [hook.id]


def test_ping_is_signed_and_changes_nothing(
    store: Store, community: Community, receiver: Receiver
) -> None:
    boss = org_admin(store, "boss@cert.example", "CERT-EX")
    hook, secret = store.webhooks.add(boss, receiver.url, WebhookFilters.build())
    receiver.status = 500
    attempt = dispatcher(store).ping(hook)
    assert attempt.status == 500 and not attempt.ok
    receiver.status = 200
    attempt = dispatcher(store).ping(hook)
    assert attempt.ok and attempt.kind == "ping"
    assert receiver.requests[-1].json == {"webhook": hook.id, "ping": True, "events": []}
    assert verify(secret, receiver.requests[-1])
    assert store.webhooks.get(hook.id).failures == 0
    # The log keeps the newest KEEP_DELIVERIES attempts.
    runner = dispatcher(store)
    for _ in range(KEEP_DELIVERIES + 3):
        runner.ping(hook)
    kept = store.webhooks.deliveries(hook.id, limit=KEEP_DELIVERIES * 2)
    assert len(kept) == KEEP_DELIVERIES and all(a.ok for a in kept)


# -- where deliveries may go --------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://100.64.0.1/hook",
    ],
)
def test_inside_addresses_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="ACCORD_WEBHOOK_ALLOW_PRIVATE"):
        resolve(url, allow_private=False)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/hook", "starts with https://"),
        ("file:///etc/passwd", "starts with https://"),
        ("gopher://127.0.0.1:25/", "starts with https://"),
        ("https://user:password@example.com/", "no user name or password"),
        ("http://0.0.0.0/hook", "not an address"),
        ("http://[::]/hook", "not an address"),
        ("http://224.0.0.1/hook", "not an address"),
        ("https://no-such-host.invalid/", "does not resolve"),
        ("not a url", "starts with https://"),
    ],
)
def test_other_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused, match=reason):
        resolve(url, allow_private=True)


def test_public_address_and_private_when_allowed() -> None:
    target = resolve("https://8.8.8.8:8443/x?y=1", allow_private=False)
    assert str(target.url) == "https://8.8.8.8:8443/x?y=1" and target.host == "8.8.8.8:8443"
    assert resolve("http://127.0.0.1:9/x", allow_private=True).url.host == "127.0.0.1"
    named = resolve("https://localhost:9/x", allow_private=True)
    assert named.host == "localhost:9" and named.server_name == "localhost"
    assert named.url.host in ("127.0.0.1", "::1")


def test_delivery_checks_the_address_again(
    store: Store, community: Community, receiver: Receiver
) -> None:
    """A webhook added while private targets were allowed gets nothing once they are not:
    the check runs before every delivery, not only when it is added."""
    boss = org_admin(store, "boss@cert.example", "CERT-EX")
    hook, _ = store.webhooks.add(boss, receiver.url, WebhookFilters.build())
    ingest(store, community.analyst, [indicator(Tlp.GREEN)])
    strict = WebhookDispatcher(store, allow_private=False)
    report = strict.deliver_now(hook.id)
    assert report is not None and "refused" in (report.error or "")
    assert "loopback" in (report.error or "")
    assert receiver.requests == []
    assert store.webhooks.deliveries(hook.id)[0].status is None


def test_redirects_are_not_followed(store: Store, community: Community, receiver: Receiver) -> None:
    boss = org_admin(store, "boss@cert.example", "CERT-EX")
    hook, _ = store.webhooks.add(boss, receiver.url, WebhookFilters.build())
    ingest(store, community.analyst, [indicator(Tlp.GREEN)])
    receiver.status = 307
    receiver.headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    report = dispatcher(store).deliver_now(hook.id)
    assert report is not None and "HTTP 307" in (report.error or "")
    assert len(receiver.requests) == 1
    assert store.webhooks.get(hook.id).cursor < receiver.requests[0].json["events"][0]["seq"]
