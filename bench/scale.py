"""Scale benchmark (issue 21): ingest ``--count`` generated indicators (10,000,000 by default)
in batches of 10,000 into PostgreSQL or SQLite, and show that ingest stays flat as the store
grows.

The indicators come from a fixed seed with the mix real feeds have: addresses, networks,
domains, URLs, hashes (MD5, SHA-1, SHA-256) and e-mail addresses, and 10% of them carry a value
another indicator already carried, so that correlations exist and the correlation hook works.

Target: the rate over the last million is at least half the rate over the first million (with
fewer than 2,000,000 indicators the first and last tenth are compared). Printed, one JSON line
each: the rate per million (or per tenth), the ratio, total time, disk per million objects
(PostgreSQL: the schema's tables and indexes; SQLite: the file with its WAL) and peak RSS.

    .venv/bin/python bench/scale.py --postgres postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/scale.py --sqlite /path/scale.db
    .venv/bin/python bench/scale.py --quick            # 40,000 on both, for the smoke test

``--keep`` leaves the store (PostgreSQL: schema ``scale_<count>``) for bench/load.py;
``--profile`` adds, every ``--profile`` batches, the ten statements that took longest in that
stretch (time spent in the database driver, summed per statement text): the way to see which
query grows with the store (then ``EXPLAIN (ANALYZE, BUFFERS)`` it).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accord.ingest.stix import Ingester, IngestOptions
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.store.node import Store

NAMESPACE = uuid.UUID("b3f6a0f2-6d3c-4f1e-9d1a-000000000021")
TLDS = ["com", "net", "org", "io", "ru", "cn", "info", "xyz", "top", "de", "fr", "br"]
BATCH = 10_000
MILLION = 1_000_000


def emit(line: dict[str, Any]) -> None:
    print(orjson.dumps(line).decode(), flush=True)


class Indicators:
    """Indicators from a fixed seed: the same ``count`` gives the same objects every run."""

    MIX = (  # (share, kind): roughly what national feeds carry
        (0.30, "ipv4"),
        (0.04, "network"),
        (0.02, "ipv6"),
        (0.24, "domain"),
        (0.14, "url"),
        (0.21, "hash"),
        (0.05, "email"),
    )

    KINDS = tuple(kind for _, kind in MIX)
    WEIGHTS = tuple(share for share, _ in MIX)

    def __init__(self, seed: int = 21, shared: float = 0.10) -> None:
        self.random = random.Random(seed)
        self.shared = shared
        self.hosts = [self._label() + "." + self.random.choice(TLDS) for _ in range(50_000)]
        self.recent: list[tuple[str, str]] = []  # values to share again (a bounded pool)
        self.number = 0

    def _label(self) -> str:
        r = self.random
        return "".join(
            r.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(r.randint(5, 14))
        )

    def _value(self) -> tuple[str, str]:
        r = self.random
        kind = r.choices(self.KINDS, self.WEIGHTS)[0]
        if kind == "ipv4":
            return (
                "ipv4-addr:value",
                f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
            )
        if kind == "network":
            a, b, c = r.randint(1, 223), r.randint(0, 255), r.randint(0, 255)
            prefix = r.choice([16, 20, 24, 24, 24, 24])
            mask = {16: 0, 20: c & 0xF0, 24: c}[prefix]
            third = f"{mask}" if prefix != 16 else "0"
            return "ipv4-addr:value", f"{a}.{b}.{third}.0/{prefix}"
        if kind == "ipv6":
            return "ipv6-addr:value", "2001:db8:" + ":".join(
                f"{r.getrandbits(16):x}" for _ in range(6)
            )
        if kind == "domain":
            base = r.choice(self.hosts)
            return (
                "domain-name:value",
                f"{self._label()}.{base}"
                if r.random() < 0.5
                else f"{self._label()}.{r.choice(TLDS)}",
            )
        if kind == "url":
            return "url:value", f"http://{r.choice(self.hosts)}/{r.getrandbits(40):010x}.php"
        if kind == "email":
            return "email-addr:value", f"{self._label()}@{r.choice(self.hosts)}"
        digest = hashlib.sha256(r.getrandbits(64).to_bytes(8, "big")).hexdigest()
        algorithm = r.random()
        if algorithm < 0.3:
            return "file:hashes.MD5", digest[:32]
        if algorithm < 0.45:
            return "file:hashes.'SHA-1'", digest[:40]
        return "file:hashes.'SHA-256'", digest

    def batch(self, size: int) -> list[dict[str, Any]]:
        r = self.random
        objects = []
        for _ in range(size):
            if self.recent and r.random() < self.shared:
                path, value = r.choice(self.recent)  # another member saw it too
            else:
                path, value = self._value()
                if len(self.recent) < 100_000:
                    self.recent.append((path, value))
                else:
                    self.recent[r.randrange(100_000)] = (path, value)
            escaped = value.replace("\\", "\\\\").replace("'", "\\'")
            objects.append(
                {
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": f"indicator--{uuid.uuid5(NAMESPACE, str(self.number))}",
                    "created": "2026-01-01T00:00:00.000Z",
                    "modified": "2026-01-01T00:00:00.000Z",
                    "name": f"{path.split(':')[0]} {value}"[:80],
                    "pattern": f"[{path} = '{escaped}']",
                    "pattern_type": "stix",
                    "valid_from": "2026-01-01T00:00:00Z",
                    "indicator_types": ["malicious-activity"],
                    "confidence": r.choice([30, 50, 70, 90]),
                }
            )
            self.number += 1
        return objects


class StatementProfile:
    """Time spent per statement text in the driver, for ``--profile``."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.spent: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.slowest: dict[str, tuple[float, str, Any]] = {}  # key -> (seconds, sql, params)
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("_bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started = conn.info["_bench_started"].pop()
        key = " ".join(statement.split())[:160]
        took = time.perf_counter() - started
        self.spent[key] += took
        self.calls[key] += 1
        if took > self.slowest.get(key, (0.0, "", None))[0]:
            self.slowest[key] = (took, statement, args[0] if args else None)

    def report(self, at: int) -> None:
        top = sorted(self.spent.items(), key=lambda item: -item[1])[:10]
        emit(
            {
                "profile_at": at,
                "top": [
                    {"seconds": round(s, 3), "calls": self.calls[k], "statement": k} for k, s in top
                ],
            }
        )
        if self.engine.dialect.name == "postgresql":
            for key, _ in top[:3]:
                self._explain(key)
        self.spent.clear()
        self.calls.clear()
        self.slowest.clear()

    def _explain(self, key: str) -> None:
        """``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest run of a read statement, again."""
        took, statement, params = self.slowest[key]
        if not statement.lstrip().upper().startswith("SELECT"):
            return
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plan = [row[0] for row in cursor.fetchall()]
            raw.rollback()
        finally:
            raw.close()
        emit({"explain": key, "seconds_then": round(took, 3), "plan": plan})


def disk_bytes(store: Store, sqlite_path: Path | None) -> int:
    if sqlite_path is not None:
        return sum(
            p.stat().st_size for p in sqlite_path.parent.glob(sqlite_path.name + "*") if p.is_file()
        )
    with store.engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            )
        ).scalar_one()
    return int(found)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(
    url: str, database: str, count: int, sqlite_path: Path | None, profile: int
) -> dict[str, Any]:
    store = Store.open(url)
    store.init()
    store.directory.add_org("Scale CERT")
    user, key = store.directory.add_user("scale@cert.example", "Scale CERT", Role.ANALYST)
    ingester = Ingester(store, user)
    options = IngestOptions(tlp=Tlp.GREEN)
    generator = Indicators()
    profiler = StatementProfile(store.engine) if profile else None
    window = MILLION if count >= 2 * MILLION else max(BATCH, count // 10 // BATCH * BATCH)
    windows: list[float] = []  # seconds spent per window of `window` indicators
    spent = 0.0
    in_window = 0.0
    done = 0
    started = time.perf_counter()
    while done < count:
        size = min(BATCH, count - done)
        objects = generator.batch(size)
        t0 = time.perf_counter()
        report = ingester.ingest_objects(objects, "2.1", "scale", options)
        took = time.perf_counter() - t0
        stored = report.count("stored")
        if stored != size:
            raise SystemExit(f"batch at {done}: {stored} of {size} stored: {report.summary()}")
        spent += took
        in_window += took
        done += size
        if done % window == 0 or done == count:
            windows.append(in_window)
            in_window = 0.0
            # As it goes: a run of hours stopped early still tells its story.
            emit({"database": database, "window_end": done, "per_s": round(window / windows[-1])})
        if done % (10 * BATCH) == 0 or done == count:
            print(
                f"# {database}: {done:,} indicators, last batch {size / took:,.0f}/s, "
                f"overall {done / spent:,.0f}/s, RSS peak {peak_rss_mb():,.0f} MiB",
                file=sys.stderr,
                flush=True,
            )
        if profiler is not None and done % (profile * BATCH) == 0:
            profiler.report(done)
    wall = time.perf_counter() - started
    disk = disk_bytes(store, sqlite_path)
    objects_stored = count + 3  # the node's own definitions besides
    first, last = window / windows[0], window / windows[-1]
    result = {
        "bench": f"scale-ingest-{database}",
        "indicators": count,
        "batch": BATCH,
        "window": window,
        "first_window_per_s": round(first),
        "last_window_per_s": round(last),
        "ratio": round(last / first, 3),
        "target": 0.5,
        "pass": last / first >= 0.5,
        "ingest_seconds": round(spent, 1),
        "wall_seconds": round(wall, 1),
        "overall_per_s": round(count / spent),
        "disk_mb": round(disk / 2**20, 1),
        "disk_mb_per_million": round(disk / 2**20 / (objects_stored / MILLION), 1),
        "peak_rss_mb": round(peak_rss_mb()),
        "windows_per_s": [round(window / w) for w in windows],
    }
    emit(result)
    store.close()
    del key
    return result


def pg_url(base: str, schema: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10 * MILLION)
    parser.add_argument(
        "--postgres", metavar="URL", help="a PostgreSQL server (a schema of its own)"
    )
    parser.add_argument("--sqlite", metavar="PATH", type=Path, help="a new SQLite file")
    parser.add_argument("--keep", action="store_true", help="keep the store afterwards")
    parser.add_argument("--profile", type=int, default=0, metavar="BATCHES")
    parser.add_argument("--quick", action="store_true", help="40,000 indicators (smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.count = 40_000
    if args.count % BATCH:
        parser.error(f"--count must be a multiple of {BATCH:,}")
    postgres = args.postgres or os.environ.get("ACCORD_TEST_DATABASE_URL")
    if not args.postgres and not args.sqlite and not args.quick:
        parser.error("give --postgres URL or --sqlite PATH (or --quick for both, small)")
    results = []
    if args.sqlite or args.quick:
        with tempfile.TemporaryDirectory() as tmp:
            path = args.sqlite or Path(tmp) / "scale.db"
            if path.exists():
                parser.error(f"{path} exists: give a new file")
            results.append(run(f"sqlite:///{path}", "sqlite", args.count, path, args.profile))
            if not args.keep and args.sqlite:
                for extra in path.parent.glob(path.name + "*"):
                    extra.unlink()
    if postgres and (args.postgres or args.quick):
        schema = f"scale_{args.count}" if args.keep else f"scale_{uuid.uuid4().hex[:10]}"
        admin = create_engine(postgres.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            results.append(
                run(pg_url(postgres, schema), "postgresql", args.count, None, args.profile)
            )
        finally:
            if not args.keep:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
