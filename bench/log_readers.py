"""Log reader benchmark (issue 20): how fast Accord's Zeek TSV reader takes the columns out
of a `dns.log`, beside the floor for a reader in Python, the "split the line, test the
query in a set" loop of the issue.

Workload (fixed seed): a Zeek `dns.log` of ``--megabytes`` (50) MB in the ASCII writer's
TSV form (header, 24 columns, `answers` vectors), 1% of its queries drawn from a set of
100,000 "indicator" names. Figures, one JSON line each (best of ``--repeat`` runs, the
anchor and Accord's runs interleaved so that a noisy neighbour costs both alike):

- ``floor``: `for line in file: line.split(b"\\t")[9] in names` (the anchor);
- ``batches+set``: `accord.match.logs.iter_batches(source, ("query",))` and the same set
  test on each batch (`names.intersection(column)`): the reader as the matcher uses it;
  target >= 50% of the floor (issue 20);
- ``batches``: the reader alone (MB/s and lines/s);
- ``batches+answers``: two columns, `query` and `answers`;
- ``two-processes``: `split_ranges(path, 2)` and `iter_range_batches` in two processes
  (wall time, pool start-up included);
- ``gzip``: the reader over the gzip-compressed log (decompression included);
- ``records``: the per-record reader (`read_records`, normalised candidates) on the first
  ``--record-megabytes`` (5) MB, for scale.

    .venv/bin/python bench/log_readers.py [--quick] [--megabytes 50] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from accord.match.logs import (
    LogSource,
    ProblemLog,
    RangePlan,
    iter_batches,
    iter_range_batches,
    read_records,
    split_ranges,
)

SEED = 20
FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "trans_id",
    "rtt",
    "query",
    "qclass",
    "qclass_name",
    "qtype",
    "qtype_name",
    "rcode",
    "rcode_name",
    "AA",
    "TC",
    "RD",
    "RA",
    "Z",
    "answers",
    "TTLs",
    "rejected",
]
TYPES = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "enum",
    "count",
    "interval",
    "string",
    "count",
    "string",
    "count",
    "string",
    "count",
    "string",
    "bool",
    "bool",
    "bool",
    "bool",
    "count",
    "vector[string]",
    "vector[interval]",
    "bool",
]
QUERY_COLUMN = FIELDS.index("query")


def write_dns_log(path: Path, megabytes: float, seed: int = SEED) -> tuple[int, set[bytes]]:
    """A Zeek dns.log of about `megabytes` MB; (data lines, indicator names)."""
    rng = random.Random(seed)
    words = ["mail", "www", "cdn", "api", "login", "static", "img", "a", "b", "secure"]
    tlds = ["com", "net", "org", "de", "io", "example", "co.uk"]
    indicators = [
        f"{rng.choice(words)}{index}.bad-{index % 97}.example" for index in range(100_000)
    ]

    def name() -> str:
        if rng.random() < 0.01:
            return rng.choice(indicators)
        labels = ".".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
        return f"{labels}.{rng.choice(words)}{rng.randint(0, 99999)}.{rng.choice(tlds)}"

    target = int(megabytes * 1_000_000)
    size = lines = 0
    with open(path, "w", encoding="ascii") as out:
        out.write(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
            "#path\tdns\n#open\t2024-01-01-00-00-00\n"
        )
        out.write("#fields\t" + "\t".join(FIELDS) + "\n#types\t" + "\t".join(TYPES) + "\n")
        while size < target:
            query = name()
            answer = ".".join(str(rng.randint(1, 254)) for _ in range(4))
            cells = [
                f"{1_700_000_000 + lines * 0.001:.6f}",
                f"C{rng.getrandbits(60):015x}",
                f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                str(rng.randint(1024, 65535)),
                "192.168.1.1",
                "53",
                "udp",
                str(rng.randint(0, 65535)),
                "0.012345",
                query,
                "1",
                "C_INTERNET",
                "1",
                "A",
                "0",
                "NOERROR",
                "F",
                "F",
                "T",
                "T",
                "0",
                f"{answer},cname.{query}",
                "300.000000,300.000000",
                "F",
            ]
            line = "\t".join(cells) + "\n"
            out.write(line)
            size += len(line)
            lines += 1
        out.write("#close\t2024-01-01-01-00-00\n")
    return lines, {name.encode() for name in indicators}


def floor(path: str, names: set[bytes]) -> int:
    """The issue's anchor: split every line, test the query in a set."""
    hits = 0
    column = QUERY_COLUMN
    with open(path, "rb") as stream:
        for line in stream:
            if line[:1] == b"#":
                continue
            if line.split(b"\t")[column] in names:
                hits += 1
    return hits


def batches_and_set(path: str, names: set[bytes]) -> int:
    hits = 0
    with LogSource.open(path) as source:
        for batch in iter_batches(source, ("query",)):
            hits += sum(map(names.__contains__, batch.columns["query"]))
    return hits


def batches_only(path: str, names: set[bytes]) -> int:
    rows = 0
    with LogSource.open(path) as source:
        for batch in iter_batches(source, ("query",)):
            rows += len(batch)
    return rows


def batches_two_columns(path: str, names: set[bytes]) -> int:
    rows = 0
    with LogSource.open(path) as source:
        for batch in iter_batches(source, ("query", "answers")):
            rows += len(batch.columns["answers"])
    return rows


_NAMES: set[bytes] = set()  # the workers' indicators, inherited through fork, not pickled


def _range_worker(job: tuple[RangePlan, int]) -> int:
    plan, index = job
    names = _NAMES
    hits = 0
    for batch in iter_range_batches(plan, plan.ranges[index], ("query",)):
        hits += sum(map(names.__contains__, batch.columns["query"]))
    return hits


def two_processes(path: str, names: set[bytes]) -> int:
    plan = split_ranges(path, 2)
    _NAMES.clear()
    _NAMES.update(names)
    context = multiprocessing.get_context("fork")
    with context.Pool(len(plan.ranges)) as pool:
        return sum(pool.map(_range_worker, [(plan, i) for i in range(len(plan.ranges))]))


def records(path: str, names: set[bytes]) -> int:
    count = 0
    with LogSource.open(path) as source:
        for _ in read_records(source, "zeek", problems=ProblemLog().add):
            count += 1
    return count


def best_of(repeat: int, runs: dict[str, Callable[[], int]]) -> dict[str, tuple[float, int]]:
    """Best time of each run, the runs interleaved; (seconds, result)."""
    best: dict[str, tuple[float, int]] = {}
    for _ in range(repeat):
        for label, run in runs.items():
            start = time.perf_counter()
            result = run()
            elapsed = time.perf_counter() - start
            if label not in best or elapsed < best[label][0]:
                best[label] = (elapsed, result)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--record-megabytes", type=float, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the logs here and keep them")
    parser.add_argument(
        "--quick", action="store_true", help="2 MB, one run; fail only on different hits"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.megabytes, args.record_megabytes, args.repeat = 2, 0.5, 1
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "dns.log"
        lines, names = write_dns_log(path, args.megabytes)
        size = path.stat().st_size
        small = folder / "dns-small.log"
        write_dns_log(small, args.record_megabytes)
        packed = folder / "dns.log.gz"
        with open(path, "rb") as raw, gzip.open(packed, "wb", compresslevel=6) as out:
            out.write(raw.read())
        text, small_text, packed_text = str(path), str(small), str(packed)
        best = best_of(
            args.repeat,
            {
                "floor": lambda: floor(text, names),
                "batches+set": lambda: batches_and_set(text, names),
                "batches": lambda: batches_only(text, names),
                "batches+answers": lambda: batches_two_columns(text, names),
                "two-processes": lambda: two_processes(text, names),
                "gzip": lambda: batches_and_set(packed_text, names),
            },
        )
        record_time, record_count = best_of(1, {"records": lambda: records(small_text, names)})[
            "records"
        ]
        small_size = small.stat().st_size
    floor_time, floor_hits = best["floor"]
    floor_rate = size / floor_time / 1e6
    report = [
        {
            "bench": "log_readers.floor",
            "mb_per_s": round(floor_rate, 1),
            "lines_per_s": round(lines / floor_time),
            "hits": floor_hits,
        },
    ]
    for label in ("batches+set", "batches", "batches+answers", "two-processes", "gzip"):
        elapsed, result = best[label]
        rate = size / elapsed / 1e6
        entry: dict[str, object] = {
            "bench": f"log_readers.{label}",
            "mb_per_s": round(rate, 1),
            "lines_per_s": round(lines / elapsed),
            "anchor_mb_per_s": round(floor_rate, 1),
            "ratio": round(rate / floor_rate, 2),
        }
        if label in ("batches+set", "two-processes", "gzip"):
            entry["hits"] = result
            entry["same_hits"] = result == floor_hits
        if label == "batches+set":
            entry["target_ratio"] = 0.5
            entry["pass"] = rate / floor_rate >= 0.5 and result == floor_hits
        report.append(entry)
    report.append(
        {
            "bench": "log_readers.records",
            "mb_per_s": round(small_size / record_time / 1e6, 1),
            "lines_per_s": round(record_count / record_time),
        }
    )
    for entry in report:
        sys.stdout.write(orjson.dumps(entry).decode() + "\n")
    sys.stdout.write(
        f"# {lines:,} lines, {size / 1e6:.1f} MB, {os.cpu_count()} cores; best of {args.repeat}\n"
    )
    if args.quick:
        return 0 if all(entry.get("same_hits", True) for entry in report) else 1
    return 0 if all(entry.get("pass", True) for entry in report) else 1


if __name__ == "__main__":
    raise SystemExit(main())
