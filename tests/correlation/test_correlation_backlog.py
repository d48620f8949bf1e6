"""Deferred correlation: a bulk load stores its versions without correlating them and records
them in the backlog; the `correlation` job correlates them afterwards, a chunk per
transaction, to exactly what an inline ingest of the same objects gives."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from correlation_support import correlations_of, ident, indicator, value_indicator
from sqlalchemy import func, select
from typer.testing import CliRunner

from accord.cli.main import app
from accord.ingest.stix import Ingester, IngestOptions
from accord.jobs.definitions import PERIODIC_JOBS
from accord.jobs.in_process import InProcessRunner
from accord.jobs.runner import runner
from accord.model.roles import Role
from accord.settings import Settings
from accord.store import correlation_backlog as backlog_module
from accord.store.correlation.policy import CorrelationPolicy, set_policy
from accord.store.correlation_backlog import backlog_size, catch_up, correlate_next
from accord.store.node import Store
from accord.store.organisations import User
from accord.store.schema import correlation_hubs, correlations, objects

CAP = 6
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
IP, DOMAIN, URL, MAIL = "ipv4-addr:value", "domain-name:value", "url:value", "email-addr:value"


def _objects() -> list[dict[str, Any]]:
    """Every relation, a hub over the cap, one file under several hashes; shuffled, so that
    the job's chunks cut through related objects."""
    values = [
        *[(IP, f"198.51.100.{i % 3}") for i in range(7)],  # reported again
        (IP, "198.51.100.0/24"),
        (IP, "198.51.0.0/16"),
        (IP, "10.1.2.3"),
        (IP, "10.1.2.0/24"),
        *[(IP, "8.8.8.8") for _ in range(CAP + 2)],  # over the cap
        (DOMAIN, "evil.example"),
        (DOMAIN, "www.evil.example"),
        (DOMAIN, "a.b.evil.example"),
        (URL, "http://cdn.evil.example/x.php"),
        (URL, "http://www.evil.example/a"),
        (URL, "http://10.1.2.3:8080/gate"),
        (MAIL, "boss@evil.example"),
        (DOMAIN, "unrelated.example"),
        ("file:hashes.MD5", MD5),
        ("file:hashes.'SHA-256'", SHA256),
    ]
    found = [value_indicator(f"o{n}", path, value) for n, (path, value) in enumerate(values)]
    found.append(
        indicator("both", f"[file:hashes.MD5 = '{MD5}' AND file:hashes.'SHA-1' = '{SHA1}']")
    )
    found.append(
        {
            "type": "file",
            "spec_version": "2.1",
            "id": "file--5a27d487-c542-5f97-a131-a8866b477b46",
            "name": "sco",
            "hashes": {"SHA-1": SHA1, "SHA-256": SHA256},
        }
    )
    random.Random(21).shuffle(found)
    return found


OBJECTS = _objects()
IDS = [str(o["id"]) for o in OBJECTS]


@pytest.fixture
def second_url(store_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Another empty store of the same database kind as ``store_url``."""
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'inline.db'}"
    return str(request.getfixturevalue("pg_schemas")())


@pytest.fixture
def inline(second_url: str) -> Iterator[Store]:
    node = Store.open(second_url)
    node.init()
    try:
        yield node
    finally:
        node.close()


def _analyst(store: Store) -> User:
    set_policy(store.engine, CorrelationPolicy(cap=CAP))
    store.directory.add_org("CERT-EX")
    user, _ = store.directory.add_user("analyst@cert.example", "CERT-EX", Role.ANALYST)
    return user


def _ingest(store: Store, user: User, found: list[dict[str, Any]], defer: bool) -> None:
    options = IngestOptions(defer_correlation=defer)
    report = Ingester(store, user).ingest_objects(found, "2.1", "test", options)
    assert report.ok and report.count("stored") == len(found), report.summary()


def _rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(correlations)).scalar_one())


def _answers(store: Store, user: User) -> dict[str, Any]:
    """What the API answers for every object: its correlations and over-correlating values."""
    viewer = store.directory.viewer(user)
    found: dict[str, Any] = {}
    for object_id in IDS:
        result = correlations_of(store, viewer, object_id)
        assert result is not None
        found[object_id] = (
            sorted((c.obj.id, c.relation, c.value, c.other_value) for c in result.correlations),
            sorted((o.value, o.count) for o in result.over_correlating),
        )
    return found


def _hubs(store: Store) -> tuple[set[str], set[tuple[str, int]]]:
    """The hubs over the cap, and the members of those with rows. (An over hub's count stops
    when it goes over, which depends on how the writes were cut in chunks.)"""
    with store.engine.connect() as conn:
        rows = conn.execute(select(correlation_hubs)).all()
        joining = set(conn.execute(select(correlations.c.hub).distinct()).scalars())
    over = {str(hub) for hub, _, is_over in rows if is_over}
    return over, {(str(hub), int(members)) for hub, members, _ in rows if hub in joining}


def test_the_job_catches_up_to_what_an_inline_ingest_gives(store: Store, inline: Store) -> None:
    deferred_user, inline_user = _analyst(store), _analyst(inline)
    _ingest(inline, inline_user, OBJECTS, defer=False)
    expected = _answers(inline, inline_user)
    # The fixture means something: each relation, an over-correlating value and a file.
    relations = {c[1] for listed, _ in expected.values() for c in listed}
    assert relations >= {"same-value", "cidr", "contains", "subdomain", "host", "same-file"}
    assert any(over for _, over in expected.values())

    _ingest(store, deferred_user, OBJECTS, defer=True)
    assert _rows(store) == 0
    assert backlog_size(store.engine) == len(OBJECTS)
    assert all(not listed and not over for listed, over in _answers(store, deferred_user).values())

    # Small chunks, so that related objects fall in different chunks and transactions.
    while correlate_next(store.engine, limit=5):
        pass
    assert backlog_size(store.engine) == 0
    assert _answers(store, deferred_user) == expected
    assert _rows(store) == _rows(inline)  # one row per pair: none twice
    assert _hubs(store) == _hubs(inline)  # the same members counted, the same hubs over

    rows = _rows(store)
    assert catch_up(store.engine) == {"versions": 0, "chunks": 0, "left": 0}
    assert _rows(store) == rows


def test_two_workers_catching_up_together_correlate_each_chunk_once(
    store: Store, inline: Store
) -> None:
    deferred_user, inline_user = _analyst(store), _analyst(inline)
    _ingest(inline, inline_user, OBJECTS, defer=False)
    _ingest(store, deferred_user, OBJECTS, defer=True)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            catch_up(store.engine, chunk=3)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert backlog_size(store.engine) == 0
    assert _answers(store, deferred_user) == _answers(inline, inline_user)
    assert _rows(store) == _rows(inline)
    assert _hubs(store) == _hubs(inline)


def test_versions_written_between_deferred_ones_are_joined_once(
    store: Store, inline: Store
) -> None:
    """Deferred, inline, deferred: the inline write leaves the waiting versions out, and the
    job joins them to everything correlated before: the answer is that of inline ingests in
    the order the versions were correlated (the inline part first). (The order can matter:
    a URL on an address joins a network stored before it, not one stored after.)"""
    deferred_user, inline_user = _analyst(store), _analyst(inline)
    thirds = [OBJECTS[0::3], OBJECTS[1::3], OBJECTS[2::3]]
    for part in (thirds[1], thirds[0], thirds[2]):
        _ingest(inline, inline_user, part, defer=False)
    for part, defer in zip(thirds, (True, False, True), strict=True):
        _ingest(store, deferred_user, part, defer=defer)
    assert backlog_size(store.engine) == len(thirds[0]) + len(thirds[2])
    # One chunk holding both deferred parts: two runs of sequence numbers.
    assert correlate_next(store.engine, limit=100) == len(thirds[0]) + len(thirds[2])
    assert _answers(store, deferred_user) == _answers(inline, inline_user)
    assert _rows(store) == _rows(inline)
    assert _hubs(store) == _hubs(inline)


def test_a_version_superseded_before_the_job_runs_is_not_correlated(store: Store) -> None:
    user = _analyst(store)
    old = value_indicator("moved", IP, "203.0.113.5")
    _ingest(store, user, [old, value_indicator("stays", IP, "203.0.113.5")], defer=True)
    newer = {**value_indicator("moved", IP, "203.0.113.99"), "modified": "2026-02-01T00:00:00Z"}
    _ingest(store, user, [newer], defer=True)
    assert backlog_size(store.engine) == 3
    with store.engine.connect() as conn:
        old_seq = conn.execute(
            select(objects.c.seq).where(objects.c.id == ident("moved"), ~objects.c.is_latest)
        ).scalar_one()
    assert catch_up(store.engine)["left"] == 0
    viewer = store.directory.viewer(user)
    for name in ("moved", "stays"):
        result = correlations_of(store, viewer, ident(name))
        assert result is not None and result.correlations == []
    with store.engine.connect() as conn:
        touching = conn.execute(
            select(func.count())
            .select_from(correlations)
            .where((correlations.c.seq == old_seq) | (correlations.c.other_seq == old_seq))
        ).scalar_one()
    assert touching == 0


def test_a_failure_mid_chunk_leaves_the_chunk_in_the_backlog(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _analyst(store)
    _ingest(store, user, [value_indicator("a", IP, "192.0.2.1")], defer=True)
    _ingest(store, user, [value_indicator("b", IP, "192.0.2.1")], defer=False)
    _ingest(store, user, [value_indicator("c", IP, "192.0.2.1")], defer=True)
    assert _rows(store) == 0  # b left out a, which waits in the backlog
    real = backlog_module.correlate
    calls: list[int] = []

    def fails_second_run(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:  # after the first run's rows were written
            raise RuntimeError("the disk is full")
        real(*args, **kwargs)

    monkeypatch.setattr(backlog_module, "correlate", fails_second_run)
    with pytest.raises(RuntimeError, match="disk is full"):
        catch_up(store.engine)
    assert len(calls) == 2
    assert backlog_size(store.engine) == 2
    assert _rows(store) == 0  # the first run's rows were rolled back too
    monkeypatch.setattr(backlog_module, "correlate", real)
    assert catch_up(store.engine) == {"versions": 2, "chunks": 1, "left": 0}
    viewer = store.directory.viewer(user)
    for name, others in (("a", {"b", "c"}), ("b", {"a", "c"}), ("c", {"a", "b"})):
        result = correlations_of(store, viewer, ident(name))
        assert result is not None
        assert {c.obj.id for c in result.correlations} == {ident(o) for o in others}
    assert _rows(store) == 3


def test_the_correlation_job_runs_in_the_worker_and_shows_its_backlog(store: Store) -> None:
    user = _analyst(store)
    _ingest(store, user, OBJECTS, defer=True)
    job = next(j for j in PERIODIC_JOBS if j.name == "correlation")
    env = {"ACCORD_JOBS": "in-process", job.period_env: "1"}
    found = runner(store, Settings(), env, [job])
    assert isinstance(found, InProcessRunner)
    asyncio.run(_run_until(lambda: backlog_size(store.engine) == 0, found))
    assert backlog_size(store.engine) == 0
    assert _rows(store) > 0
    run = store.job_runs.get("correlation")
    assert run.runs >= 1 and run.failures == 0


async def _run_until(done: Callable[[], bool], found: InProcessRunner) -> None:
    found.start()
    end = time.monotonic() + 20
    while not done() and time.monotonic() < end:
        await asyncio.sleep(0.05)
    await found.stop()


def test_accord_ingest_defer_correlation_and_accord_jobs(store_url: str, tmp_path: Path) -> None:
    cli = CliRunner()

    def accord(*args: str) -> Any:
        result = cli.invoke(app, ["--db", store_url, *args])
        assert result.exit_code == 0, result.output
        return result

    accord("init")
    accord("org", "add", "CERT-EX")
    accord("user", "add", "analyst@cert.example", "--org", "CERT-EX", "--role", "analyst")
    # A value on no warninglist (the reader leaves those out; documentation ranges are on one).
    pair = [value_indicator(name, IP, "91.243.44.21") for name in ("seen", "seen again")]
    path = tmp_path / "bundle.json"
    path.write_bytes(orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": pair}))
    accord("ingest", str(path), "--as", "analyst@cert.example", "--defer-correlation")
    shown = orjson.loads(accord("jobs", "--json").stdout)
    backlog = {row["name"]: row["backlog"] for row in shown["periodic"]}
    assert backlog["correlation"] == 2 and backlog["feeds"] is None
    accord("jobs")  # the same as a table (its width is the terminal's)
    answer = orjson.loads(
        accord("correlations", ident("seen"), "--as", "analyst@cert.example", "--json").stdout
    )
    assert answer["correlations"] == []
    store = Store.open(store_url)
    try:
        assert catch_up(store.engine)["left"] == 0
    finally:
        store.close()
    answer = orjson.loads(
        accord("correlations", ident("seen"), "--as", "analyst@cert.example", "--json").stdout
    )
    assert [c["id"] for c in answer["correlations"]] == [ident("seen again")]
    assert orjson.loads(accord("jobs", "--json").stdout)["periodic"][-1]["backlog"] == 0


def test_accord_ingest_list_defers_correlation_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'list.db'}"
    cli = CliRunner()
    for args in (
        ["init"],
        ["org", "add", "CERT-EX"],
        ["user", "add", "analyst@cert.example", "--org", "CERT-EX", "--role", "analyst"],
    ):
        assert cli.invoke(app, ["--db", url, *args]).exit_code == 0
    path = tmp_path / "iocs.txt"
    path.write_text("91.243.44.21\n91.243.44.0/24\n")
    done = cli.invoke(
        app,
        [
            "--db",
            url,
            "ingest",
            "list",
            str(path),
            "--as",
            "analyst@cert.example",
            "--defer-correlation",
        ],
    )
    assert done.exit_code == 0, done.output
    store = Store.open(url)
    try:
        assert backlog_size(store.engine) == 2 and _rows(store) == 0
        assert catch_up(store.engine)["left"] == 0
        assert _rows(store) == 1  # the address in the network
    finally:
        store.close()
