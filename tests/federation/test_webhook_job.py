"""Webhook deliveries as a background job (`accord.jobs`, the ``webhooks`` job): the worker
delivers, on SQLite (in-process) and PostgreSQL (procrastinate); two workers over one
database send each batch once; a receiver that fails is retried by the webhook's own backoff,
not by every period; and a single `accord serve` (its app's lifespan) still delivers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from webhook_receiver import Receiver, receiving

from accord.api.app import create_app
from accord.ingest.stix import Ingester, IngestOptions
from accord.jobs.definitions import PERIODIC_JOBS
from accord.jobs.runner import runner
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.model.webhooks import WebhookFilters
from accord.settings import Settings
from accord.store.node import Store
from accord.store.organisations import User
from community import Community, make_community

# Only the webhooks job, every second.
ENV = {
    "ACCORD_JOBS": "auto",
    "ACCORD_WEBHOOK_POLL_SECONDS": "1",
    "ACCORD_FEED_POLL_SECONDS": "0",
    "ACCORD_PEER_POLL_SECONDS": "0",
    "ACCORD_WARNINGLISTS_REFRESH_SECONDS": "0",
    "ACCORD_DECAY_POLL_SECONDS": "0",
}
SETTINGS = Settings(webhook_allow_private=True, warninglists=False)


@pytest.fixture
def community(store: Store) -> Community:
    return make_community(store)


@pytest.fixture
def receiver() -> Any:
    with receiving() as found:
        yield found


def _indicators(store: Store, user: User, first: int, count: int) -> list[str]:
    objs = [
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
            "created": "2026-03-01T00:00:00.000Z",
            "modified": "2026-03-01T00:00:00.000Z",
            "name": f"job {n}",
            "pattern": f"[ipv4-addr:value = '198.51.100.{n}']",
            "pattern_type": "stix",
            "valid_from": "2026-03-01T00:00:00Z",
            "object_marking_refs": [Tlp.GREEN.marking_id],
        }
        for n in range(first, first + count)
    ]
    data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": objs})
    report = Ingester(store, user).ingest_bytes(data, "test", IngestOptions())
    assert report.ok, report.summary()
    return [o["id"] for o in objs]


def _webhook(store: Store, receiver: Receiver) -> str:
    boss, _ = store.directory.add_user("boss@cert.example", "CERT-EX", Role.ORG_ADMIN)
    hook, _ = store.webhooks.add(boss, receiver.url + "/job", WebhookFilters.build())
    return hook.id


async def _run_until(done: Callable[[], bool], runners: list[Any], at_least: float) -> None:
    """Run the workers until ``done`` and ``at_least`` seconds, for 25 s at most."""
    for r in runners:
        r.start()
    began = time.monotonic()
    while time.monotonic() - began < 25 and not (done() and time.monotonic() - began > at_least):
        await asyncio.sleep(0.05)
    for r in runners:
        await r.stop()


def test_the_webhooks_job_is_a_periodic_job_of_the_node() -> None:
    [job] = [j for j in PERIODIC_JOBS if j.name == "webhooks"]
    assert (job.period_env, job.default_period) == ("ACCORD_WEBHOOK_POLL_SECONDS", 10)


def test_two_workers_deliver_each_event_once(
    store: Store, community: Community, receiver: Receiver
) -> None:
    hook_id = _webhook(store, receiver)
    ids = _indicators(store, community.analyst, 1, 5)
    second = Store.open(store.engine.url.render_as_string(hide_password=False))
    try:
        workers = [runner(store, SETTINGS, ENV), runner(second, SETTINGS, ENV)]
        assert all(w is not None for w in workers)
        asyncio.run(_run_until(lambda: len(receiver.events()) >= 5, workers, 3.5))
    finally:
        second.close()
    assert [e["id"] for e in receiver.events()] == ids  # each once, in order
    assert len(receiver.requests) == 1
    hook = store.webhooks.get(hook_id)
    assert hook.failures == 0 and hook.claimed_until is None
    run = store.job_runs.get("webhooks")
    assert run.runs >= 3 and run.failures == 0  # it ran every second; nothing new to send


def test_a_failing_receiver_waits_for_its_webhooks_backoff(
    store: Store, community: Community, receiver: Receiver
) -> None:
    hook_id = _webhook(store, receiver)
    receiver.status = 503
    _indicators(store, community.analyst, 10, 2)
    worker = runner(store, SETTINGS, ENV)
    asyncio.run(_run_until(lambda: len(receiver.requests) >= 1, [worker], 3.5))
    # Once, not every second: the webhook's next attempt is 30 s away (retry_delay).
    assert len(receiver.requests) == 1
    hook = store.webhooks.get(hook_id)
    assert hook.failures == 1 and hook.next_attempt is not None
    assert "503" in (hook.last_error or "")
    run = store.job_runs.get("webhooks")
    assert run.failures == 0  # the receiver's failure is the webhook's, not the job's


def test_a_single_server_still_delivers(
    sqlite_store: Store, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**ENV, "ACCORD_JOBS": "in-process"}.items():
        monkeypatch.setenv(name, value)
    community = make_community(sqlite_store)
    _webhook(sqlite_store, receiver)
    ids = _indicators(sqlite_store, community.analyst, 20, 3)
    app = create_app(SETTINGS, sqlite_store)
    with TestClient(app):
        end = time.monotonic() + 20
        while len(receiver.events()) < 3 and time.monotonic() < end:
            time.sleep(0.05)
    assert [e["id"] for e in receiver.events()] == ids
