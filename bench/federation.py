"""Federation benchmark (issue 18): Accord nodes replicating over TAXII 2.1, beside a naive
federation of two OASIS medallion 3.0.0 servers driven by ``taxii2-client``.

1. **A to B**: node A stores ``--count`` indicators (default 100,000; a fixed seed; mostly
   CLEAR and GREEN, some AMBER and AMBER+STRICT for an organisation of B, a few AMBER for
   nobody on B and RED, which must not cross); B pulls from A over HTTP
   (`accord.federation.peer_sync.run`, both nodes ``accord serve`` on loopback, SQLite each).
   Target: >= 20,000 objects/s. Where the pull spends its time is printed on stderr: the HTTP
   fetch (A's query, dressing and encoding, and the transfer), JSON decoding and ``receive``
   (checks, validation, indexing, writing); ``--profile`` adds a cProfile of the pulling side.
2. **Five nodes**: each stores ``--mesh`` objects (default 10,000), AMBER ones addressed to an
   organisation of another node; then every node pulls from every other (a full mesh: 20 pulls,
   each node's four in its own ``accord peer pull`` process, the five at once) until each holds
   what the hop rule lets reach it. Seconds to converge (no target in the issue).
3. **Anchor**: the same replication, ``--medallion`` objects (default 5,000), through two
   medallion servers: taxii2-client pages through the first at 100 objects a page
   (``as_pages``) and POSTs each page into the second. Accord's A-to-B pull of the same number
   of objects against it: target >= 100x.
4. **Memory**: B pulls ``--memory`` objects (default 200,000; ``--memory 1000000`` or
   ``ACCORD_BENCH_FEDERATION_MILLION=1`` for the issue's million, which takes longer than
   five minutes on a 2-core machine) with ``accord peer pull`` as a child process whose
   resident memory is sampled from /proc. Target: flat, i.e. the peak anonymous resident memory
   (the heap; the mapped SQLite file is printed apart) is at most 1.1x what it is once half
   the objects are stored (SQLite's page cache fills in the first part, see FLAT).

Each figure is one JSON line on stdout (as bench/taxii.py prints them): ``accord`` the figure,
``anchor`` what it is compared with (the target where there is no other anchor), ``ratio``
and ``pass``.

    .venv/bin/python bench/federation.py [--quick] [--count N] [--mesh N] [--medallion N]
        [--memory N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from accord.federation import peer_sync
from accord.federation.peer_registry import register
from accord.federation.peer_sync import run
from accord.federation.taxii_client import TaxiiClient
from accord.model.roles import Role
from accord.model.timestamps import timestamp_key
from accord.model.tlp import Tlp
from accord.model.visibility import org_principal, user_principal
from accord.store.node import Store
from accord.store.peers import PULL
from accord.store.records import NewVersion
from accord.store.taxii import EVERYTHING_ID

SEED = 18
SERVER_ENV = {
    "ACCORD_RATE_PER_SECOND": "1000000",
    "ACCORD_RATE_BURST": "1000000",
    "ACCORD_WARNINGLISTS": "0",
    "ACCORD_FEED_POLL_SECONDS": "0",
    "ACCORD_PEER_POLL_SECONDS": "0",
}
MEDALLION_COLLECTION = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
TARGET_RATE = 20_000.0
TARGET_VS_MEDALLION = 100.0
# Flat: the peak anonymous RSS over the anonymous RSS once half the objects are stored. Not
# from the start: SQLite's page cache (64 MiB a connection, accord.store.dialects.sqlite) fills
# as the database grows, then stays; a pull whose memory grew with the objects would double.
FLAT = 1.10
PARTS = ("a_to_b", "mesh", "medallion", "memory")


def line(name: str, accord: float, anchor: float, unit: str, target: float, ratio: float) -> bool:
    passed = ratio >= target
    out = {
        "bench": name,
        "accord": round(accord, 4),
        "anchor": round(anchor, 4),
        "unit": unit,
        "ratio": round(ratio, 2),
        "target": target,
        "pass": passed,
    }
    print(orjson.dumps(out).decode(), flush=True)
    return passed


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# -- generated indicators ----------------------------------------------------------------------

# (TLP, share) of the generated objects; AMBER* are addressed to an organisation of another
# node, except AMBER_NOBODY (AMBER for its creator alone: it stays home), as RED does.
AMBER_NOBODY = "amber-nobody"
MIX: list[tuple[Tlp | str, float]] = [
    (Tlp.CLEAR, 0.35),
    (Tlp.GREEN, 0.53),
    (Tlp.AMBER, 0.08),
    (Tlp.AMBER_STRICT, 0.02),
    (AMBER_NOBODY, 0.01),
    (Tlp.RED, 0.01),
]


@dataclass(slots=True)
class Generated:
    obj: dict[str, Any]
    tlp: Tlp
    recipient: str | None  # the organisation (of another node) an AMBER object is for
    crosses: bool  # whether the hop rule lets it reach the recipient's node (community peers)


def generated(count: int, seed: int, recipients: Sequence[str]) -> Iterator[Generated]:
    """``count`` indicators, the same for the same seed: IPv4, domain, URL and SHA-256
    patterns, a TLP drawn from :data:`MIX`, AMBER ones for one of ``recipients``."""
    rng = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)
    for number in range(count):
        kind = rng.choices(kinds, weights)[0]
        day = rng.randrange(365)
        stamp = (
            f"2025-{1 + day // 31 % 12:02d}-{1 + day % 28:02d}T{rng.randrange(24):02d}:00:00.000Z"
        )
        which = rng.randrange(4)
        if which == 0:
            value = f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            pattern = f"[ipv4-addr:value = '{value}']"
        elif which == 1:
            pattern = f"[domain-name:value = 'h{rng.getrandbits(40):x}.example.net']"
        elif which == 2:
            pattern = f"[url:value = 'https://x{rng.getrandbits(32):x}.example.org/p/{number}']"
        else:
            pattern = f"[file:hashes.'SHA-256' = '{rng.getrandbits(256):064x}']"
        tlp = Tlp.AMBER if kind == AMBER_NOBODY else Tlp(kind)
        recipient = rng.choice(recipients) if tlp in (Tlp.AMBER, Tlp.AMBER_STRICT) else None
        if kind == AMBER_NOBODY:
            recipient = None
        obj = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
            "created": stamp,
            "modified": stamp,
            "name": f"generated indicator {number} (seed {seed})",
            "indicator_types": [rng.choice(["malicious-activity", "anomalous-activity"])],
            "pattern": pattern,
            "pattern_type": "stix",
            "valid_from": stamp,
            "labels": [rng.choice(["phishing", "c2", "scanner", "botnet"])],
            "confidence": rng.randrange(30, 100),
            "object_marking_refs": [tlp.marking_id],
        }
        yield Generated(obj, tlp, recipient, tlp <= Tlp.GREEN or recipient is not None)


def load(store: Store, org_id: str, items: Iterator[Generated], chunk: int = 20_000) -> int:
    """Straight through the store's writer (no validation or indexing on the sending node: the
    benchmark is about the pull), each with the audience the ingest would record."""
    count = 0
    creator = f"{uuid.UUID(int=SEED, version=4)}"  # a RED object names its creating user
    batch: list[NewVersion] = []
    for item in items:
        obj = item.obj
        if item.tlp == Tlp.RED:
            audience = frozenset({user_principal(creator)})
        elif item.tlp >= Tlp.AMBER:
            audience = frozenset({org_principal(org_id)})
            if item.recipient is not None:
                audience |= {org_principal(item.recipient)}
        else:
            audience = frozenset()
        batch.append(
            NewVersion(
                count,
                obj["id"],
                timestamp_key(obj["modified"]),
                "indicator",
                "2.1",
                None,
                False,
                item.tlp,
                audience,
                orjson.dumps(obj).decode(),
            )
        )
        count += 1
        if len(batch) >= chunk:
            store.writer.put(batch, org_id, None)
            batch = []
    if batch:
        store.writer.put(batch, org_id, None)
    return count


# -- nodes -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Node:
    name: str
    url: str
    store: Store
    orgs: list[str]  # identity ids; the first is the operator
    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    keys: dict[str, str] = field(default_factory=dict)  # the key each peer holds for it

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.launch()
        self.ready()

    def launch(self) -> None:
        self.port = free_port()
        args = [sys.executable, "-m", "accord.cli.main", "--db", self.url, "serve"]
        with (self.folder / f"{self.name}.log").open("ab") as handle:
            self.process = subprocess.Popen(
                [*args, "--port", str(self.port)],
                env=os.environ | SERVER_ENV,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )

    def ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base + "/health", timeout=1)
                return
            except httpx.TransportError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        log = self.folder / f"{self.name}.log"
        raise RuntimeError(f"node {self.name} did not start: {log.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def held(self) -> int:
        """Distinct objects stored here (a count for the benchmark's check, no read)."""
        with self.store.engine.connect() as conn:
            return int(conn.execute(text("select count(distinct id) from objects")).scalar_one())

    def last_seq(self) -> int:
        """About how many versions are stored (cheap enough to ask twice a second)."""
        with self.store.engine.connect() as conn:
            return int(conn.execute(text("select max(seq) from objects")).scalar_one() or 0)


def make_node(name: str, folder: Path, orgs: int = 2) -> Node:
    url = f"sqlite:///{folder / f'{name}.db'}"
    store = Store.open(url)
    store.init()
    made = [store.directory.add_org(f"{name} org {n}", "government", "EX") for n in range(orgs)]
    store.directory.add_user(f"analyst@{name}.example", made[0].name, Role.ANALYST)
    store.identity.set(f"{name} node", made[0].id)
    return Node(name, url, store, [org.id for org in made], folder)


def peering(pairs: Sequence[tuple[Node, Node]]) -> None:
    """Each ``(puller, source)``: ``puller`` pulls from ``source``, registered on both sides as
    operators would (each side first makes the other's account and hands over its key)."""
    keys: dict[tuple[str, str], str] = {}  # (holder, on) -> the key holder uses on node on
    pulled = {(puller.name, source.name): source for puller, source in pairs}
    everyone = {node.name: node for pair in pairs for node in pair}
    for puller, source in pairs:
        for this, that in ((source, puller), (puller, source)):
            if (that.name, this.name) not in keys:
                made = register(
                    this.store, that.name, that.store.identity.card(), new_key=True,
                    collection=EVERYTHING_ID, community=True,
                )  # fmt: skip
                assert made.key is not None
                keys[that.name, this.name] = made.key
    for name, node in everyone.items():
        for other in everyone.values():
            if (name, other.name) not in keys:
                continue
            source = pulled.get((name, other.name))
            register(
                node.store, other.name, other.store.identity.card(),
                url=f"{other.base}/taxii2/accord/" if source else None,
                secret=keys[name, other.name] if source else None,
                collection=EVERYTHING_ID, pull=source is not None, community=True,
            )  # fmt: skip


@contextmanager
def nodes(folder: Path, names: Sequence[str]) -> Iterator[list[Node]]:
    made = [make_node(name, folder) for name in names]
    try:
        yield made
    finally:
        for node in made:
            node.stop()
            node.store.close()


# -- 1. A to B ---------------------------------------------------------------------------------


class Timed:
    """A function, with the seconds spent in it (to time `peer_sync.receive` in place)."""

    def __init__(self, function: Any) -> None:
        self.function = function
        self.calls: list[float] = []

    @property
    def seconds(self) -> float:
        return sum(self.calls)

    def spread(self) -> str:
        """The first and the last tenth of the calls, in ms each: does a call grow?"""
        tenth = max(1, len(self.calls) // 10)
        first, last = self.calls[:tenth], self.calls[-tenth:]
        return (
            f"{1000 * sum(first) / len(first):.0f} ms, then {1000 * sum(last) / len(last):.0f} ms"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.calls.append(time.perf_counter() - start)


class TimedClient(TaxiiClient):
    """The product's client, timing its HTTP requests and its JSON decoding apart."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.http_seconds = 0.0
        self.json_seconds = 0.0
        self.bytes = 0

    def _get(self, url: str, params: Any = None) -> httpx.Response:
        start = time.perf_counter()
        response = super()._get(url, params)
        self.http_seconds += time.perf_counter() - start
        self.bytes += len(response.content)
        return response

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        start = time.perf_counter()
        found = super()._json(response)
        self.json_seconds += time.perf_counter() - start
        return found


def a_to_b(folder: Path, count: int, profile: bool, page_size: int) -> tuple[float, int]:
    """Seconds for B to pull what may cross of ``count`` objects stored on A; and how many."""
    with nodes(folder, ["a", "b"]) as (a, b):
        a.start()
        peering([(b, a)])
        peer = b.store.peers.get("a")
        client = TimedClient(peer.url or "", key=peer.secret)
        warm = run(b.store, peer, PULL, client=client)  # A's first requests, before the clock
        assert warm.error is None, warm
        client.http_seconds = client.json_seconds = client.bytes = 0
        start = time.perf_counter()
        items = list(generated(count, SEED, b.orgs[1:]))
        load(a.store, a.orgs[0], iter(items))
        crossing = sum(item.crosses for item in items)
        note(f"A: stored {count} in {time.perf_counter() - start:.1f} s; {crossing} may cross")
        profiler = cProfile.Profile() if profile else None
        receiving = Timed(peer_sync.receive)
        peer_sync.receive = receiving  # type: ignore[assignment]  # timed, not changed
        start = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = run(b.store, peer, PULL, client=client, page_size=page_size)
        if profiler is not None:
            profiler.disable()
        took = time.perf_counter() - start
        peer_sync.receive = receiving.function  # type: ignore[assignment]
        client.close()
        assert report.error is None and report.refused == 0, report
        assert report.stored == crossing, (report.stored, crossing)
        note(
            f"A to B: {report.objects} objects in {report.pages} pages of {page_size} in "
            f"{took:.2f} s: receive (checks, validation, indexing, write, cursor) "
            f"{receiving.seconds:.2f} s (a page: {receiving.spread()}); waiting for pages {took - receiving.seconds:.2f} s; "
            f"of which, while pages may be fetched ahead, HTTP fetch (A's query, dressing, "
            f"encoding, transfer) {client.http_seconds:.2f} s and JSON decoding "
            f"{client.json_seconds:.2f} s; {client.bytes / 1e6:.1f} MB"
        )
        serving(a, b.store.identity.get().operator_org, page_size)
        if profiler is not None:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(
                os.environ.get("BENCH_SORT", "cumulative")
            ).print_stats(45)
            print(out.getvalue(), file=sys.stderr)
        return took, report.stored


def serving(a: Node, b_operator: str, page_size: int) -> None:
    """A's side of the pull again, in this process: the hop rule's query, the dressing for a
    peer (`accord.export.for_peer`) and the encoding, page by page."""
    from accord.export.for_peer import dressed_for_peer
    from accord.model.visibility import Viewer
    from accord.store.taxii import EVERYTHING, Match

    peer = a.store.peers.get("b")
    viewer = Viewer(org_id=b_operator, crossing=a.store.peers.crossing(peer))
    query = dressing = encoding = 0.0
    after = 0
    while True:
        start = time.perf_counter()
        entries = a.store.taxii.page(
            viewer, EVERYTHING, Match(versions=("all",)), after=after, limit=page_size
        )
        query += time.perf_counter() - start
        if not entries:
            break
        start = time.perf_counter()
        dressed = dressed_for_peer(a.store, entries)
        dressing += time.perf_counter() - start
        start = time.perf_counter()
        orjson.dumps(dressed)
        encoding += time.perf_counter() - start
        after = entries[-1].seq
    note(
        f"A serving (in-process, no HTTP): query {query:.2f} s, dressing {dressing:.2f} s, "
        f"encoding {encoding:.2f} s"
    )


# -- 2. five nodes -----------------------------------------------------------------------------


# A pulling node's process: imported and connected first, it pulls from every peer it pulls
# from once told to start (a line on stdin), so that the clock does not count Python's start.
PULLER = """
import sys, orjson
from accord.federation.peer_sync import run
from accord.store.node import Store
store = Store.open(sys.argv[1])
peers = [peer for peer in store.peers.all() if peer.pull]
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()
reports = [run(store, peer, "pull").as_json() for peer in peers]
sys.stdout.write(orjson.dumps(reports).decode() + "\\n")
"""


def puller(node: Node) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, "-c", PULLER, node.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=os.environ | SERVER_ENV,
    )
    assert child.stdout is not None
    if child.stdout.readline() != b"ready\n":
        raise RuntimeError(f"{node.name}: the pulling process did not start")
    return child


def mesh(folder: Path, per_node: int, count: int = 5) -> float:
    """Seconds until ``count`` nodes that each stored ``per_node`` objects hold what may reach
    them, every node pulling from every other."""
    names = [f"n{n}" for n in range(count)]
    with nodes(folder, names) as made:
        expected = {node.name: node.held() + per_node for node in made}
        for number, node in enumerate(made):
            others = [org for other in made if other is not node for org in other.orgs[1:]]
            items = list(generated(per_node, SEED + 1 + number, others))
            load(node.store, node.orgs[0], iter(items))
            home = {org: other.name for other in made for org in other.orgs}
            for item in items:
                if item.tlp <= Tlp.GREEN:
                    for other in made:
                        expected[other.name] += other is not node
                elif item.recipient is not None:
                    expected[home[item.recipient]] += 1
        for node in made:
            node.launch()
        for node in made:
            node.ready()
        peering([(node, other) for node in made for other in made if other is not node])
        children = [puller(node) for node in made]
        start = time.perf_counter()
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            child.stdin.flush()
        stored = duplicates = 0
        for node, child in zip(made, children, strict=True):
            out, _ = child.communicate(timeout=3600)
            if child.returncode != 0:
                raise RuntimeError(f"{node.name}: its pulls failed (see stderr)")
            for report in orjson.loads(out):
                assert report["error"] is None and report["refused"] == 0, report
                stored += report["stored"]
                duplicates += report["duplicates"]
        took = time.perf_counter() - start
        held = {node.name: node.held() for node in made}
        note(
            f"mesh of {count}: {per_node} objects each, converged in {took:.2f} s "
            f"({stored} stored, {duplicates} duplicates); held {held}"
        )
        # A node that pulled from X before Y pulled from X and forwards less: the first round
        # of pulls delivers everything anyway (each node pulls every origin directly).
        assert held == expected, (held, expected)
        return took


# -- 3. medallion ------------------------------------------------------------------------------


@contextmanager
def medallion(folder: Path, name: str) -> Iterator[str]:
    """medallion 3.0.0 (memory backend), one empty writable collection; its base URL."""
    data = {
        "/discovery": {"title": "bench", "api_roots": ["http://127.0.0.1/bench/"]},
        "bench": {
            "information": {
                "title": "bench",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 100_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": MEDALLION_COLLECTION,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (folder / f"{name}-data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(folder / f"{name}-data.json"),
            "session_timeout": 36_000,  # its `next` sessions must outlive a slow paging
        },
        "users": {"admin": "Password0"},
        "taxii": {"max_page_size": 1000},
    }
    (folder / f"{name}.json").write_text(json.dumps(config))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "medallion.scripts.run", "--port", str(port)]
    with (folder / f"{name}.log").open("wb") as handle:
        process = subprocess.Popen(
            [*args, str(folder / f"{name}.json")], stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/taxii2/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise RuntimeError((folder / f"{name}.log").read_text()) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def medallion_path(folder: Path, count: int) -> float:
    """Seconds for the naive federation: page the first medallion with taxii2-client, 100 a
    page, POSTing each page into the second."""
    from taxii2client.v21 import Collection, as_pages

    objects = [item.obj for item in generated(count, SEED, ["identity--" + "0" * 36])]
    with medallion(folder, "medallion-a") as a, medallion(folder, "medallion-b") as b:
        source = Collection(
            f"{a}/bench/collections/{MEDALLION_COLLECTION}/", user="admin", password="Password0"
        )
        target = Collection(
            f"{b}/bench/collections/{MEDALLION_COLLECTION}/", user="admin", password="Password0"
        )
        for first in range(0, count, 500):
            envelope = {"objects": objects[first : first + 500]}
            status = source.add_objects(json.dumps(envelope))
            assert status.success_count == len(envelope["objects"]), status
        start = time.perf_counter()
        copied = 0
        for envelope in as_pages(source.get_objects, per_request=100):
            page = envelope.get("objects", [])
            if page:
                status = target.add_objects(json.dumps({"objects": page}))
                copied += status.success_count
        took = time.perf_counter() - start
        assert copied == count, (copied, count)
    note(f"medallion: {count} objects paged at 100 and POSTed into another in {took:.2f} s")
    return took


# -- 4. memory ---------------------------------------------------------------------------------


def rss_kib(pid: int) -> tuple[int, int]:
    """(anonymous, file-backed) resident KiB: the store maps its SQLite file (``mmap_size``,
    accord.store.dialects.sqlite), so pages of the database read count as resident too; they
    are the kernel's page cache, shared and dropped under pressure, not the process's heap."""
    found = {"RssAnon:": 0, "RssFile:": 0}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for row in handle:
                name = row.split(maxsplit=1)[0] if row.strip() else ""
                if name in found:
                    found[name] = int(row.split()[1])
    except FileNotFoundError:
        pass
    return found["RssAnon:"], found["RssFile:"]


def memory(folder: Path, count: int) -> tuple[float, float, float]:
    """Peak anonymous resident MiB of ``accord peer pull`` pulling ``count`` objects, the same
    once half of them is stored, and its rate (objects/s, from the pull's own clock: not
    counting the process's start)."""
    with nodes(folder, ["ma", "mb"]) as (a, b):
        start = time.perf_counter()
        load(a.store, a.orgs[0], generated(count, SEED + 100, b.orgs[1:]))
        note(f"memory: A stored {count} in {time.perf_counter() - start:.1f} s")
        a.start()
        peering([(b, a)])
        out, err = folder / "pull.out", folder / "pull.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            child = subprocess.Popen(
                [sys.executable, "-m", "accord.cli.main", "--db", b.url, "peer", "pull", "--json"],
                stdout=stdout,
                stderr=stderr,
                env=os.environ | SERVER_ENV,
            )
        start = time.perf_counter()
        samples: list[tuple[float, int, int, int]] = []  # (s, versions on B, anon, file KiB)
        while True:
            finished, status, usage = os.wait4(child.pid, os.WNOHANG)
            if finished:
                break
            samples.append((time.perf_counter() - start, b.last_seq(), *rss_kib(child.pid)))
            time.sleep(0.25)
        took = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise RuntimeError(f"peer pull failed: {err.read_text()[-2000:]}")
        (report,) = orjson.loads(out.read_bytes())
        peak = usage.ru_maxrss / 1024  # KiB on Linux: anonymous and file-backed
        anon_peak = max((anon for *_, anon, _ in samples), default=0) / 1024
        half = next((anon for _, held, anon, _ in samples if held >= report["stored"] / 2), 0)
        shown = [
            f"{seconds:.0f}s {held} {anon / 1024:.0f}+{file / 1024:.0f}MiB"
            for seconds, held, anon, file in samples[:: max(1, len(samples) // 10)]
        ]
        note(
            f"memory: `accord peer pull` stored {report['stored']} of {report['objects']} in "
            f"{took:.1f} s; peak RSS {peak:.0f} MiB (with the mapped database file); "
            f"anonymous RSS: peak {anon_peak:.0f} MiB (sampled 4 times a second), once half "
            f"was stored {half / 1024:.0f} MiB; samples (s, versions, anon+file) {shown}"
        )
        return (
            anon_peak,
            half / 1024 or anon_peak,
            report["objects"] / max(report["seconds"], 1e-3),
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a few hundred objects each")
    parser.add_argument("--count", type=int, default=100_000, help="objects A to B")
    parser.add_argument("--mesh", type=int, default=10_000, help="objects stored per node")
    parser.add_argument("--medallion", type=int, default=5_000, help="objects beside medallion")
    million = os.environ.get("ACCORD_BENCH_FEDERATION_MILLION") == "1"
    parser.add_argument(
        "--memory",
        type=int,
        default=1_000_000 if million else 200_000,
        help="objects pulled by a child process whose memory is sampled (default 200,000; "
        "1,000,000 with ACCORD_BENCH_FEDERATION_MILLION=1)",
    )
    parser.add_argument("--page-size", type=int, default=1000, help="objects per pulled page")
    parser.add_argument("--profile", action="store_true", help="cProfile the A-to-B pull")
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"the parts to run, of {', '.join(PARTS)}"
    )
    args = parser.parse_args()
    if args.quick:
        args.count, args.mesh, args.medallion, args.memory = 400, 100, 200, 2000
    results = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        only = set(args.only.split(","))
        if "a_to_b" in only:
            took, stored = a_to_b(_folder(folder / "ab"), args.count, args.profile, args.page_size)
            rate = stored / took
            results.append(
                line("federation.a_to_b.objects_per_s", rate, TARGET_RATE, "objects/s", 1.0,
                     rate / TARGET_RATE)
            )  # fmt: skip
        if "mesh" in only:
            took_mesh = mesh(_folder(folder / "mesh"), args.mesh)
            print(
                orjson.dumps(
                    {"bench": f"federation.mesh_5x{args.mesh}.converge",
                     "accord": round(took_mesh, 2), "unit": "s",
                     "topology": "full mesh: every node pulls from every other"}
                ).decode(),
                flush=True,
            )  # fmt: skip
        if "medallion" in only:
            theirs = medallion_path(_folder(folder / "medallion"), args.medallion)
            ours, _ = a_to_b(_folder(folder / "ab-small"), args.medallion, False, args.page_size)
            results.append(
                line(f"federation.replicate_{args.medallion}.vs_medallion", ours, theirs, "s",
                     TARGET_VS_MEDALLION, theirs / ours)
            )  # fmt: skip
        if "memory" in only:
            peak, half, pull_rate = memory(_folder(folder / "memory"), args.memory)
            results.append(
                line(f"federation.pull_{args.memory}.peak_anon_rss", peak, half * FLAT, "MiB", 1.0,
                     half * FLAT / peak)
            )  # fmt: skip
            print(
                orjson.dumps(
                    {"bench": f"federation.pull_{args.memory}.objects_per_s",
                     "accord": round(pull_rate), "unit": "objects/s", "via": "accord peer pull"}
                ).decode(),
                flush=True,
            )  # fmt: skip
    return 0 if all(results) else 1


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    sys.exit(main())
