"""MISP benchmark: every ESET event imported into Accord (parse, map to STIX, validate, index,
store into a fresh SQLite store) beside PyMISP's ``MISPEvent().load`` of the same files (parse
only), in the same run. Target (issue 5): Accord's full import faster than PyMISP's parse.
Then every maltrail trail in ../shared/data (``accord ingest list``'s path, warninglist flags
included) into the same kind of store: entries per second, no anchor.

Then the warninglist measure of bench/warninglists.py (1,000,000 checks against the compiled
index, target >= 500,000/s; ``--skip-warninglists`` leaves it out).

Prints one JSON line per measure:
    {"bench": NAME, "accord": X, "anchor": Y, "unit": U, "ratio": R, "target": T, "pass": B}

    .venv/bin/python bench/misp.py [--repeat N] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import orjson

SHARED = Path(
    os.environ.get("ACCORD_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
ESET = SHARED / "eset-malware-ioc"
MALTRAIL = SHARED / "ioc-lists" / "maltrail" / "trails"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import result  # noqa: E402  (one JSON line format for every benchmark here)


def event_files(quick: bool) -> list[Path]:
    """ESET's MISP exports (the dnsbirthday blocklist is not MISP and is left out of both)."""
    files = [p for p in sorted(ESET.rglob("*.json")) if "dnsbirthday" not in p.parts]
    return files[:8] if quick else files


def pymisp_parse(files: list[Path]) -> float:
    from pymisp import MISPEvent

    texts = [path.read_text() for path in files]
    gc.collect()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for text in texts:
            document = orjson.loads(text)
            events = document.get("response", [document])
            for event in events:
                MISPEvent().load(event)
    return time.perf_counter() - start


def accord_import(files: list[Path]) -> tuple[float, int]:
    from accord.ingest.misp import MispImporter
    from accord.ingest.stix import IngestOptions
    from accord.model.roles import Role
    from accord.model.tlp import Tlp
    from accord.store.node import Store

    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/bench.db")
        store.init()
        store.directory.add_org("Bench CERT")
        user, _ = store.directory.add_user("bench@cert.example", "Bench CERT", Role.ANALYST)
        importer = MispImporter(store, user)
        options = IngestOptions(tlp=Tlp.GREEN)
        gc.collect()
        start = time.perf_counter()
        stored = 0
        for report in importer.ingest_paths(files, options):
            assert report.ok, report.summary()
            stored += report.report.count("stored")
        seconds = time.perf_counter() - start
        store.close()
    return seconds, stored


def misp_bench(repeat: int, quick: bool) -> None:
    files = event_files(quick)
    accord_import(files)  # once to warm up: imports, caches, the first store's files
    # Alternating, so that a busy spell on a shared machine falls on both alike.
    anchors, runs = [], []
    for _ in range(repeat):
        anchors.append(pymisp_parse(files))
        runs.append(accord_import(files))
    anchor = min(anchors)
    accord = min(seconds for seconds, _ in runs)
    result("misp-import-eset" + ("-quick" if quick else ""), accord, anchor, "s", 1.0)


def maltrail_bench(quick: bool) -> None:
    """Every trail file as `accord ingest list` takes it: detection, warninglist flags,
    indicators, validation, index, correlation, store."""
    from accord.ingest.ioc_lists import ListIngester, ListOptions
    from accord.ingest.stix import IngestOptions
    from accord.intel.warninglists import WarningLists
    from accord.model.roles import Role
    from accord.model.tlp import Tlp
    from accord.store.node import Store

    files = sorted(MALTRAIL.rglob("*.txt"))
    if quick:
        files = sorted(files, key=lambda path: path.stat().st_size)[:8]
    lists = WarningLists.load()
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(f"sqlite:///{folder}/bench.db")
        store.init()
        store.directory.add_org("Bench CERT")
        user, _ = store.directory.add_user("bench@cert.example", "Bench CERT", Role.ANALYST)
        ingester = ListIngester(
            store, user, flagger=lambda found: [hit.list_name for hit in lists.check(found)]
        )
        options = ListOptions(ingest=IngestOptions(tlp=Tlp.GREEN, partial=True))
        gc.collect()
        start = time.perf_counter()
        reports = [ingester.ingest_file(path, options) for path in files]
        seconds = time.perf_counter() - start
        store.close()
    entries = sum(report.entries for report in reports)
    record = {
        "bench": "maltrail-import" + ("-quick" if quick else ""),
        "accord": round(entries / seconds, 1),
        "unit": "entries/s",
        "files": len(files),
        "entries": entries,
        "stored": sum(report.stored for report in reports),
        "warninglisted": sum(report.warninglisted for report in reports),
        "bad_lines": sum(report.bad_line_count for report in reports),
        "seconds": round(seconds, 3),
    }
    print(orjson.dumps(record).decode(), flush=True)


def warninglist_bench(quick: bool) -> None:
    """Checks per second against the compiled index: bench/warninglists.py's measure (1,000,000
    values, target >= 500,000/s), so that both scripts report the same figure."""
    from accord.intel.warninglists.index import default_cache_dir
    from warninglists import run

    # The node's own cached index (compiled once if missing), not a fresh compile per run.
    if quick:
        run(50_000, 2_000, 1, default_cache_dir(), quick=True)
    else:
        run(1_000_000, 20_000, 3, default_cache_dir(), quick=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs each; the best counts")
    parser.add_argument("--quick", action="store_true", help="a few events, one run")
    parser.add_argument("--skip-warninglists", action="store_true")
    parser.add_argument("--skip-maltrail", action="store_true")
    args = parser.parse_args()
    repeat = 1 if args.quick else args.repeat
    misp_bench(repeat, args.quick)
    if not args.skip_maltrail:
        maltrail_bench(args.quick)
    if not args.skip_warninglists:
        warninglist_bench(args.quick)


if __name__ == "__main__":
    main()
