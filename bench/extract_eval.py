"""Extraction accuracy: Accord beside iocsearcher, ioc-finder and iocextract, per IOC type.

Answer keys (../shared/data/extraction-gt/):
- unit42-tti: 23 pairs of a real defanged note and the STIX bundle Unit 42 published for it
  (expected_iocs.json, read from the bundle's patterns). Recall and precision per type.
- eset-readme: 85 AsciiDoc write-ups and the union of their MISP event and samples lists;
  recall on the values marked `in_adoc_text` (the key lists much that the text does not).

Every value (expected and found) is normalised with Accord's normaliser before comparing, so
spelling differences (case, default ports, trailing dots) never count against a tool. Accord
is scored on what `accord ingest report` would store: its unflagged values.

    python bench/extract_eval.py [--verbose] [--misses FILE] [--limit N] [--tools accord,...]

Prints a table per data set, each miss and extra value to --misses (or with --verbose), and
one JSON line per (data set, type, measure): {"bench", "accord", "anchor", "unit", "ratio",
"target", "pass"}, the anchor being the best of the other three tools.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from accord.ingest.extract import read_document, scan
from accord.ingest.extract.patterns import canonical_hive
from accord.model.observables import ObservableError, detect, normalise

DATA = Path(
    os.environ.get("ACCORD_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)
GT = DATA / "extraction-gt"
SCORED = ("md5", "sha1", "sha256", "sha512", "url", "domain", "ipv4", "ipv6", "email",
          "registry-key", "cve", "bitcoin")  # fmt: skip
HASH_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}

Values = set[tuple[str, str]]


def canon(kind: str, value: str) -> tuple[str, str] | None:
    """(kind, canonical value), or None when the value does not normalise as that kind."""
    value = value.strip()
    try:
        if kind in ("ipv4", "ipv6"):
            found = detect(value)
            if found is None or found.kind not in ("ipv4", "ipv6"):
                return None
            return found.kind, found.value
        if kind == "email":  # keys lower-case the local part; the index keeps its case
            return kind, normalise(kind, value).value.lower()
        if kind in ("url", "domain", "md5", "sha1", "sha256", "sha512"):
            return kind, normalise(kind, value).value
    except ObservableError:
        return None
    if kind == "registry-key":
        hive, _, rest = value.replace("\\\\", "\\").partition("\\")
        return kind, canonical_hive(hive.rstrip(":")) + "\\" + rest.rstrip("\\")
    if kind == "cve":
        return kind, value.upper()
    return kind, value


# -- answer keys ----------------------------------------------------------------------------

_UNIT42_KIND = {"url": "url", "domain-name": "domain", "ipv4-addr": "ipv4", "ipv6-addr": "ipv6"}
_ESET_KIND = {
    "md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512",
    "domain": "domain", "hostname": "domain", "url": "url", "link": "url",
    "ip-dst": "ipv4", "ip-src": "ipv4", "email-dst": "email", "email-src": "email",
    "email": "email", "regkey": "registry-key", "btc": "bitcoin", "vulnerability": "cve",
}  # fmt: skip


def unit42_cases(limit: int | None = None) -> list[tuple[str, list[Path], Values]]:
    cases = []
    for folder in sorted(p for p in (GT / "unit42-tti").iterdir() if p.is_dir())[:limit]:
        expected: Values = set()
        for entry in json.loads((folder / "expected_iocs.json").read_text()):
            kind = _UNIT42_KIND.get(entry["type"])
            if entry["type"] == "file":
                kind = HASH_BY_LENGTH.get(len(entry["value"]))
            found = canon(kind, entry["value"]) if kind else None
            if found is not None:
                expected.add(found)
        cases.append((folder.name, [folder / "report.txt"], expected))
    return cases


def eset_cases(limit: int | None = None) -> list[tuple[str, list[Path], Values]]:
    cases = []
    index = json.loads((GT / "eset-readme" / "INDEX.json").read_text())
    for entry_ in sorted(index, key=lambda e: e["folder"])[:limit]:
        folder = GT / "eset-readme" / entry_["folder"]
        expected: Values = set()
        for entry in json.loads((folder / "expected_iocs.json").read_text()):
            kind = _ESET_KIND.get(entry["type"])
            if not entry.get("in_adoc_text") or kind is None:
                continue
            found = canon(kind, entry["value"])
            if found is not None:
                expected.add(found)
        files = [GT / "eset-readme" / name for name in entry_["adoc_files"]]
        cases.append((folder.name, files, expected))
    return cases


# -- the tools ------------------------------------------------------------------------------


def run_accord(text: str) -> Values:
    found: Values = set()
    for finding in scan(text):
        if finding.flagged:
            continue
        kind = "domain" if finding.kind == "onion" else finding.kind
        value = canon(kind, finding.value)
        if value is not None:
            found.add(value)
    return found


def _map(pairs: Iterable[tuple[str | None, str]]) -> Values:
    found: Values = set()
    for kind, value in pairs:
        if kind is None:
            continue
        canonical = canon(kind, value)
        if canonical is not None:
            found.add(canonical)
    return found


_IOCSEARCHER_KIND = {
    "url": "url", "fqdn": "domain", "ip4": "ipv4", "ip6": "ipv6", "email": "email",
    "md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512", "cve": "cve",
    "bitcoin": "bitcoin", "registry": "registry-key",
}  # fmt: skip


def make_iocsearcher() -> Callable[[str], Values]:
    from iocsearcher.searcher import Searcher

    searcher = Searcher()

    def run(text: str) -> Values:
        return _map(
            (_IOCSEARCHER_KIND.get(i.name), str(i.value)) for i in searcher.search_data(text)
        )

    return run


_IOCFINDER_KIND = {
    "urls": "url", "domains": "domain", "ipv4s": "ipv4", "ipv6s": "ipv6",
    "email_addresses": "email", "md5s": "md5", "sha1s": "sha1", "sha256s": "sha256",
    "sha512s": "sha512", "cves": "cve", "bitcoin_addresses": "bitcoin",
    "registry_key_paths": "registry-key",
}  # fmt: skip


def make_iocfinder() -> Callable[[str], Values]:
    from ioc_finder import find_iocs

    def run(text: str) -> Values:
        result = find_iocs(text)
        return _map(
            (kind, value)
            for key, kind in _IOCFINDER_KIND.items()
            for value in result.get(key, [])
            if isinstance(value, str)
        )

    return run


def make_iocextract() -> Callable[[str], Values]:
    import iocextract

    def run(text: str) -> Values:
        pairs: list[tuple[str | None, str]] = []
        # One paragraph at a time: iocextract is super-linear on large inputs.
        for paragraph in re.split(r"\n\s*\n", text):
            pairs += [("url", u) for u in iocextract.extract_urls(paragraph, refang=True)]
            pairs += [("ipv4", i) for i in iocextract.extract_ipv4s(paragraph, refang=True)]
            pairs += [("ipv6", i) for i in iocextract.extract_ipv6s(paragraph)]
            pairs += [("email", e) for e in iocextract.extract_emails(paragraph, refang=True)]
            for kind, extract in (
                ("md5", iocextract.extract_md5_hashes),
                ("sha1", iocextract.extract_sha1_hashes),
                ("sha256", iocextract.extract_sha256_hashes),
                ("sha512", iocextract.extract_sha512_hashes),
            ):
                pairs += [(kind, h) for h in extract(paragraph)]
        return _map(pairs)

    return run


TOOLS: dict[str, Callable[[], Callable[[str], Values]]] = {
    "accord": lambda: run_accord,
    "iocsearcher": make_iocsearcher,
    "ioc-finder": make_iocfinder,
    "iocextract": make_iocextract,
}
ANCHORS = ("iocsearcher", "ioc-finder", "iocextract")


# -- scoring --------------------------------------------------------------------------------


class Score:
    def __init__(self) -> None:
        self.tp: dict[str, int] = defaultdict(int)
        self.fn: dict[str, int] = defaultdict(int)
        self.fp: dict[str, int] = defaultdict(int)

    def recall(self, kind: str) -> float | None:
        total = self.tp[kind] + self.fn[kind]
        return self.tp[kind] / total if total else None

    def precision(self, kind: str) -> float | None:
        total = self.tp[kind] + self.fp[kind]
        return self.tp[kind] / total if total else None


def evaluate(
    dataset: str,
    cases: list[tuple[str, list[Path], Values]],
    tools: dict[str, Callable[[str], Values]],
    with_precision: bool,
    log: list[str],
) -> dict[str, Score]:
    scores = {name: Score() for name in tools}
    for case, paths, expected in cases:
        texts = [read_document(path.read_bytes(), path.name).text for path in paths]
        kinds = {kind for kind, _ in expected}
        for name, run in tools.items():
            found = {v for text in texts for v in run(text) if v[0] in SCORED}
            score = scores[name]
            for kind, value in sorted(expected):
                if (kind, value) in found:
                    score.tp[kind] += 1
                else:
                    score.fn[kind] += 1
                    log.append(f"{dataset}\t{name}\tmiss\t{case}\t{kind}\t{value}")
            if with_precision:
                for kind, value in sorted(found - expected):
                    score.fp[kind] += 1
                    if kind in kinds or name == "accord":
                        log.append(f"{dataset}\t{name}\textra\t{case}\t{kind}\t{value}")
    return scores


def _fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def report(dataset: str, scores: dict[str, Score], with_precision: bool) -> list[dict[str, Any]]:
    names = list(scores)
    # Only the kinds the key lists: a key without e-mail addresses says nothing of them.
    kinds = [k for k in SCORED if any(s.tp[k] + s.fn[k] for s in scores.values())]
    measures = ["recall", "precision"] if with_precision else ["recall"]
    print(f"\n{dataset}: " + " | ".join(measures) + " per type")
    print("type".ljust(14) + "".join(f"{n:>26}" for n in names))
    lines: list[dict[str, Any]] = []
    for kind in kinds:
        expected = scores[names[0]].tp[kind] + scores[names[0]].fn[kind]
        cells = []
        for name in names:
            score = scores[name]
            cells.append(" ".join(_fmt(getattr(score, m)(kind)) for m in measures))
        print(f"{kind} ({expected})".ljust(14) + "".join(f"{c:>26}" for c in cells))
        if "accord" not in scores:
            continue
        for measure in measures:
            mine = getattr(scores["accord"], measure)(kind)
            others = [getattr(scores[a], measure)(kind) for a in ANCHORS if a in scores]
            others = [o for o in others if o is not None]
            if mine is None and not others:
                continue
            if measure == "recall" and expected == 0:
                continue
            anchor = max(others) if others else 0.0
            mine = mine if mine is not None else (1.0 if measure == "precision" else 0.0)
            lines.append(
                {
                    "bench": f"extract_eval.{dataset}.{kind}.{measure}",
                    "accord": round(mine, 4),
                    "anchor": round(anchor, 4),
                    "unit": measure,
                    "ratio": round(mine / anchor, 4) if anchor else None,
                    "target": round(anchor, 4),
                    "pass": mine >= anchor - 1e-9,
                }
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verbose", action="store_true", help="print each miss and extra")
    parser.add_argument("--misses", type=Path, help="write each miss and extra to this file")
    parser.add_argument("--limit", type=int, help="only the first N cases of each data set")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated tools")
    args = parser.parse_args(argv)
    if not GT.is_dir():
        print(f"no answer keys at {GT}", file=sys.stderr)
        return 2
    tools = {name: TOOLS[name]() for name in args.tools.split(",")}
    log: list[str] = []
    lines: list[dict[str, Any]] = []
    started = time.perf_counter()
    for dataset, cases, with_precision in (
        ("unit42", unit42_cases(args.limit), True),
        ("eset", eset_cases(args.limit), False),
    ):
        scores = evaluate(dataset, cases, tools, with_precision, log)
        lines += report(dataset, scores, with_precision)
    print(f"\n({time.perf_counter() - started:.1f} s)")
    if args.misses:
        args.misses.parent.mkdir(parents=True, exist_ok=True)
        args.misses.write_text("\n".join(log) + "\n")
        print(f"misses and extras: {args.misses}")
    if args.verbose:
        print("\n".join(log))
    for line in lines:
        print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
