"""Warninglists benchmark: checks per second on 1,000,000 values (IPs, domains, URLs, hashes)
against the compiled index, beside pymispwarninglists' own ``WarningLists().search(value)``
on a sample of the same values, in the same run.

Values: the maltrail trails and LOKI hashes from ../shared/data, topped up with generated
addresses, names and hashes, in the mix 30% IPv4/IPv6, 30% domains, 25% URLs, 15% hashes.
They are detected and normalised before timing (the look-up path holds an Observable already);
``check_value`` (detection included) is measured too. The best of ``--repeat`` runs counts, for
the anchor and for Accord alike. Target (issue 5): >= 500,000 checks/s. Prints one JSON line
per measure.

    .venv/bin/python bench/warninglists.py [--values N] [--anchor-sample N] [--repeat N] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import re
import tempfile
import time
from pathlib import Path

import orjson

SHARED = Path(
    os.environ.get("ACCORD_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
MALTRAIL = SHARED / "ioc-lists" / "maltrail" / "trails"
LOKI = SHARED / "ioc-lists" / "signature-base" / "iocs"
TARGET = 500_000
_HEX = re.compile(r"\b[0-9a-fA-F]{32}(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{32})?\b")


def line(name: str, accord: float, anchor: float | None, unit: str, **extra: object) -> None:
    record: dict[str, object] = {"bench": name, "accord": round(accord, 4), "unit": unit}
    if anchor is not None:
        record["anchor"] = round(anchor, 4)
        record["ratio"] = round(accord / anchor if unit.endswith("/s") else anchor / accord, 2)
    record.update(extra)
    print(orjson.dumps(record).decode(), flush=True)


def real_values() -> dict[str, list[str]]:
    """Values by rough kind from the real lists (not parsed with Accord, to stay neutral)."""
    found: dict[str, list[str]] = {"ip": [], "domain": [], "url": [], "hash": []}
    for path in sorted(MALTRAIL.rglob("*.txt")):
        for raw in path.read_text(errors="replace").splitlines():
            text = raw.split("#", 1)[0].strip()
            if not text:
                continue
            if "/" in text and not re.fullmatch(r"[0-9.]+/\d+", text):
                found["url"].append(text)
            elif re.fullmatch(r"[0-9.:]+", text.split(":")[0]) and text[0].isdigit():
                found["ip"].append(text.split(":")[0] if text.count(":") == 1 else text)
            else:
                found["domain"].append(text)
    for path in sorted(LOKI.glob("*.txt")):
        found["hash"].extend(_HEX.findall(path.read_text(errors="replace")))
    return found


def make_values(count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    real = real_values()
    suffixes = ["com", "net", "org", "ru", "cn", "info", "xyz", "top", "io", "de", "co.uk"]
    popular = ["google.com", "microsoft.com", "github.com", "dyndns.org", "amazonaws.com"]

    def ip() -> str:
        if rng.random() < 0.05:
            return f"2001:db8:{rng.randrange(65536):x}::{rng.randrange(65536):x}"
        return ".".join(str(rng.randrange(256)) for _ in range(4))

    def domain() -> str:
        labels = "".join(
            rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 12))
        )
        parent = rng.choice(popular) if rng.random() < 0.1 else rng.choice(suffixes)
        sub = "www." if rng.random() < 0.3 else ""
        return f"{sub}{labels}.{parent}"

    def url() -> str:
        return f"http://{domain()}/{rng.randrange(10**6)}/index.php?id={rng.randrange(999)}"

    def hash_() -> str:
        digits = rng.choice([32, 40, 64])
        return f"{rng.getrandbits(digits * 4):0{digits}x}"

    makers = {"ip": ip, "domain": domain, "url": url, "hash": hash_}
    shares = {"ip": 0.30, "domain": 0.30, "url": 0.25, "hash": 0.15}
    values: list[str] = []
    for kind, share in shares.items():
        wanted = int(count * share)
        pool = real[kind][:wanted]
        values.extend(pool)
        values.extend(makers[kind]() for _ in range(wanted - len(pool)))
    while len(values) < count:
        values.append(ip())
    rng.shuffle(values)
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--anchor-sample", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="50,000 values, 2,000 for the anchor")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="best of N, Accord and anchor alike")
    args = parser.parse_args()
    if args.quick:
        args.values, args.anchor_sample, args.repeat = 50_000, 2_000, 1
    run(args.values, args.anchor_sample, args.repeat, args.cache_dir, args.quick)


def run(
    value_count: int, anchor_sample: int, repeat: int, cache_dir: Path | None, quick: bool
) -> None:
    """The measures, one JSON line each (``bench/misp.py`` runs them too)."""
    from accord.intel.warninglists import WarningLists
    from accord.model.observables import detect

    temporary = None
    if cache_dir is None and not quick:
        temporary = tempfile.TemporaryDirectory()
        cache_dir = Path(temporary.name)
    start = time.perf_counter()
    lists = WarningLists.load(cache_dir)
    first_load = time.perf_counter() - start
    if lists.info.built:
        line("warninglists.compile", first_load, None, "s", lists=len(lists.list_names))
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        WarningLists.load(cache_dir)
        loads.append(time.perf_counter() - start)

    values = make_values(value_count)
    observables = [found for found in map(detect, values) if found is not None]
    kinds: dict[str, int] = {}
    for observable in observables:
        kinds[observable.kind] = kinds.get(observable.kind, 0) + 1

    check = lists.check
    flagged = 0
    seconds = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        flagged = sum(1 for observable in observables if check(observable))
        seconds.append(time.perf_counter() - start)
        gc.enable()
    accord_rate = len(observables) / min(seconds)

    sample = values[:anchor_sample]
    with_detect = 0
    detect_seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        with_detect = sum(1 for value in sample if lists.check_value(value))
        detect_seconds.append(time.perf_counter() - start)
    detect_rate = len(sample) / min(detect_seconds)

    import pymispwarninglists

    start = time.perf_counter()
    anchor = pymispwarninglists.WarningLists()
    anchor_load = time.perf_counter() - start
    anchor_flagged = 0
    anchor_seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        anchor_flagged = sum(1 for value in sample if anchor.search(value))
        anchor_seconds.append(time.perf_counter() - start)
    anchor_rate = len(sample) / min(anchor_seconds)

    line(
        "warninglists.check",
        accord_rate,
        anchor_rate,
        "checks/s",
        target=TARGET,
        **{"pass": accord_rate >= TARGET},
        values=len(observables),
        flagged=flagged,
        kinds=kinds,
        anchor_sample=len(sample),
        anchor_flagged=anchor_flagged,
        # The first run starts with the index's small caches empty (the hits of each matched
        # key, the parsed CIDR texts) and its file's pages not yet touched.
        first_run=round(len(observables) / seconds[0], 1),
        repeat=repeat,
    )
    line(
        "warninglists.check_value",
        detect_rate,
        anchor_rate,
        "checks/s",
        note="detection and normalisation included",
        values=len(sample),
        flagged=with_detect,
    )
    line("warninglists.load", min(loads), anchor_load, "s", cached=True)
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
