"""Look-up benchmark: 1,000,000 generated indicators (addresses, networks, domains, URLs,
hashes, with realistic overlaps) in SQLite and in PostgreSQL; single look-ups over HTTP with
keep-alive beside the same server's /health (the framework's floor) and beside the raw
indexed SQL query, in the same run; and a bulk look-up of 10,000 values.

Targets (issue 3): single look-up p50 <= 2x the /health p50; bulk 10,000 values < 0.5 s on
SQLite. Prints one JSON line per measure.

    .venv/bin/python bench/lookup.py [--indicators N] [--requests N] [--postgres URL]
        [--reuse DIR]

``--reuse DIR`` keeps the generated databases (SQLite in DIR, PostgreSQL in a schema named
after the indicator count) and the values and key that go with them, and reuses them on the
next run with the same ``--indicators``: the 1,000,000-indicator load takes minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.node import Store
from ingest import pg_schema

NAMESPACE = uuid.UUID("b3f6a0f2-6d3c-4f1e-9d1a-000000000003")
TLDS = ["com", "net", "org", "io", "ru", "cn", "info", "xyz", "top", "example"]


def line(
    name: str, accord: float, anchor: float, unit: str, target: float, lower: bool
) -> dict[str, Any]:
    """``lower``: the measure is a time (Accord/anchor must stay at or under the target)."""
    ratio = accord / anchor if lower else anchor / accord
    result = {
        "bench": name,
        "accord": round(accord, 6),
        "anchor": round(anchor, 6),
        "unit": unit,
        "ratio": round(ratio, 3),
        "target": target,
        "pass": ratio <= target if lower else ratio >= target,
    }
    print(orjson.dumps(result).decode(), flush=True)
    return result


class Generator:
    """Values with the overlaps real feeds have: shared networks, subdomains of a few hot
    domains, URLs on known hosts, the same hash in several reports."""

    def __init__(self, seed: int = 7) -> None:
        self.random = random.Random(seed)
        self.domains = [self._domain() for _ in range(20_000)]

    def _domain(self) -> str:
        letters = "abcdefghijklmnopqrstuvwxyz0123456789"
        name = "".join(self.random.choice(letters) for _ in range(self.random.randint(5, 14)))
        return f"{name}.{self.random.choice(TLDS)}"

    def ip(self) -> str:
        r = self.random
        return f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def value(self) -> tuple[str, str]:
        r = self.random.random()
        if r < 0.38:
            return "ipv4-addr:value", self.ip()
        if r < 0.43:
            # Networks as block lists publish them: mostly /24, some /20 and /16, no /8.
            a, b = self.random.randint(1, 223), self.random.randint(0, 255)
            c = self.random.randint(0, 255)
            prefix = self.random.choice([16, 20, 24, 24, 24, 24])
            network = {
                16: f"{a}.{b}.0.0/16",
                20: f"{a}.{b}.{c & 0xF0}.0/20",
                24: f"{a}.{b}.{c}.0/24",
            }
            return "ipv4-addr:value", network[prefix]
        if r < 0.70:
            base = self.random.choice(self.domains)
            if self.random.random() < 0.5:
                return "domain-name:value", f"{self._domain().split('.')[0]}.{base}"
            return "domain-name:value", self._domain()
        if r < 0.85:
            host = self.random.choice(self.domains)
            return (
                "url:value",
                f"http://{host}/{uuid.UUID(int=self.random.getrandbits(128)).hex[:10]}.php",
            )
        digest = hashlib.sha256(self.random.getrandbits(64).to_bytes(8, "big")).hexdigest()
        if self.random.random() < 0.3:
            return "file:hashes.MD5", digest[:32]
        return "file:hashes.'SHA-256'", digest

    def indicators(self, count: int) -> tuple[list[dict[str, Any]], list[str]]:
        objects: list[dict[str, Any]] = []
        values: list[str] = []
        for number in range(count):
            if values and self.random.random() < 0.05:  # the same value reported again
                path, value = "ipv4-addr:value", values[self.random.randrange(len(values))]
                if not value[0].isdigit() or "/" in value:
                    path, value = self.value()
            else:
                path, value = self.value()
            values.append(value)
            objects.append(
                {
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": f"indicator--{uuid.uuid5(NAMESPACE, str(number))}",
                    "created": "2026-01-01T00:00:00.000Z",
                    "modified": "2026-01-01T00:00:00.000Z",
                    "pattern": f"[{path} = '{value}']",
                    "pattern_type": "stix",
                    "valid_from": "2026-01-01T00:00:00Z",
                    "confidence": self.random.choice([30, 50, 70, 90]),
                }
            )
        return objects, values

    def queries(self, known: list[str], count: int) -> list[str]:
        """Half values that are stored, half that are not (addresses inside stored
        networks and subdomains of stored domains among them)."""
        found = []
        for _ in range(count):
            if self.random.random() < 0.5:
                found.append(self.random.choice(known))
            elif self.random.random() < 0.5:
                found.append(self.ip())
            else:
                found.append(f"www.{self.random.choice(self.domains)}")
        return found


def analyse(store: Store) -> None:
    """PostgreSQL: refresh the planner's statistics after the load, as autovacuum would do
    a little later (right after a bulk load it still believes the tables small)."""
    if store.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with store.engine.begin() as conn:
            conn.execute(
                text("ANALYZE objects, observables, object_audience, object_refs, correlations")
            )


def load(url: str, count: int, saved: Path | None = None) -> tuple[list[str], str, float]:
    """Generate and store ``count`` indicators; with ``saved``, reuse (or keep) a load."""
    if saved is not None and saved.exists():
        kept = orjson.loads(saved.read_bytes())
        store = Store.open(url)
        store.init()  # migrations added since the load
        analyse(store)
        store.close()
        return kept["values"], kept["key"], 0.0
    store = Store.open(url)
    store.init()
    store.directory.add_org("Bench CERT")
    user, key = store.directory.add_user("bench@cert.example", "Bench CERT", Role.ANALYST)
    generator = Generator()
    values: list[str] = []
    ingester = Ingester(store, user)
    start = time.perf_counter()
    chunk = 50_000
    for offset in range(0, count, chunk):
        objects, chunk_values = generator.indicators(min(chunk, count - offset))
        for obj, number in zip(objects, range(offset, offset + len(objects)), strict=True):
            obj["id"] = f"indicator--{uuid.uuid5(NAMESPACE, str(number))}"
        values.extend(chunk_values)
        report = ingester.ingest_objects(objects, "2.1", "bench", IngestOptions(tlp=Tlp.GREEN))
        assert report.count("stored") == len(objects), report.summary()["rejections"][:3]
        print(f"# loaded {offset + len(objects):,} indicators", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - start
    analyse(store)
    store.close()
    if saved is not None:
        saved.write_bytes(orjson.dumps({"values": values, "key": key}))
    return values, key, elapsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


UNLIMITED = {"ACCORD_RATE_BURST": "100000000", "ACCORD_RATE_PER_SECOND": "100000000"}


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "accord.cli.main", "--db", url, "serve", "--port", str(port)],
        env=os.environ | UNLIMITED,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, healthy(process, f"http://127.0.0.1:{port}", 20)


def healthy(process: subprocess.Popen[bytes], base: str, seconds: float) -> str:
    """``base`` once the server there answers /health; the server killed if it does not
    within about ``seconds``."""
    for _ in range(int(seconds * 10)):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def latencies(client: httpx.Client, path: str, params: list[dict[str, str]]) -> list[float]:
    times = []
    for query in params:
        start = time.perf_counter()
        response = client.get(path, params=query)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
    return times


def alternating_latencies(
    client: httpx.Client, queries: list[str], rounds: int = 10
) -> tuple[list[float], list[float]]:
    """/health and the look-ups in alternating blocks (``rounds`` of each), so that a machine
    that slows down or speeds up during the run moves the floor and the look-up alike. Blocks,
    not single requests side by side: work a look-up leaves behind (the WAL checkpoint after
    its audit entry) would otherwise land in the next /health and raise the floor."""
    health: list[float] = []
    single: list[float] = []
    size = max(1, len(queries) // rounds)
    for start in range(0, len(queries), size):
        block = queries[start : start + size]
        health.extend(latencies(client, "/health", [{}] * len(block)))
        single.extend(latencies(client, "/api/v1/lookup", [{"value": v} for v in block]))
    return health, single


def percentile(times: list[float], p: float) -> float:
    return statistics.quantiles(times, n=100)[int(p) - 1] if p < 100 else max(times)


def raw_sql_times(url: str, queries: list[str]) -> list[float]:
    """The index query alone, outside the server: the floor of the database."""
    sql = (
        "SELECT o.raw FROM observables ob JOIN objects o ON o.seq = ob.seq "
        "WHERE ob.value = {mark} AND o.is_latest"
    )
    times = []
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        for value in queries:
            start = time.perf_counter()
            conn.execute(sql.format(mark="?"), (value,)).fetchall()
            times.append(time.perf_counter() - start)
        conn.close()
    else:
        import psycopg

        conninfo = url.replace("postgresql://", "postgresql://", 1)
        base, _, query = conninfo.partition("?")
        options = dict(part.split("=", 1) for part in query.split("&") if part)
        with psycopg.connect(base, options=options.get("options", "").replace("%3D", "=")) as conn:
            for value in queries:
                start = time.perf_counter()
                conn.execute(sql.format(mark="%s"), (value,)).fetchall()
                times.append(time.perf_counter() - start)
    return times


def run(
    label: str, url: str, count: int, requests: int, bulk: int, saved: Path | None = None
) -> list[dict[str, Any]]:
    values, key, load_seconds = load(url, count, saved)
    if load_seconds:
        print(
            f"# {label}: {count:,} indicators loaded in {load_seconds:.1f} s "
            f"({count / load_seconds:,.0f}/s)",
            file=sys.stderr,
        )
    else:
        print(f"# {label}: reusing {count:,} indicators from {saved}", file=sys.stderr)
    generator = Generator(seed=11)
    generator.domains = [v for v in values if "." in v and "/" not in v and not v[0].isdigit()][
        :20_000
    ] or generator.domains
    queries = generator.queries(values, requests)
    process, base = serve(url)
    results = []
    try:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ) as client:
            latencies(client, "/health", [{}] * 200)  # warm up
            latencies(client, "/api/v1/lookup", [{"value": v} for v in queries[:200]])
            health, single = alternating_latencies(client, queries)
            health_p50, lookup_p50 = percentile(health, 50), percentile(single, 50)
            print(
                f"# {label}: /health p50 {health_p50 * 1e3:.3f} ms p99 {percentile(health, 99) * 1e3:.3f} ms; "
                f"look-up p50 {lookup_p50 * 1e3:.3f} ms p99 {percentile(single, 99) * 1e3:.3f} ms",
                file=sys.stderr,
            )
            results.append(
                line(
                    f"lookup.{label}.single_p50_vs_health",
                    lookup_p50 * 1e3,
                    health_p50 * 1e3,
                    "ms",
                    2.0,
                    lower=True,
                )
            )
            print(
                orjson.dumps(
                    {
                        "bench": f"lookup.{label}.single_p99",
                        "accord": round(percentile(single, 99) * 1e3, 3),
                        "unit": "ms",
                    }
                ).decode()
            )
            raw = raw_sql_times(url, queries)
            raw_p50 = percentile(raw, 50)
            print(
                orjson.dumps(
                    {
                        "bench": f"lookup.{label}.raw_sql_p50",
                        "accord": round(lookup_p50 * 1e3, 3),
                        "anchor": round(raw_p50 * 1e3, 3),
                        "unit": "ms",
                        "ratio": round(lookup_p50 / raw_p50, 1),
                        "note": "HTTP look-up with verdict, context and audit, beside the bare indexed SQL",
                    }
                ).decode()
            )
            batch = generator.queries(values, bulk)
            body = orjson.dumps({"values": batch})
            client.post(
                "/api/v1/lookup", content=body, headers={"Content-Type": "application/json"}
            )
            times = []
            for _ in range(3):
                start = time.perf_counter()
                response = client.post(
                    "/api/v1/lookup", content=body, headers={"Content-Type": "application/json"}
                )
                times.append(time.perf_counter() - start)
                assert response.status_code == 200 and len(response.json()["answers"]) == bulk
            best = min(times)
            print(f"# {label}: bulk {bulk:,} values in {best:.3f} s", file=sys.stderr)
            if label == "sqlite":
                results.append(line(f"lookup.{label}.bulk_{bulk}", best, 0.5, "s", 1.0, lower=True))
            else:
                print(
                    orjson.dumps(
                        {
                            "bench": f"lookup.{label}.bulk_{bulk}",
                            "accord": round(best, 3),
                            "unit": "s",
                        }
                    ).decode()
                )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--bulk", type=int, default=10_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("ACCORD_BENCH_DATABASE_URL")
        or os.environ.get("ACCORD_TEST_DATABASE_URL"),
    )
    parser.add_argument("--quick", action="store_true", help="20,000 indicators, 300 requests")
    parser.add_argument(
        "--reuse",
        type=Path,
        metavar="DIR",
        help="keep the generated databases (and reuse them next time) with their values in DIR",
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    if args.quick:
        args.indicators, args.requests, args.bulk = 20_000, 300, 2_000
    results = []
    count = args.indicators
    if not args.skip_sqlite:
        if args.reuse is not None:
            args.reuse.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{args.reuse.resolve()}/lookup-{count}.db"
            saved = args.reuse / f"lookup-{count}.sqlite.json"
            if not saved.exists():  # a load that did not finish starts again
                for suffix in ("", "-wal", "-shm"):
                    (args.reuse / f"lookup-{count}.db{suffix}").unlink(missing_ok=True)
            results += run("sqlite", url, count, args.requests, args.bulk, saved)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{tmp}/lookup.db"
                results += run("sqlite", url, count, args.requests, args.bulk)
    if args.postgres:
        if args.reuse is not None:
            url, saved = kept_pg_schema(args.postgres, count, args.reuse)
            results += run("postgresql", url, count, args.requests, args.bulk, saved)
        else:
            url, drop = pg_schema(args.postgres)
            try:
                results += run("postgresql", url, count, args.requests, args.bulk)
            finally:
                drop()
    return 0 if all(r["pass"] for r in results) else 1


def kept_pg_schema(url: str, count: int, directory: Path) -> tuple[str, Path]:
    """A schema kept between runs (``--reuse``), and the file that says it is loaded."""
    from sqlalchemy import create_engine, text

    schema = f"bench_lookup_{count}"
    saved = directory / f"lookup-{count}.postgresql.json"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        if not saved.exists():  # a load that did not finish starts again
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
    admin.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}", saved


if __name__ == "__main__":
    sys.exit(main())
