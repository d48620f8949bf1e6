"""Ingest benchmark: ATT&CK Enterprise 18.1 (24,771 objects) into fresh SQLite and PostgreSQL
stores, beside ``stix2.parse(..., allow_custom=True)`` of the same file in the same run.

Targets (issue 2): SQLite >= 5x stix2.parse, PostgreSQL >= 3x, a second ingest of the same
file (all duplicates) >= 10x faster than the first. Each measure runs in a fresh process
(so that one's heap does not slow the next), the runs alternate (anchor, SQLite, PostgreSQL,
then again), and the best of ``--repeat`` runs counts, for the anchor and for Accord alike.
Prints one JSON line per measure.

    .venv/bin/python bench/ingest.py [--file PATH] [--postgres URL] [--repeat N] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text

SHARED = Path(
    os.environ.get("ACCORD_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
DEFAULT_FILE = SHARED / "attack" / "enterprise-attack-18.1.rebuilt-stix21.json"
QUICK_FILE = SHARED / "attack" / "mobile-attack-17.1.json"


def result(name: str, accord: float, anchor: float, unit: str, target: float) -> dict[str, object]:
    """One JSON line; for times (unit "s") the ratio is how many times faster Accord is,
    for rates how many times more Accord does."""
    ratio = anchor / accord if unit == "s" else accord / anchor
    line = {
        "bench": name,
        "accord": round(accord, 4),
        "anchor": round(anchor, 4),
        "unit": unit,
        "ratio": round(ratio, 2),
        "target": target,
        "pass": ratio >= target,
    }
    print(orjson.dumps(line).decode(), flush=True)
    return line


# -- what each child process measures ----------------------------------------------------------


def child_anchor(path: Path) -> dict[str, float]:
    import stix2

    data = path.read_text()
    gc.collect()
    start = time.perf_counter()
    stix2.parse(data, allow_custom=True)
    return {"seconds": time.perf_counter() - start}


def child_accord(path: Path, url: str) -> dict[str, float]:
    from accord.ingest.stix import Ingester, IngestOptions
    from accord.model.roles import Role
    from accord.model.tlp import Tlp
    from accord.store.node import Store

    store = Store.open(url)
    store.init()
    store.directory.add_org("Bench CERT")
    user, _ = store.directory.add_user("bench@cert.example", "Bench CERT", Role.ANALYST)
    ingester = Ingester(store, user)
    count = len(orjson.loads(path.read_bytes())["objects"])
    gc.collect()
    start = time.perf_counter()
    first = ingester.ingest_file(path, IngestOptions(tlp=Tlp.GREEN))
    first_s = time.perf_counter() - start
    assert first.count("stored") == count, first.summary()
    gc.collect()
    start = time.perf_counter()
    again = ingester.ingest_file(path, IngestOptions(tlp=Tlp.GREEN))
    second_s = time.perf_counter() - start
    assert again.count("duplicate") == count, again.summary()
    store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"first": first_s, "second": second_s, "peak_mb": peak_mb}


def run_child(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    )
    value = orjson.loads(out.stdout.strip().splitlines()[-1])
    assert isinstance(value, dict)
    return value


def best(runs: list[dict[str, float]], key: str) -> float:
    return min(run[key] for run in runs)


def pg_schema(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema on the PostgreSQL server, and how to drop it."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}", drop


def accord_run(path: Path, postgres: str | None) -> dict[str, float]:
    """One fresh store (a new SQLite file, or a new PostgreSQL schema), one child process."""
    if postgres:
        url, drop = pg_schema(postgres)
        try:
            return run_child("accord", str(path), url)
        finally:
            drop()
    with tempfile.TemporaryDirectory() as tmp:
        return run_child("accord", str(path), f"sqlite:///{tmp}/bench.db")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("ACCORD_BENCH_DATABASE_URL")
        or os.environ.get("ACCORD_TEST_DATABASE_URL"),
        help="PostgreSQL server URL (default: $ACCORD_TEST_DATABASE_URL); omitted: SQLite only",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure; best counts")
    parser.add_argument("--quick", action="store_true", help="ATT&CK Mobile (2,148 objects)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        mode, path = args.child[0], Path(args.child[1])
        measured = child_anchor(path) if mode == "anchor" else child_accord(path, args.child[2])
        print(orjson.dumps(measured).decode())
        return 0

    path: Path = QUICK_FILE if args.quick else args.file
    count = len(orjson.loads(path.read_bytes())["objects"])
    print(f"# {path.name}: {count} objects, best of {args.repeat} runs each", file=sys.stderr)
    # Rounds of anchor, SQLite, PostgreSQL, so that a busy spell on a shared machine falls on
    # all of them alike rather than on whichever happened to run then.
    anchor_runs: list[dict[str, float]] = []
    sqlite_runs: list[dict[str, float]] = []
    pg_runs: list[dict[str, float]] = []
    for _ in range(args.repeat):
        anchor_runs.append(run_child("anchor", str(path)))
        sqlite_runs.append(accord_run(path, None))
        if args.postgres:
            pg_runs.append(accord_run(path, args.postgres))
    anchor = best(anchor_runs, "seconds")
    print(f"# stix2.parse: {anchor:.2f} s", file=sys.stderr)

    lines = []
    runs = sqlite_runs
    first, second = best(runs, "first"), best(runs, "second")
    print(f"# sqlite: first {first:.2f} s, duplicates {second:.3f} s", file=sys.stderr)
    lines.append(result("ingest.sqlite.vs_stix2_parse", first, anchor, "s", 5.0))
    lines.append(result("ingest.sqlite.duplicates_vs_first", second, first, "s", 10.0))
    peak = max(run["peak_mb"] for run in runs)
    print(
        orjson.dumps(
            {"bench": "ingest.sqlite.peak_rss", "accord": round(peak), "unit": "MB"}
        ).decode()
    )

    if args.postgres:
        runs = pg_runs
        first, second = best(runs, "first"), best(runs, "second")
        print(f"# postgresql: first {first:.2f} s, duplicates {second:.3f} s", file=sys.stderr)
        lines.append(result("ingest.postgresql.vs_stix2_parse", first, anchor, "s", 3.0))
        lines.append(result("ingest.postgresql.duplicates_vs_first", second, first, "s", 10.0))
    else:
        print("# PostgreSQL skipped: set ACCORD_TEST_DATABASE_URL or --postgres", file=sys.stderr)
    return 0 if all(line["pass"] for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
