"""Load benchmark: audited single look-ups under concurrency on PostgreSQL.

``accord serve --workers 2`` on a PostgreSQL store with N generated indicators (bench/lookup.py's
generator: addresses, networks, domains, URLs, hashes), then, in the same run:

1. one client, sequentially: /health, single look-ups and one durable ``INSERT`` committed on
   the same PostgreSQL server, in alternating blocks. Target (issue 21): look-up p50 <=
   2 x (/health p50 + commit p50): a look-up's audit entry is evidence, committed (the WAL
   flushed) before it is answered, so the floor counts that commit.
2. 32 concurrent clients (an asyncio load generator, keep-alive connections) for a duration, against
   /health and then against single look-ups (half values that are stored, half not):
   requests/s, p50/p99, errors. Target: audited look-ups/s >= 0.5 x /health requests/s at the
   same concurrency (the audit entries of look-ups that arrive together share one commit:
   `accord.store.audit_group`).
3. afterwards ``accord audit verify`` passes, with exactly one look-up entry per answered
   look-up.

Prints one JSON line per measure; exit code 1 if a target is missed, a request failed or the
audit log is not exact.

    .venv/bin/python bench/load.py [--indicators N] [--duration S] [--clients N]
        [--postgres URL | --database-url URL] [--quick]

``--postgres`` (default $ACCORD_BENCH_DATABASE_URL or $ACCORD_TEST_DATABASE_URL): the server;
the bench loads a schema of its own there and drops it afterwards. ``--database-url``: a store
that already holds its indicators (bench/scale.py's, say), used as it is: the bench adds a
user of its own, and looks up values sampled from the store.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accord.model.roles import Role
from accord.store.node import Store
from ingest import pg_schema
from lookup import UNLIMITED, Generator, free_port, healthy, latencies, line, load, percentile

LOOKUP = "/api/v1/lookup"
APPLICATION = "accord-load-bench"  # the server's connections, told apart in pg_stat_activity
SEQUENTIAL_BLOCKS = 10


@dataclass
class Answered:
    """Look-ups the server answered (each must have left one audit entry)."""

    count: int = 0

    def add(self, statuses: list[int]) -> None:
        self.count += sum(1 for status in statuses if status in (200, 422))


@dataclass
class Phase:
    """What one concurrent phase measured."""

    requests: int
    seconds: float
    times: list[float]
    errors: int
    client_cpu: float  # the load generator's CPU seconds per wall second
    statuses: list[int] = field(default_factory=list)
    server_cpu_ms: float = 0.0  # the server's workers' CPU per request
    database_cpu_ms: float = 0.0  # its PostgreSQL server processes' CPU per request

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def serve(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """``accord serve --workers N`` without background jobs or the bulk helper (neither
    serves single look-ups), the rate limit out of the way."""
    port = free_port()
    url = f"{url}{'&' if '?' in url else '?'}application_name={APPLICATION}"
    command = [sys.executable, "-m", "accord.cli.main", "--db", url, "serve"]
    command += ["--port", str(port), "--workers", str(workers), "--no-jobs", "--no-bulk-helper"]
    process = subprocess.Popen(command, env=os.environ | UNLIMITED, stdout=subprocess.DEVNULL)
    return process, healthy(process, f"http://127.0.0.1:{port}", 60)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM: the workers finish their requests and commit the audit entries queued."""
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants (the server's workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user and system) the processes ``pids`` have used, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def backends(url: str) -> list[int]:
    """The PostgreSQL server processes of the bench's server (by its application name)."""
    with psycopg.connect(server_url(url)) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (APPLICATION,)
        )
        return [int(row[0]) for row in rows]


def server_url(url: str) -> str:
    """The database URL without the schema option: the same server and database."""
    return url.partition("?")[0]


@contextmanager
def commit_probe(url: str) -> Iterator[Callable[[int], list[float]]]:
    """Times of one durable INSERT each (autocommit: the statement is its own transaction,
    committed, its WAL flushed, in one round trip), into a table of a scratch schema on the
    same server."""
    schema = f"bench_commit_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url(url), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(
            f"CREATE TABLE {schema}.probe (id bigserial PRIMARY KEY, at timestamptz "
            "NOT NULL DEFAULT now(), value text NOT NULL)"
        )
        insert = f"INSERT INTO {schema}.probe (value) VALUES (%s)"
        try:

            def times(count: int) -> list[float]:
                taken = []
                for number in range(count):
                    start = time.perf_counter()
                    conn.execute(insert, (f"entry {number}",))
                    taken.append(time.perf_counter() - start)
                return taken

            yield times
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def durability(url: str) -> dict[str, str]:
    with psycopg.connect(server_url(url)) as conn:
        return {
            name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("synchronous_commit", "fsync", "wal_sync_method")
        }


def sequential(
    client: httpx.Client,
    queries: list[str],
    commits: Callable[[int], list[float]],
    answered: Answered,
) -> tuple[list[float], list[float], list[float]]:
    """/health, look-ups and durable commits in alternating blocks, so that a machine that
    slows down or speeds up during the run moves the floor and the look-up alike."""
    health: list[float] = []
    single: list[float] = []
    commit: list[float] = []
    size = max(1, len(queries) // SEQUENTIAL_BLOCKS)
    for start in range(0, len(queries), size):
        block = queries[start : start + size]
        health.extend(latencies(client, "/health", [{}] * len(block)))
        single.extend(latencies(client, LOOKUP, [{"value": v} for v in block]))
        answered.add([200] * len(block))  # latencies() asserts each was 200
        commit.extend(commits(len(block)))
    return health, single, commit


class Connection:
    """One keep-alive HTTP/1.1 connection of the load generator: a request written whole, the
    response read by its Content-Length. Made for this job: httpx's AsyncClient tops out at a
    few hundred requests a second here, whatever the server (encode/httpx#3215), and the
    measure would be the client's."""

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, target: str) -> int:
        """The status of GET ``target`` (path and query, quoted)."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(b"GET " + target.encode() + b" HTTP/1.1\r\n" + self.head)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close = 0, False
        for header in lines[1:]:
            name, _, value = header.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
            elif name == b"transfer-encoding":
                raise RuntimeError("a chunked response: not expected from these routes")
        await reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        if self.streams is not None:
            writer = self.streams[1]
            self.streams = None
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()


async def concurrent(
    base: str, key: str, path: str, queries: list[str], clients: int, seconds: float
) -> Phase:
    """``clients`` connections, each sending its next request as soon as the last one is
    answered, for ``seconds``."""
    address = httpx.URL(base)
    host, port = str(address.host), int(address.port or 80)
    targets = [f"{path}?value={quote(value, safe='')}" for value in queries] or [path]
    times: list[float] = []
    statuses: list[int] = []
    errors = 0
    deadline = 0.0

    async def one_client(number: int) -> None:
        nonlocal errors
        connection = Connection(host, port, key)
        position = number * 7919
        try:
            while time.perf_counter() < deadline:
                target = targets[position % len(targets)]
                position += 1
                start = time.perf_counter()
                try:
                    status = await connection.get(target)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    await connection.close()
                    continue
                times.append(time.perf_counter() - start)
                statuses.append(status)
                if status != 200:
                    errors += 1
        finally:
            await connection.close()

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(one_client(number) for number in range(clients)))
    elapsed = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime) / elapsed
    return Phase(len(times), elapsed, times, errors, client_cpu, statuses)


def run_loop(
    coroutine: Any, server: list[int] | None = None, database: list[int] | None = None
) -> Phase:
    """Run a phase; with the server's and its database processes' ids, what CPU they used
    per request."""
    server, database = server or [], database or []
    used = cpu_seconds(server), cpu_seconds(database)
    try:
        import uvloop

        result: Phase = uvloop.run(coroutine)
    except ImportError:
        result = asyncio.run(coroutine)
    if result.requests:
        result.server_cpu_ms = (cpu_seconds(server) - used[0]) / result.requests * 1e3
        result.database_cpu_ms = (cpu_seconds(database) - used[1]) / result.requests * 1e3
    return result


def phase_line(name: str, phase: Phase, clients: int) -> None:
    print(
        orjson.dumps(
            {
                "bench": name,
                "accord": round(phase.per_second, 1),
                "unit": "req/s",
                "clients": clients,
                "requests": phase.requests,
                "seconds": round(phase.seconds, 2),
                "p50_ms": round(percentile(phase.times, 50) * 1e3, 3),
                "p99_ms": round(percentile(phase.times, 99) * 1e3, 3),
                "errors": phase.errors,
                "client_cpu": round(phase.client_cpu, 2),
                "server_cpu_ms": round(phase.server_cpu_ms, 3),
                "database_cpu_ms": round(phase.database_cpu_ms, 3),
            }
        ).decode(),
        flush=True,
    )


def lookup_entries(url: str) -> int:
    store = Store.open(url)
    try:
        with store.engine.connect() as conn:
            found = conn.exec_driver_sql("SELECT count(*) FROM audit_log WHERE action = 'lookup'")
            return int(found.scalar_one())
    finally:
        store.close()


def audit_verify(url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "accord.cli.main", "--db", url, "audit", "verify", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    report: dict[str, Any] = orjson.loads(done.stdout) if done.stdout.strip() else {}
    report["exit_code"] = done.returncode
    return report


def existing(url: str, count: int) -> tuple[list[str], str]:
    """A loaded store: values sampled from what it holds, and the key of a user of its own."""
    store = Store.open(url)
    try:
        store.init()  # migrations added since it was loaded
        with store.engine.connect() as conn:
            sample = "SELECT value FROM observables TABLESAMPLE SYSTEM (1) LIMIT :n"
            values = [str(v[0]) for v in conn.exec_driver_sql(sample.replace(":n", str(count)))]
            if len(values) < min(count, 1000):  # a small store: 1% of its pages is too few
                rows = conn.exec_driver_sql(f"SELECT value FROM observables LIMIT {int(count)}")
                values = [str(v[0]) for v in rows]
        org = "Load bench"
        try:
            store.directory.org(org)
        except Exception:
            store.directory.add_org(org)
        email = f"load-{uuid.uuid4().hex[:8]}@bench.example"
        _, key = store.directory.add_user(email, org, Role.ANALYST)
    finally:
        store.close()
    if not values:
        raise SystemExit(f"{url} holds no indicators to look up")
    return values, key


def taxii_paging(base: str, key: str, count: int) -> dict[str, Any]:
    """TAXII objects/s for sizing (docs/sizing.md): the first ``count`` objects of the node's
    collection paged at limit 1,000 by one client, as a peer or a sensor pulls them."""
    from accord.federation.taxii_client import TaxiiClient
    from accord.taxii.collections import DEFAULT_ID

    seen = 0
    start = time.perf_counter()
    with TaxiiClient(f"{base}/taxii2/accord/", key=key) as client:
        for page in client.pages(DEFAULT_ID, limit=1000):
            seen += len(page.objects)
            if seen >= count:
                break
    took = time.perf_counter() - start
    result = {
        "bench": "load.postgresql.taxii_paging",
        "objects": seen,
        "seconds": round(took, 2),
        "objects_per_s": round(seen / took),
        "pass": seen > 0,
    }
    print(orjson.dumps(result).decode(), flush=True)
    return result


def run(args: argparse.Namespace, url: str, reused: bool) -> list[dict[str, Any]]:
    if reused:
        values, key = existing(url, 20_000)
        print(f"# reusing the store at its URL: {len(values):,} values sampled", file=sys.stderr)
    else:
        values, key, seconds = load(url, args.indicators)
        print(
            f"# {args.indicators:,} indicators loaded in {seconds:.1f} s "
            f"({args.indicators / seconds:,.0f}/s)",
            file=sys.stderr,
        )
    generator = Generator(seed=11)
    generator.domains = [v for v in values if "." in v and "/" not in v and not v[0].isdigit()][
        :20_000
    ] or generator.domains
    queries = generator.queries(values, max(args.requests, 20_000))
    settings = durability(url)
    print(f"# PostgreSQL {settings}", file=sys.stderr)
    before = lookup_entries(url)
    answered = Answered()
    results: list[dict[str, Any]] = []
    process, base = serve(url, args.workers)
    try:
        with (
            httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as client,
            commit_probe(url) as commits,
        ):
            latencies(client, "/health", [{}] * 200)  # warm up both workers
            warm = queries[-200:]
            latencies(client, LOOKUP, [{"value": v} for v in warm])
            answered.add([200] * len(warm))
            commits(50)
            health, single, commit = sequential(client, queries[: args.requests], commits, answered)
        health_p50, lookup_p50, commit_p50 = (percentile(t, 50) for t in (health, single, commit))
        print(
            f"# sequential: /health p50 {health_p50 * 1e3:.3f} ms; durable INSERT p50 "
            f"{commit_p50 * 1e3:.3f} ms; look-up p50 {lookup_p50 * 1e3:.3f} ms "
            f"p99 {percentile(single, 99) * 1e3:.3f} ms",
            file=sys.stderr,
        )
        results.append(
            line(
                "load.postgresql.single_p50_vs_health_plus_commit",
                lookup_p50 * 1e3,
                (health_p50 + commit_p50) * 1e3,
                "ms",
                2.0,
                lower=True,
            )
        )
        print(
            orjson.dumps(
                {
                    "bench": "load.postgresql.single_parts",
                    "health_p50_ms": round(health_p50 * 1e3, 3),
                    "commit_p50_ms": round(commit_p50 * 1e3, 3),
                    "lookup_p99_ms": round(percentile(single, 99) * 1e3, 3),
                    "unit": "ms",
                    "note": "commit: one INSERT, its own transaction, on the same server",
                    **settings,
                }
            ).decode(),
            flush=True,
        )
        clients, seconds = args.clients, args.duration
        warm_up = min(5.0, seconds / 4)
        run_loop(concurrent(base, key, "/health", [], clients, warm_up))
        server, database = process_tree(process.pid), backends(url)
        health_phase = run_loop(
            concurrent(base, key, "/health", [], clients, seconds), server, database
        )
        phase_line(f"load.postgresql.health_{clients}", health_phase, clients)
        warm_phase = run_loop(concurrent(base, key, LOOKUP, queries, clients, warm_up))
        answered.add(warm_phase.statuses)
        database = backends(url)  # with the look-up threads' and committers' connections
        lookup_phase = run_loop(
            concurrent(base, key, LOOKUP, queries, clients, seconds), server, database
        )
        answered.add(lookup_phase.statuses)
        phase_line(f"load.postgresql.lookup_{clients}", lookup_phase, clients)
        ratio = lookup_phase.per_second / health_phase.per_second
        result = {
            "bench": f"load.postgresql.lookups_vs_health_{clients}",
            "accord": round(lookup_phase.per_second, 1),
            "anchor": round(health_phase.per_second, 1),
            "unit": "req/s",
            "ratio": round(ratio, 3),
            "target": 0.5,
            "pass": ratio >= 0.5,
        }
        print(orjson.dumps(result).decode(), flush=True)
        results.append(result)
        errors = health_phase.errors + warm_phase.errors + lookup_phase.errors
        if args.taxii:
            results.append(taxii_paging(base, key, args.taxii))
    finally:
        stop(process)
    entries = lookup_entries(url) - before
    verified = audit_verify(url)
    exact = verified.get("ok") is True and verified["exit_code"] == 0 and entries == answered.count
    print(
        orjson.dumps(
            {
                "bench": "load.postgresql.audit",
                "answered": answered.count,
                "lookup_entries": entries,
                "verify_ok": verified.get("ok"),
                "verified_entries": verified.get("entries"),
                "errors": errors,
                "exact": exact,
                "pass": exact and errors == 0,
            }
        ).decode(),
        flush=True,
    )
    results.append({"pass": exact and errors == 0})
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=2000, help="sequential look-ups")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("ACCORD_BENCH_DATABASE_URL")
        or os.environ.get("ACCORD_TEST_DATABASE_URL"),
        help="the PostgreSQL server (a schema of the bench's own is loaded and dropped)",
    )
    parser.add_argument(
        "--database-url", help="a PostgreSQL store that already holds its indicators"
    )
    parser.add_argument(
        "--quick", action="store_true", help="5,000 indicators, 300 look-ups, 3 s phases"
    )
    parser.add_argument(
        "--taxii",
        type=int,
        default=0,
        metavar="N",
        help="also page N objects over TAXII at limit 1,000 (objects/s, for sizing)",
    )
    args = parser.parse_args()
    if args.quick:
        args.indicators, args.requests, args.duration = 5_000, 300, 3.0
    if args.database_url:
        results = run(args, args.database_url, reused=True)
    elif args.postgres:
        url, drop = pg_schema(args.postgres)
        try:
            results = run(args, url, reused=False)
        finally:
            drop()
    else:
        print("# no PostgreSQL: pass --postgres or set ACCORD_TEST_DATABASE_URL", file=sys.stderr)
        return 2
    return 0 if all(result["pass"] for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
