"""TAXII 2.1 benchmark: Accord beside OASIS medallion 3.0.0, the same client for both.

1. medallion (memory backend) and Accord (SQLite) each receive 5,000 indicators in batches of
   500 (POST, section 5.5), then are paged through at limit 100 and 1,000 (section 3.4).
   Targets: paging >= 100x medallion; Accord's POST >= 10,000 objects/s.
2. Accord alone with 1,000,000 objects (generated, stored through the store, not HTTP) paged
   at limit 1,000: >= 50,000 objects/s on SQLite; and the same on PostgreSQL.

Both servers run as their own processes on loopback; the client
(``accord.federation.taxii_client``, httpx + orjson) is the same. Lines for a rate with no anchor carry the target rate as the
anchor: ``ratio`` is then Accord's rate over the target, and passes at 1.0.

    .venv/bin/python bench/taxii.py [--quick] [--postgres URL] [--count N] [--million N]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson

from accord.federation.taxii_client import TaxiiClient
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.node import Store
from accord.store.records import NewVersion
from accord.taxii.collections import DEFAULT_ID
from ingest import pg_schema

MEDALLION_COLLECTION = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
EMAIL = "bench@cert.example"
SERVER_ENV = {
    "ACCORD_RATE_PER_SECOND": "1000000",
    "ACCORD_RATE_BURST": "1000000",
    "ACCORD_FEED_POLL_SECONDS": "0",
}


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


def indicator(number: int) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{number:08x}-0000-4000-8000-0000000be7c4",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"bench indicator {number}",
        "pattern": f"[ipv4-addr:value = '10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [Tlp.GREEN.marking_id],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(args: list[str], health: str, log: Path) -> Iterator[None]:
    with log.open("wb") as handle:
        process = subprocess.Popen(
            args, stdout=handle, stderr=subprocess.STDOUT, env=os.environ | SERVER_ENV
        )
    try:
        for _ in range(300):
            try:
                httpx.get(health, timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise RuntimeError(log.read_text()) from None
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def medallion(tmp: Path, page_max: int) -> Iterator[str]:
    """medallion 3.0.0, memory backend, one empty writable collection."""
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
    (tmp / "medallion-data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(tmp / "medallion-data.json"),
            "session_timeout": 36_000,  # its `next` sessions must outlive a slow paging
        },
        "users": {"admin": "Password0"},
        "taxii": {"max_page_size": page_max},
    }
    (tmp / "medallion.json").write_text(json.dumps(config))
    port = free_port()
    args = [sys.executable, "-m", "medallion.scripts.run", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with running([*args, str(tmp / "medallion.json")], base + "/taxii2/", tmp / "medallion.log"):
        yield base


def prepare_accord(url: str) -> str:
    store = Store.open(url)
    store.init()
    store.directory.add_org("Bench CERT")
    _, key = store.directory.add_user(EMAIL, "Bench CERT", Role.ANALYST)
    store.close()
    return key


@contextmanager
def accord(url: str, tmp: Path) -> Iterator[str]:
    port = free_port()
    args = [sys.executable, "-m", "accord.cli.main", "--db", url, "serve", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with running(args, base + "/health", tmp / f"accord-{port}.log"):
        yield base


def post_all(client: TaxiiClient, collection: str, objects: list[dict[str, object]]) -> float:
    start = time.perf_counter()
    for first in range(0, len(objects), 500):
        status = client.add_objects(collection, objects[first : first + 500])
        assert status["success_count"] == len(objects[first : first + 500]), status
    return time.perf_counter() - start


def page_all(client: TaxiiClient, collection: str, limit: int, expect: int) -> float:
    start = time.perf_counter()
    seen = 0
    for page in client.pages(collection, limit=limit):
        seen += len(page.objects)
    elapsed = time.perf_counter() - start
    assert seen == expect, (seen, expect)
    return elapsed


def side_by_side(count: int, tmp: Path) -> list[bool]:
    objects = [indicator(n) for n in range(count)]
    results = []
    timings: dict[str, dict[str, float]] = {}
    warm = [indicator(10_000_000)]  # one request first, so that neither pays its start-up
    with (
        medallion(tmp, 1000) as base,
        TaxiiClient(f"{base}/bench/", username="admin", password="Password0") as client,
    ):
        post_all(client, MEDALLION_COLLECTION, warm)
        timings["medallion"] = {"post": post_all(client, MEDALLION_COLLECTION, objects)}
        for limit in (100, 1000):
            took = page_all(client, MEDALLION_COLLECTION, limit, count + 1)
            timings["medallion"][f"page{limit}"] = took
            print(f"# medallion: paged {count} at {limit}: {took:.2f} s", file=sys.stderr)
    url = f"sqlite:///{tmp / 'side.db'}"
    key = prepare_accord(url)
    with accord(url, tmp) as base, TaxiiClient(f"{base}/taxii2/accord/", key=key) as client:
        post_all(client, DEFAULT_ID, warm)
        timings["accord"] = {"post": post_all(client, DEFAULT_ID, objects)}
        visible = count + 1 + 7  # with the TLP marking definitions and Accord's own
        for limit in (100, 1000):
            timings["accord"][f"page{limit}"] = page_all(client, DEFAULT_ID, limit, visible)
    print(f"# timings (s): {timings}", file=sys.stderr)
    for limit in (100, 1000):
        ours, theirs = timings["accord"][f"page{limit}"], timings["medallion"][f"page{limit}"]
        results.append(
            line(
                f"taxii.page_{count}.limit_{limit}.vs_medallion",
                ours,
                theirs,
                "s",
                100.0,
                theirs / ours,
            )
        )
    post_rate = count / timings["accord"]["post"]
    results.append(
        line("taxii.post.objects_per_s", post_rate, 10_000, "objects/s", 1.0, post_rate / 10_000)
    )
    medallion_rate = count / timings["medallion"]["post"]
    print(
        orjson.dumps(
            {
                "bench": "taxii.post.vs_medallion",
                "accord": round(post_rate),
                "anchor": round(medallion_rate),
                "unit": "objects/s",
                "ratio": round(post_rate / medallion_rate, 2),
            }
        ).decode(),
        flush=True,
    )
    return results


def load_generated(url: str, count: int, progress: Callable[[int], None] | None = None) -> None:
    """``count`` GREEN indicators, through the store (no HTTP), 20,000 per transaction."""
    store = Store.open(url)
    org = store.directory.org("Bench CERT")
    for first in range(0, count, 20_000):
        versions = []
        for number in range(first, min(count, first + 20_000)):
            obj = indicator(number)
            versions.append(
                NewVersion(
                    number,
                    str(obj["id"]),
                    "2026-01-01T00:00:00.000000Z",
                    "indicator",
                    "2.1",
                    None,
                    False,
                    Tlp.GREEN,
                    frozenset(),
                    orjson.dumps(obj).decode(),
                )
            )
        store.writer.put(versions, org.id, None)
        if progress is not None:
            progress(first)
    store.close()


def million(name: str, url: str, count: int, tmp: Path) -> bool:
    key = prepare_accord(url)
    start = time.perf_counter()
    load_generated(url, count)
    print(f"# {name}: stored {count} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    with accord(url, tmp) as base, TaxiiClient(f"{base}/taxii2/accord/", key=key) as client:
        took = page_all(client, DEFAULT_ID, 1000, count + 7)
    rate = (count + 7) / took
    print(f"# {name}: paged {count + 7} at 1000 in {took:.2f} s", file=sys.stderr)
    return line(
        f"taxii.page_{count}.limit_1000.{name}", rate, 50_000, "objects/s", 1.0, rate / 50_000
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="500 and 20,000 objects")
    parser.add_argument("--count", type=int, default=5000, help="objects beside medallion")
    parser.add_argument("--million", type=int, default=1_000_000, help="objects paged alone")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("ACCORD_BENCH_DATABASE_URL")
        or os.environ.get("ACCORD_TEST_DATABASE_URL"),
        help="PostgreSQL server URL (default: $ACCORD_TEST_DATABASE_URL); omitted: SQLite only",
    )
    args = parser.parse_args()
    count, big = (500, 20_000) if args.quick else (args.count, args.million)
    results = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        results.extend(side_by_side(count, tmp))
        results.append(million("sqlite", f"sqlite:///{tmp / 'million.db'}", big, tmp))
        if args.postgres:
            url, drop = pg_schema(args.postgres)
            try:
                results.append(million("postgresql", url, big, tmp))
            finally:
                drop()
        else:
            print(
                "# PostgreSQL skipped: set ACCORD_TEST_DATABASE_URL or --postgres", file=sys.stderr
            )
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
