"""GET /api/v1/stream (docs/stream.md) over a real socket, on SQLite and PostgreSQL: the
node's application under uvicorn on a free loopback port, in a thread of the test process,
read by httpx as a client would read it, while the test writes through the store.

The stream's timings are shortened (`FAST`): a heartbeat every half second, a poll every
tenth, the key checked again every 0.3 s."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from accord.api.app import create_app
from accord.api.routes import stream as stream_route
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients, audience_for, may_see
from accord.settings import Settings
from accord.store.node import Store
from accord.store.organisations import User
from community import Community, make_community

FAST: dict[str, Any] = {
    "stream_heartbeat_seconds": 0.5,
    "stream_poll_seconds": 0.1,
    "key_cache_seconds": 0.3,
    "stream_max_per_key": 2,
}
TIMEOUT = httpx.Timeout(10.0)  # a read that waits longer than this fails the test
STREAM = "/api/v1/stream"
WAIT = 10.0  # the longest a test waits for an event it expects


class Server:
    """The node's application under uvicorn in a daemon thread, on a socket bound before
    the thread starts (no window in which another process could take the port)."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            create_app(settings, store=store),
            log_config=None,
            log_level="warning",
            access_log=False,
            ws="none",
            lifespan="on",
            timeout_graceful_shutdown=3,  # a stream a failed test left open ends anyway
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> Server:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            assert self._thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start in 30 s"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


@dataclass
class Node:
    url: str
    store: Store
    community: Community
    keys: dict[str, str] = field(default_factory=dict)  # e-mail -> API key

    def key(self, user: User) -> str:
        return self.keys[user.email]


@pytest.fixture
def node(store: Store, store_url: str) -> Iterator[Node]:
    community = make_community(store)
    built = Node("", store, community)
    for user in (community.analyst, community.colleague, community.investigator):
        built.keys[user.email] = store.directory.new_key(user.email)
    built.keys[community.operator.email] = store.directory.new_key(community.operator.email)
    settings = Settings(database_url=store_url, warninglists=False, **FAST)
    server = Server(store, settings).start()
    built.url = server.url
    try:
        yield built
    finally:
        server.stop()


# -- reading the stream ---------------------------------------------------------------------


@dataclass
class Block:
    """One block of the stream (the lines up to a blank one): an event, or comments."""

    fields: dict[str, str]
    comments: list[str]

    @property
    def event(self) -> str | None:
        return self.fields.get("event")

    @property
    def data(self) -> dict[str, Any]:
        found: dict[str, Any] = orjson.loads(self.fields["data"])
        return found


class Reader:
    """The blocks of an open stream, read as the HTML standard's event stream format says
    (9.2.6): ``field: value`` lines, ``:`` comments, a blank line ending each block."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()

    def block(self) -> Block:
        fields: dict[str, str] = {}
        comments: list[str] = []
        for line in self._lines:
            if line == "":
                if fields or comments:
                    return Block(fields, comments)
                continue
            if line.startswith(":"):
                comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            assert name not in fields, f"a field twice in one block: {line!r}"
            fields[name] = value.removeprefix(" ")
        raise EOFError("the stream ended")

    def events_until(self, last_id: str) -> list[Block]:
        """The events up to and including the one for STIX id ``last_id``; fails after
        `WAIT` seconds without it (heartbeats would otherwise keep the read going)."""
        found: list[Block] = []
        deadline = time.monotonic() + WAIT
        while True:
            assert time.monotonic() < deadline, (
                f"no event for {last_id} in {WAIT} s, after {ids(found)}"
            )
            block = self.block()
            if block.event is None:
                continue
            found.append(block)
            if block.data["id"] == last_id:
                return found


@contextmanager
def opened(node: Node, key: str | None, **options: Any) -> Iterator[Reader]:
    """A stream for ``key``, past its opening block (its start position is then fixed)."""
    headers = dict(options.pop("headers", {}))
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    with (
        httpx.Client(base_url=node.url, timeout=TIMEOUT) as client,
        client.stream("GET", STREAM, headers=headers, params=options) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        reader = Reader(response)
        first = reader.block()
        assert first.comments == ["accord stream"] and first.fields == {"retry": "5000"}
        yield reader


# -- writing ----------------------------------------------------------------------------------


def indicator(name: str, level: Tlp | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-03-01T00:00:00.000Z",
        "modified": "2026-03-01T00:00:00.000Z",
        "name": name,
        "pattern": "[domain-name:value = 'stream-test.example.net']",
        "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00Z",
    }
    if level is not None:
        obj["object_marking_refs"] = [level.marking_id]
    return obj


def sighting_of(target: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": "2026-03-02T00:00:00.000Z",
        "modified": "2026-03-02T00:00:00.000Z",
        "sighting_of_ref": target["id"],
        "count": 1,
    }


def add(
    store: Store,
    user: User,
    *objects: dict[str, Any],
    recipients: Recipients | None = None,
) -> None:
    data = orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    options = IngestOptions(tlp=Tlp.GREEN, recipients=recipients or Recipients())
    report = Ingester(store, user).ingest_bytes(data, "test", options)
    assert report.ok, report.summary()


def ids(blocks: list[Block]) -> list[str]:
    return [block.data["id"] for block in blocks]


# -- the tests --------------------------------------------------------------------------------


def test_a_client_gets_what_is_added_after_it_connected_in_order(node: Node) -> None:
    analyst = node.community.analyst
    add(node.store, analyst, indicator("before the client"))
    with opened(node, node.key(analyst)) as stream:
        first = indicator("first")
        add(node.store, analyst, first)
        second, third = indicator("second"), indicator("third")
        seen = sighting_of(second)
        add(node.store, analyst, second, third, seen)
        got = stream.events_until(seen["id"])
    assert ids(got) == [first["id"], second["id"], third["id"], seen["id"]]
    assert [block.event for block in got] == ["object", "object", "object", "sighting"]
    seqs = [int(block.fields["id"]) for block in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    data = got[0].data
    assert set(data) == {"seq", "id", "type", "modified", "tlp", "object"}
    assert data["seq"] == seqs[0] and data["type"] == "indicator"
    assert data["tlp"] == "TLP:GREEN" and data["modified"] == "2026-03-01T00:00:00.000Z"
    assert data["object"]["name"] == "first" and data["object"]["id"] == first["id"]
    assert got[3].data["type"] == "sighting"
    assert got[3].data["object"]["sighting_of_ref"] == second["id"]


def test_a_new_version_is_an_event(node: Node) -> None:
    analyst = node.community.analyst
    older = indicator("one")
    add(node.store, analyst, older)
    with opened(node, node.key(analyst)) as stream:
        newer = older | {"modified": "2026-03-05T00:00:00.000Z", "name": "one, renamed"}
        add(node.store, analyst, newer)
        (got,) = stream.events_until(older["id"])
    assert got.data["modified"] == "2026-03-05T00:00:00.000Z"
    assert got.data["object"]["name"] == "one, renamed"


def test_resuming_misses_nothing_and_repeats_nothing(node: Node) -> None:
    analyst = node.community.analyst
    key = node.key(analyst)
    early = [indicator(f"early {n}") for n in range(3)]
    with opened(node, key) as stream:
        add(node.store, analyst, *early)
        got = stream.events_until(early[-1]["id"])
    assert ids(got) == [obj["id"] for obj in early]
    last = got[-1].fields["id"]

    # Disconnected: more arrives, in two writes.
    late = [indicator(f"late {n}") for n in range(4)]
    add(node.store, analyst, *late[:2])
    add(node.store, analyst, *late[2:])
    with opened(node, key, headers={"Last-Event-ID": last}) as stream:
        got = stream.events_until(late[-1]["id"])
        assert ids(got) == [obj["id"] for obj in late]
        final = indicator("final")
        add(node.store, analyst, final)
        assert ids(stream.events_until(final["id"])) == [final["id"]]  # and nothing again

    # ?after= does the same; Last-Event-ID (what EventSource sends) wins over it.
    with opened(node, key, after=got[1].fields["id"]) as stream:
        assert ids(stream.events_until(final["id"])) == [late[2]["id"], late[3]["id"], final["id"]]
    with opened(node, key, after="0", headers={"Last-Event-ID": got[2].fields["id"]}) as stream:
        assert ids(stream.events_until(final["id"])) == [late[3]["id"], final["id"]]


def test_a_client_behind_catches_up_in_batches(node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    """More than a batch waiting: pages one after another, none lost at their seams."""
    monkeypatch.setattr(stream_route, "BATCH", 3)  # the server runs in this process
    analyst = node.community.analyst
    many = [indicator(f"backlog {n}") for n in range(11)]
    with opened(node, node.key(analyst)) as stream:
        add(node.store, analyst, *many[:5])
        add(node.store, node.community.investigator, indicator("hidden", Tlp.RED))
        add(node.store, analyst, *many[5:])
        assert ids(stream.events_until(many[-1]["id"])) == [obj["id"] for obj in many]
    with opened(node, node.key(analyst), after="0", types="indicator") as stream:
        assert ids(stream.events_until(many[-1]["id"])) == [obj["id"] for obj in many]


def test_types_filter(node: Node) -> None:
    analyst = node.community.analyst
    target = indicator("sighted")
    with opened(node, node.key(analyst), types="sighting, report") as stream:
        seen = sighting_of(target)
        add(node.store, analyst, target, seen)
        assert ids(stream.events_until(seen["id"])) == [seen["id"]]


def _matrix_objects(community: Community) -> list[tuple[dict[str, Any], Tlp, Recipients]]:
    """For each TLP level, one indicator by the CERT analyst naming the police (RED: the
    police investigator) and one naming nobody."""
    made = []
    for level in Tlp:
        named = (
            Recipients(user_ids=frozenset({community.investigator.id}))
            if level == Tlp.RED
            else Recipients(org_ids=frozenset({community.police.id}))
        )
        for recipients in (named, Recipients()):
            label = "named" if recipients else "unnamed"
            made.append((indicator(f"{level.label} {label}", level), level, recipients))
    return made


def test_leak_matrix(node: Node) -> None:
    """Each viewer receives exactly the versions `may_see` lets it see, live and replayed."""
    c = node.community
    d = node.store.directory
    viewers = {
        "creator": c.analyst,
        "colleague": c.colleague,
        "recipient": c.investigator,
        "outsider": c.operator,
    }
    made = _matrix_objects(c)
    sentinel = indicator("everyone sees this", Tlp.CLEAR)
    expected: dict[str, list[str]] = {}
    for name, user in viewers.items():
        viewer = d.viewer(user)
        expected[name] = [
            obj["id"]
            for obj, level, recipients in made
            if may_see(
                level, audience_for(level, c.analyst.org_id, c.analyst.id, recipients), viewer
            )
        ] + [sentinel["id"]]
    # The table the rule gives, spelt out (docs/visibility.md), so a change of the rule
    # cannot pass unnoticed here: counts of the ten indicators each viewer sees.
    assert {name: len(found) - 1 for name, found in expected.items()} == {
        "creator": 10,  # all of its own
        "colleague": 8,  # not RED: RED names users
        "recipient": 7,  # CLEAR and GREEN both, AMBER, AMBER+STRICT, RED where named
        "outsider": 4,  # CLEAR and GREEN only
    }

    with ExitStack() as stack:
        streams = {
            name: stack.enter_context(opened(node, node.key(user)))
            for name, user in viewers.items()
        }
        for obj, _level, recipients in made:
            add(node.store, c.analyst, obj, recipients=recipients)
        add(node.store, c.analyst, sentinel)
        live = {name: ids(stream.events_until(sentinel["id"])) for name, stream in streams.items()}
    assert live == expected

    for name, user in viewers.items():  # replayed from the start: the same
        with opened(node, node.key(user), after="0", types="indicator") as stream:
            assert ids(stream.events_until(sentinel["id"])) == expected[name], name

    # AMBER and above that the recipient read were audited, as on every read path.
    reads = [
        entry
        for entry in node.store.audit.entries(action="read")
        if entry.user_id == c.investigator.id
    ]
    audited = {i for entry in reads for i in (entry.detail or {}).get("ids", [])}
    sensitive = {obj["id"] for obj, level, _ in made if level >= Tlp.AMBER}
    assert audited == sensitive & set(expected["recipient"])
    assert {(entry.detail or {}).get("via") for entry in reads} == {"GET /api/v1/stream"}


def test_heartbeats_when_nothing_happens(node: Node) -> None:
    with opened(node, node.key(node.community.operator)) as stream:
        started = time.monotonic()
        beats = [stream.block() for _ in range(3)]
        took = time.monotonic() - started
    assert all(beat.comments == ["heartbeat"] and not beat.fields for beat in beats)
    assert 1.2 <= took <= 5.0  # three beats half a second apart


def test_a_revoked_key_ends_its_stream(node: Node) -> None:
    user = node.community.colleague
    key = node.key(user)
    with opened(node, key) as stream:
        node.store.directory.revoke_key(key.split("_")[1])
        started = time.monotonic()
        with pytest.raises(EOFError):
            while True:
                stream.block()  # heartbeats, then the end
        assert time.monotonic() - started < 3.0
    response = httpx.get(node.url + STREAM, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401


def test_who_may_not_open_a_stream(node: Node) -> None:
    anonymous = httpx.get(node.url + STREAM, timeout=TIMEOUT)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    wrong = httpx.get(
        node.url + STREAM, headers={"Authorization": "Bearer acc_x_y"}, timeout=TIMEOUT
    )
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("params", "headers", "pointer"),
    [
        ({}, {"Last-Event-ID": "abc"}, "/headers/Last-Event-ID"),
        ({}, {"Last-Event-ID": "-1"}, "/headers/Last-Event-ID"),
        ({}, {"Last-Event-ID": "1e3"}, "/headers/Last-Event-ID"),
        ({}, {"Last-Event-ID": str(2**63)}, "/headers/Last-Event-ID"),
        ({"after": "x"}, {}, "/after"),
        ({"types": "Indicator!"}, {}, "/types"),
    ],
)
def test_bad_positions_and_filters_are_400(
    node: Node, params: dict[str, str], headers: dict[str, str], pointer: str
) -> None:
    headers = headers | {"Authorization": f"Bearer {node.key(node.community.analyst)}"}
    response = httpx.get(node.url + STREAM, params=params, headers=headers, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["pointer"] == pointer


def test_a_key_holds_a_bounded_number_of_streams(node: Node) -> None:
    key = node.key(node.community.analyst)
    headers = {"Authorization": f"Bearer {key}"}
    with opened(node, key), opened(node, key):
        third = httpx.get(node.url + STREAM, headers=headers, timeout=TIMEOUT)
        assert third.status_code == 429 and "Retry-After" in third.headers
        # Another key is not held back by this one's.
        with opened(node, node.key(node.community.colleague)):
            pass
    # Closed, they count no more (once the server has noticed: within a poll or two).
    deadline = time.monotonic() + 5
    while True:
        try:
            with opened(node, key), opened(node, key):
                break
        except AssertionError:
            assert time.monotonic() < deadline, "closed streams still count"
            time.sleep(0.1)


def test_a_stopping_server_ends_its_streams(store: Store, store_url: str) -> None:
    """A stream never ends by itself, so a stop would wait for its client: past the grace
    period the server cuts it, and the client sees the stream end cleanly (then resumes)."""
    community = make_community(store)
    key = store.directory.new_key(community.analyst.email)
    settings = Settings(database_url=store_url, warninglists=False, **FAST)
    server = Server(store, settings).start()
    node = Node(server.url, store, community, {community.analyst.email: key})
    with opened(node, key) as stream:
        started = time.monotonic()
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        with pytest.raises(EOFError):  # the end of the stream, not a broken connection
            while True:
                stream.block()
        stopping.join()
    assert 2.5 <= time.monotonic() - started <= 10.0  # the test server's grace is 3 s
