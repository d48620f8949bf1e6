"""Group commit of look-ups' audit entries on PostgreSQL (`accord.store.audit_group`):
concurrent look-ups share commits, each is answered only after the commit that holds its
entry, and a commit that fails fails every look-up of its group, with nothing written."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection

from accord.api.app import create_app
from accord.settings import Settings
from accord.store.audit import Event
from accord.store.audit_group import AuditNotRecorded
from accord.store.node import Store
from community import make_community

# A trigger that refuses one value's audit entry: a transaction that fails after it has
# inserted some of its group's rows.
REFUSE = """
CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.target = 'boom.example' THEN RAISE EXCEPTION 'refused'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse_boom BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION refuse_boom();
"""


@pytest.fixture
def store(pg_schema_url: str) -> Iterator[Store]:  # PostgreSQL
    store = Store.open(pg_schema_url)
    store.init()
    yield store
    store.close()


def _lookup_targets(store: Store) -> list[str]:
    return [str(entry.target) for entry in store.audit.entries(action="lookup", limit=10_000)]


def _refuse_boom(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(REFUSE)


class Gate:
    """Holds the committer in its first commit until opened, so that the look-ups that
    arrive meanwhile queue up as one group."""

    def __init__(self, store: Store) -> None:
        self.opened = threading.Event()
        self.entered = threading.Event()
        record = store.audit._record_group

        def held(conn: Connection, events: Sequence[Event]) -> None:
            if not self.entered.is_set():
                self.entered.set()
                assert self.opened.wait(30)
            record(conn, events)

        store.audit._record_group = held  # type: ignore[method-assign]


async def _get_all(
    app: Any, key: str, values: list[str], gate: Gate | None = None
) -> list[httpx.Response]:
    """GET /lookup for every value at once, through the ASGI app on this event loop. With
    ``gate``: the first look-up alone, then the others while its commit is held."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:

        async def get(value: str) -> httpx.Response:
            return await c.get("/api/v1/lookup", params={"value": value})

        if gate is None:
            return list(await asyncio.gather(*(get(value) for value in values)))
        first = asyncio.ensure_future(get(values[0]))
        while not gate.entered.is_set():
            await asyncio.sleep(0.005)
        rest = [asyncio.ensure_future(get(value)) for value in values[1:]]
        group = store_group(app)
        while group.waiting < len(rest):  # every other look-up has read and queued
            await asyncio.sleep(0.005)
        assert not first.done()  # not answered before its entry is committed
        gate.opened.set()
        return [await first, *[await task for task in rest]]


def store_group(app: Any) -> Any:
    group = app.state.node.store.audit._group
    assert group is not None
    return group


def _app(store: Store, url: str) -> tuple[Any, str]:
    community = make_community(store)
    key = store.directory.new_key(community.analyst.email)
    return create_app(Settings(database_url=url, rate_burst=100_000), store=store), key


@pytest.mark.postgres
def test_concurrent_look_ups_share_commits_and_the_chain_stays_exact(
    store: Store, pg_schema_url: str
) -> None:
    app, key = _app(store, pg_schema_url)
    values = [f"host{number}.example.org" for number in range(50)]
    before = store.audit.group_commits
    responses = asyncio.run(_get_all(app, key, values))
    assert [response.status_code for response in responses] == [200] * 50
    assert [response.json()["value"] for response in responses] == values
    commits = store.audit.group_commits - before
    assert 1 <= commits < 50  # the flush was shared
    assert len(store.lookup_sessions._held) > 1  # look-up threads read meanwhile
    assert Counter(_lookup_targets(store)) == Counter(values)  # exactly one entry each
    assert store.audit.verify()[1] == []
    app.state.node.close()


@pytest.mark.postgres
def test_a_held_commit_gathers_the_look_ups_that_arrive_meanwhile(
    store: Store, pg_schema_url: str
) -> None:
    app, key = _app(store, pg_schema_url)
    gate = Gate(store)
    values = [f"host{number}.example.net" for number in range(40)]
    responses = asyncio.run(_get_all(app, key, values, gate))
    assert [response.status_code for response in responses] == [200] * 40
    assert store.audit.group_commits == 2  # the first alone, then the 39 others together
    assert Counter(_lookup_targets(store)) == Counter(values)
    assert store.audit.verify()[1] == []
    app.state.node.close()


@pytest.mark.postgres
def test_a_failed_commit_fails_every_look_up_of_its_group_and_writes_nothing(
    store: Store, pg_schema_url: str
) -> None:
    app, key = _app(store, pg_schema_url)
    _refuse_boom(store)
    gate = Gate(store)
    # boom.example's entry is refused in the middle of the second group's rows.
    values = [f"ok{number}.example.org" for number in range(21)]
    values.insert(10, "boom.example")
    responses = asyncio.run(_get_all(app, key, values, gate))
    assert responses[0].status_code == 200
    for response in responses[1:]:
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "refused" not in response.text  # the database's words stay in the log
    assert _lookup_targets(store) == [values[0]]  # none of the failed group's rows
    assert store.audit.verify()[1] == []
    # The committer goes on: the next look-ups are answered and recorded.
    again = asyncio.run(_get_all(app, key, ["after.example.org", "later.example.org"]))
    assert [response.status_code for response in again] == [200, 200]
    assert sorted(_lookup_targets(store)) == sorted(
        [values[0], "after.example.org", "later.example.org"]
    )
    assert store.audit.verify()[1] == []
    app.state.node.close()


@pytest.mark.postgres
def test_committers_of_two_processes_keep_one_chain(store: Store, pg_schema_url: str) -> None:
    """Two stores (as two workers have) append through their own committers at once: the
    write lock serialises their groups onto one exact chain."""
    other = Store.open(pg_schema_url)
    try:

        def submit(log_of: Store, number: int) -> None:
            event = Event("lookup", None, None, target=f"v{number}.example")
            log_of.audit.submit(event).result(timeout=30)

        with ThreadPoolExecutor(16) as pool:
            done = [
                pool.submit(submit, store if number % 2 else other, number) for number in range(200)
            ]
            for future in done:
                future.result()
        assert Counter(_lookup_targets(store)) == Counter(f"v{n}.example" for n in range(200))
        assert store.audit.verify() == (200, [])
    finally:
        other.close()


@pytest.mark.postgres
def test_a_failed_group_raises_for_each_submission(store: Store) -> None:
    _refuse_boom(store)
    gate = Gate(store)
    first = store.audit.submit(Event("lookup", None, None, target="a.example"))
    assert gate.entered.wait(30)
    group = [
        store.audit.submit(Event("lookup", None, None, target=target))
        for target in ("b.example", "boom.example", "c.example")
    ]
    gate.opened.set()
    first.result(timeout=30)
    for future in group:
        with pytest.raises(AuditNotRecorded):
            future.result(timeout=30)
    assert _lookup_targets(store) == ["a.example"]
    assert store.audit.verify() == (1, [])


def test_concurrent_look_ups_on_sqlite_record_one_entry_each(tmp_path: Path) -> None:
    """SQLite commits each look-up's entry itself (no committer: no flush to share), on the
    event loop's thread (its reads are this process's own work: no look-up threads)."""
    url = f"sqlite:///{tmp_path / 'accord.db'}"
    store = Store.open(url)
    store.init()
    app, key = _app(store, url)
    values = [f"host{number}.example.com" for number in range(50)]
    responses = asyncio.run(_get_all(app, key, values))
    assert [response.status_code for response in responses] == [200] * 50
    assert Counter(_lookup_targets(store)) == Counter(values)
    assert store.audit.verify()[1] == []
    assert store.audit.group_commits == 0
    assert store.lookup_sessions.held is not None  # the event loop's, and no other thread's
    assert len(store.lookup_sessions._held) == 1
    app.state.node.close()
    store.close()


@pytest.mark.postgres
def test_a_cancelled_waiter_leaves_the_committer_running(store: Store) -> None:
    """A look-up whose waiter is cancelled (its client gone) is still recorded, and the
    committer goes on with the next groups."""
    gate = Gate(store)
    first = store.audit.submit(Event("lookup", None, None, target="a.example"))
    assert gate.entered.wait(30)
    gone = store.audit.submit(Event("lookup", None, None, target="gone.example"))
    assert gone.cancel()
    gate.opened.set()
    first.result(timeout=30)
    store.audit.submit(Event("lookup", None, None, target="next.example")).result(timeout=30)
    assert _lookup_targets(store) == ["a.example", "gone.example", "next.example"]
    assert store.audit.verify() == (3, [])
