"""Extraction speed: Accord beside ioc-finder and iocsearcher on the same text, in one run.

The corpus is the notes and write-ups under ../shared/data/reports/ (at least 1 MB; repeated
if the folder is smaller), each tool given every document once. Prints MB/s per tool and one
JSON line per anchor: {"bench", "accord", "anchor", "unit", "ratio", "target", "pass"}, the
ratio being Accord's throughput over the anchor's (target: >= 10x ioc-finder).

Throughput is measured in CPU time of this process (`time.process_time`) by default: the
machines this runs on are shared, and while Accord's one pass takes a fraction of a second,
a burst of someone else's work can double its wall-clock time and not the anchors' (which
run for seconds and average it out). All three tools run single-threaded in this process,
so CPU time is what each costs. `--clock wall` measures wall-clock time instead; both are
printed either way.

    python bench/extract.py [--quick] [--clock cpu|wall]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from accord.ingest.extract import read_document, scan

DATA = Path(
    os.environ.get("ACCORD_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
REPORTS = DATA / "reports"
MIN_BYTES = 1_000_000
TARGETS = {"ioc-finder": 10.0, "iocsearcher": 1.0}


def corpus(min_bytes: int) -> list[str]:
    texts: list[str] = []
    files = sorted(p for p in REPORTS.rglob("*") if p.is_file() and p.suffix in (".txt", ".md"))
    for path in files:
        texts.append(read_document(path.read_bytes(), path.name).text)
    if not texts:
        return []
    total = sum(len(t) for t in texts)
    copies = list(texts)
    while total < min_bytes:
        copies += texts
        total += sum(len(t) for t in texts)
    return copies


def timed(run: Callable[[str], object], texts: list[str]) -> dict[str, float]:
    """CPU and wall-clock seconds for `run` over every text once."""
    cpu, wall = time.process_time(), time.perf_counter()
    for text in texts:
        run(text)
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 100 kB corpus (a smoke run)")
    parser.add_argument(
        "--clock", choices=("cpu", "wall"), default="cpu", help="what the ratio is measured in"
    )
    args = parser.parse_args(argv)
    if not REPORTS.is_dir():
        print(f"no reports at {REPORTS}", file=sys.stderr)
        return 2
    texts = corpus(100_000 if args.quick else MIN_BYTES)
    if args.quick:
        texts = texts[: max(1, len(texts) // 10)]
    size = sum(len(t.encode()) for t in texts) / 1e6

    from ioc_finder import find_iocs
    from iocsearcher.searcher import Searcher

    searcher = Searcher()
    tools: dict[str, Callable[[str], object]] = {
        "accord": scan,
        "ioc-finder": find_iocs,
        "iocsearcher": searcher.search_data,
    }
    spent = {name: timed(run, texts) for name, run in tools.items()}
    print(f"corpus: {len(texts)} documents, {size:.2f} MB; ratios in {args.clock} time")
    for name, times in spent.items():
        print(
            f"{name:12} {times['cpu']:8.2f} s CPU {size / times['cpu']:8.2f} MB/s"
            f"   {times['wall']:8.2f} s wall {size / times['wall']:8.2f} MB/s"
        )
    seconds = {name: times[args.clock] for name, times in spent.items()}
    accord = size / seconds["accord"]
    for anchor, target in TARGETS.items():
        other = size / seconds[anchor]
        ratio = accord / other
        line = {
            "bench": f"extract.throughput.vs-{anchor}" + (".quick" if args.quick else ""),
            "accord": round(accord, 3),
            "anchor": round(other, 3),
            "unit": "MB/s",
            "ratio": round(ratio, 2),
            "target": target,
            "pass": ratio >= target,
        }
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
