"""Correlation benchmark: 1,000,000 generated observables with realistic overlap (about 5% of
values reported again, addresses inside reported networks, subdomains and URLs of reported
domains, a few hot values such as a public resolver in 10,000 objects), ingested into a fresh
SQLite store with correlation and, in the same run, without it.

Measures (one JSON line each, as bench/ prescribes):

- ``correlation.<db>.ingest``: objects/s with correlation beside objects/s without it
  (the anchor). Target: ratio >= 0.5.
- ``correlation.<db>.storage``: correlation rows per object, beside the rows an uncapped
  pairwise store (MISP's) would need for the same-value pairs alone. Target: every hub within
  the cap (``pass`` says so) -- the ratio shows what the cap saves.
- ``correlation.<db>.query_p50``: p50 of ``GET .../correlations``' store call (both ends
  through the visibility rule, over-correlating values counted) beside the bare indexed SELECT
  of the rows. Target: p50 < 5 ms.

With ``--defer-correlation``, a third ingest of the same objects into a fresh store, as a
bulk load: correlation deferred (``accord ingest --defer-correlation``), then the backlog
caught up as the ``correlation`` job does it (accord.store.correlation_backlog), both timed:

- ``correlation.<db>.deferred_ingest``: objects/s of the deferred ingest beside objects/s of
  the inline one (with correlation). Target: ratio >= 1.
- ``correlation.<db>.catch_up``: versions/s of the catch-up beside objects/s of the inline
  ingest; ``pass``: it wrote as many correlation rows as the inline ingest.

Each ingest runs in a fresh process (one's heap must not slow the other); only the time spent
in ``Ingester.ingest_objects`` (and in the catch-up) counts, not the generation of the objects.

    .venv/bin/python bench/correlation.py [--objects N] [--queries N] [--postgres URL] [--quick]
                                          [--defer-correlation]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

NAMESPACE = uuid.UUID("c0e1a7e5-0b3a-4d7e-9c1d-000000000006")
TLDS = ["com", "net", "org", "io", "ru", "cn", "info", "xyz", "top", "example"]
CHUNK = 20_000
# (value, path, objects) at full size; scaled down with the object count.
HOT = [
    ("8.8.8.8", "ipv4-addr:value", 10_000),
    ("1.1.1.1", "ipv4-addr:value", 3_000),
    ("google.com", "domain-name:value", 2_000),
    ("http://pastebin.com/raw/abc", "url:value", 500),
]


class Generator:
    """Deterministic values with the overlaps real feeds have."""

    def __init__(self, total: int, seed: int = 6) -> None:
        self.random = random.Random(seed)
        self.total = total
        self.bases = [self._name() for _ in range(max(200, total // 50))]
        self.networks = [
            (self.random.randint(1, 223), self.random.randint(0, 255), self.random.randint(0, 255))
            for _ in range(max(100, total // 200))
        ]
        self.recent: list[tuple[str, str]] = []
        scale = total / 1_000_000
        self.hot: list[tuple[str, str]] = []
        for value, path, count in HOT:
            self.hot += [(path, value)] * max(20, int(count * scale))
        self.random.shuffle(self.hot)
        self.hot_every = max(1, total // max(1, len(self.hot)))

    def _name(self) -> str:
        letters = "abcdefghijklmnopqrstuvwxyz0123456789"
        length = self.random.randint(5, 12)
        return (
            "".join(self.random.choice(letters) for _ in range(length))
            + "."
            + self.random.choice(TLDS)
        )

    def value(self, number: int) -> tuple[str, str]:
        r = self.random
        if self.hot and number % self.hot_every == 0:
            return self.hot.pop()
        if self.recent and r.random() < 0.05:
            return self.recent[r.randrange(len(self.recent))]  # reported again
        x = r.random()
        if x < 0.30:
            found = (
                "ipv4-addr:value",
                f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
            )
        elif x < 0.38:  # an address inside a network some feed reports
            a, b, c = r.choice(self.networks)
            found = ("ipv4-addr:value", f"{a}.{b}.{c}.{r.randint(1, 254)}")
        elif x < 0.41:
            a, b, c = r.choice(self.networks)
            found = (
                "ipv4-addr:value",
                f"{a}.{b}.{c}.0/24" if r.random() < 0.8 else f"{a}.{b}.0.0/16",
            )
        elif x < 0.50:
            found = ("domain-name:value", r.choice(self.bases))
        elif x < 0.62:
            found = ("domain-name:value", f"{self._name().split('.')[0]}.{r.choice(self.bases)}")
        elif x < 0.68:
            found = ("domain-name:value", self._name())
        elif x < 0.83:
            host = r.choice(self.bases) if r.random() < 0.7 else self._name()
            found = ("url:value", f"http://{host}/{uuid.UUID(int=r.getrandbits(128)).hex[:10]}.php")
        else:
            digest = hashlib.sha256(r.getrandbits(64).to_bytes(8, "big")).hexdigest()
            found = (
                ("file:hashes.MD5", digest[:32])
                if r.random() < 0.3
                else ("file:hashes.'SHA-256'", digest)
            )
        if r.random() < 0.2:
            self.recent.append(found)
            if len(self.recent) > 50_000:
                self.recent = self.recent[-25_000:]
        return found

    def chunks(self) -> Iterator[list[dict[str, Any]]]:
        chunk: list[dict[str, Any]] = []
        for number in range(self.total):
            path, value = self.value(number)
            chunk.append(
                {
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": f"indicator--{uuid.uuid5(NAMESPACE, str(number))}",
                    "created": "2026-01-01T00:00:00.000Z",
                    "modified": "2026-01-01T00:00:00.000Z",
                    "pattern": f"[{path} = '{value}']",
                    "pattern_type": "stix",
                    "valid_from": "2026-01-01T00:00:00Z",
                    "confidence": 70,
                }
            )
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


# -- child processes ---------------------------------------------------------------------------


def child(mode: str, url: str, total: int, queries: int) -> dict[str, Any]:
    from sqlalchemy import text

    from accord.ingest.stix import Ingester, IngestOptions
    from accord.model.roles import Role
    from accord.model.tlp import Tlp
    from accord.store.correlation.policy import CorrelationPolicy, set_policy
    from accord.store.correlation_backlog import correlate_next
    from accord.store.node import Store

    store = Store.open(url)
    set_policy(store.engine, CorrelationPolicy(enabled=mode != "without"))
    store.init()
    store.directory.add_org("Bench CERT")
    user, _ = store.directory.add_user("bench@cert.example", "Bench CERT", Role.ANALYST)
    ingester = Ingester(store, user)
    options = IngestOptions(tlp=Tlp.GREEN, defer_correlation=mode == "deferred")
    seconds = 0.0
    done = 0
    for chunk in Generator(total).chunks():
        start = time.perf_counter()
        report = ingester.ingest_objects(chunk, "2.1", "bench", options)
        seconds += time.perf_counter() - start
        assert report.count("stored") == len(chunk), report.summary()["rejections"][:3]
        done += len(chunk)
        if done % 200_000 == 0:
            print(
                f"# {mode}: {done:,} objects, {done / seconds:,.0f}/s", file=sys.stderr, flush=True
            )
    result: dict[str, Any] = {"seconds": seconds, "objects": done}
    if mode == "with":
        result |= measure(store, user, total, queries)
    if mode == "deferred":
        start = time.perf_counter()
        taken = 0
        while found := correlate_next(store.engine):  # the job's loop, without its budget
            taken += found
        result |= {"catch_up_seconds": time.perf_counter() - start, "caught_up": taken}
        with store.engine.connect() as conn:
            result["rows"] = conn.execute(text("SELECT count(*) FROM correlations")).scalar_one()
    store.close()
    return result


def measure(store: Any, user: Any, total: int, queries: int) -> dict[str, Any]:
    from sqlalchemy import text

    from accord.store.correlation.policy import policy_for
    from accord.store.correlation.read import Correlations

    cap = policy_for(store.engine).cap
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM correlations")).scalar_one()
        hubs = conn.execute(
            text("SELECT count(*), sum(CASE WHEN over THEN 1 ELSE 0 END) FROM correlation_hubs")
        ).one()
        widest = conn.execute(
            text(
                "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM correlations GROUP BY hub) t"
            )
        ).scalar_one()
        # What an uncapped pairwise store (one row a pair) would hold for same-value pairs alone.
        pairwise = conn.execute(
            text(
                "SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM (SELECT count(*) AS n FROM observables "
                "GROUP BY value HAVING count(*) > 1) t"
            )
        ).scalar_one()
    viewer = store.directory.viewer(user)
    reader = Correlations(store.engine)
    pick = random.Random(11)
    numbers = [pick.randrange(total) for _ in range(queries)]
    hot_ids = []
    for number in range(0, total, max(1, total // 2000)):
        hot_ids.append(number)
    ids = [f"indicator--{uuid.uuid5(NAMESPACE, str(n))}" for n in numbers]
    with store.engine.connect() as conn:
        for object_id in ids[:100]:  # warm up
            reader.of_object(viewer, object_id, connection=conn)
        times, listed, over = [], 0, 0
        for object_id in ids:
            start = time.perf_counter()
            found = reader.of_object(viewer, object_id, connection=conn)
            times.append(time.perf_counter() - start)
            assert found is not None
            listed += len(found.correlations)
            over += len(found.over_correlating)
        seqs = [
            int(
                conn.execute(
                    text("SELECT seq FROM objects WHERE id = :id AND is_latest"), {"id": i}
                ).scalar_one()
            )
            for i in ids
        ]
        bare = []
        driver = conn.connection.driver_connection
        mark = "%s" if conn.dialect.name == "postgresql" else "?"
        for seq in seqs:
            start = time.perf_counter()
            cursor = driver.cursor()
            cursor.execute(f"SELECT * FROM correlations WHERE seq = {mark}", (seq,))
            cursor.fetchall()
            cursor.close()
            bare.append(time.perf_counter() - start)
    return {
        "rows": int(rows),
        "hubs": int(hubs[0]),
        "over_hubs": int(hubs[1] or 0),
        "widest_hub_rows": int(widest),
        "cap": cap,
        "pairwise_rows": int(pairwise),
        "query_p50": statistics.median(times),
        "query_p99": statistics.quantiles(times, n=100)[98],
        "bare_p50": statistics.median(bare),
        "listed_per_query": listed / len(ids),
        "over_per_query": over / len(ids),
    }


def run_child(mode: str, url: str, total: int, queries: int) -> dict[str, Any]:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--url",
            url,
            "--objects",
            str(total),
            "--queries",
            str(queries),
        ],
        check=True,
        stdout=subprocess.PIPE,
    ).stdout
    return dict(orjson.loads(output.splitlines()[-1]))


def line(
    name: str,
    accord: float,
    anchor: float,
    unit: str,
    ratio: float,
    target: float,
    passed: bool,
    **extra: Any,
) -> dict[str, Any]:
    result = {
        "bench": name,
        "accord": round(accord, 6),
        "anchor": round(anchor, 6),
        "unit": unit,
        "ratio": round(ratio, 4),
        "target": target,
        "pass": passed,
        **extra,
    }
    print(orjson.dumps(result).decode(), flush=True)
    return result


def run(
    label: str, urls: tuple[str, ...], total: int, queries: int, defer: bool
) -> list[dict[str, Any]]:
    without = run_child("without", urls[0], total, queries)
    with_ = run_child("with", urls[1], total, queries)
    rate_with, rate_without = (
        with_["objects"] / with_["seconds"],
        without["objects"] / without["seconds"],
    )
    print(
        f"# {label}: {total:,} objects: {rate_without:,.0f}/s without correlation, {rate_with:,.0f}/s with; "
        f"{with_['rows']:,} correlation rows ({with_['rows'] / total:.3f} per object), {with_['hubs']:,} hubs "
        f"({with_['over_hubs']:,} over the cap); uncapped same-value pairs alone: {with_['pairwise_rows']:,} rows; "
        f"query p50 {with_['query_p50'] * 1e3:.3f} ms p99 {with_['query_p99'] * 1e3:.3f} ms "
        f"({with_['listed_per_query']:.2f} listed, {with_['over_per_query']:.3f} over-correlating per query)",
        file=sys.stderr,
    )
    results = [
        line(
            f"correlation.{label}.ingest",
            rate_with,
            rate_without,
            "objects/s",
            rate_with / rate_without,
            0.5,
            rate_with / rate_without >= 0.5,
        )
    ]
    bound = with_["widest_hub_rows"] <= with_["cap"] * (with_["cap"] + 1) // 2
    results.append(
        line(
            f"correlation.{label}.storage",
            with_["rows"] / total,
            with_["pairwise_rows"] / total,
            "rows/object",
            with_["rows"] / max(1, with_["pairwise_rows"]),
            with_["cap"],
            bound,
            widest_hub_rows=with_["widest_hub_rows"],
            over_hubs=with_["over_hubs"],
            note="anchor: rows an uncapped pairwise store needs for same-value pairs alone; target: rows per hub <= cap x (cap+1) / 2",
        )
    )
    results.append(
        line(
            f"correlation.{label}.query_p50",
            with_["query_p50"] * 1e3,
            with_["bare_p50"] * 1e3,
            "ms",
            with_["query_p50"] / with_["bare_p50"],
            5.0,
            with_["query_p50"] * 1e3 < 5.0,
            note="anchor: the bare indexed SELECT of the rows; target: p50 < 5 ms",
        )
    )
    if defer:
        results += deferred(label, urls[2], total, queries, rate_with, with_["rows"])
    return results


def deferred(
    label: str, url: str, total: int, queries: int, rate_with: float, rows_with: int
) -> list[dict[str, Any]]:
    """The bulk load: ingest with correlation deferred, then the catch-up, in a third store."""
    found = run_child("deferred", url, total, queries)
    rate = found["objects"] / found["seconds"]
    catch_up = found["caught_up"] / found["catch_up_seconds"]
    both = found["objects"] / (found["seconds"] + found["catch_up_seconds"])
    print(
        f"# {label}: deferred: {rate:,.0f} objects/s stored without correlation (inline: "
        f"{rate_with:,.0f}/s), backlog of {found['caught_up']:,} caught up at {catch_up:,.0f}/s; "
        f"the two together {both:,.0f} objects/s; {found['rows']:,} correlation rows "
        f"(inline: {rows_with:,})",
        file=sys.stderr,
    )
    return [
        line(
            f"correlation.{label}.deferred_ingest",
            rate,
            rate_with,
            "objects/s",
            rate / rate_with,
            1.0,
            rate >= rate_with,
            note="anchor: the inline ingest (with correlation); target: at least as fast",
        ),
        line(
            f"correlation.{label}.catch_up",
            catch_up,
            rate_with,
            "versions/s",
            catch_up / rate_with,
            0.0,
            found["rows"] == rows_with,
            rows=found["rows"],
            inline_rows=rows_with,
            ingest_and_catch_up=round(both, 1),
            note="anchor: the inline ingest (with correlation); pass: as many rows as inline",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--postgres", default=os.environ.get("ACCORD_BENCH_DATABASE_URL"))
    parser.add_argument("--quick", action="store_true", help="50,000 objects, 500 queries")
    parser.add_argument(
        "--defer-correlation",
        action="store_true",
        help="also a bulk load with correlation deferred, then its catch-up",
    )
    parser.add_argument("--child", choices=["with", "without", "deferred"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(orjson.dumps(child(args.child, args.url, args.objects, args.queries)).decode())
        return 0
    if args.quick:
        args.objects, args.queries = 50_000, 500
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results += run(
            "sqlite",
            (f"sqlite:///{tmp}/without.db", f"sqlite:///{tmp}/with.db", f"sqlite:///{tmp}/def.db"),
            args.objects,
            args.queries,
            args.defer_correlation,
        )
    if args.postgres:
        from ingest import pg_schema

        schemas = [pg_schema(args.postgres) for _ in range(3 if args.defer_correlation else 2)]
        try:
            urls = tuple(url for url, _ in schemas)
            results += run("postgresql", urls, args.objects, args.queries, args.defer_correlation)
        finally:
            for _, drop in schemas:
                drop()
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
