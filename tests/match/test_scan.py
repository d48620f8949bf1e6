"""Scanning logs: the Zeek column-batch path (one process or several) finds exactly what the
record-by-record path finds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from accord.match import scan as scanning
from accord.match.matcher import Entry, Target, compile_matcher
from accord.match.scan import HitReport, ScanOptions, scan
from accord.model.observables import normalise

HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n"
    "#fields\t{fields}\n#types\t{types}\n"
)


def _log(tmp_path: Path, kind: str, lines: int) -> Path:
    rng = random.Random(20)
    names = [f"host{n}.evil{n % 7}.example" for n in range(50)] + ["good.example"]
    if kind == "dns":
        head = HEADER.format(
            path="dns",
            fields="ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers",
            types="time\tstring\taddr\tport\taddr\tport\tstring\tvector[string]",
        )
    else:
        head = HEADER.format(
            path="conn",
            fields="ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto",
            types="time\tstring\taddr\tport\taddr\tport\tenum",
        )
    rows = []
    for number in range(lines):
        src = f"10.0.{rng.randrange(4)}.{rng.randrange(256)}"
        dst = rng.choice(["203.0.113.5", f"45.33.{rng.randrange(4)}.9", "2001:db8:1::7", "8.8.8.8"])
        if kind == "dns":
            answers = rng.choice(["-", dst, f"cname.{rng.choice(names)},{dst}"])
            query = rng.choice(names).upper() if number % 5 == 0 else rng.choice(names)
            rows.append(f"{number}.0\tC{number}\t{src}\t53\t{dst}\t53\t{query}\t{answers}")
        else:
            rows.append(f"{number}.0\tC{number}\t{src}\t4444\t{dst}\t443\ttcp")
    path = tmp_path / f"{kind}.log"
    path.write_text(head + "\n".join(rows) + "\nbroken line\n")
    return path


@pytest.fixture(scope="module")
def matcher():  # type: ignore[no-untyped-def]
    values = [
        ("domain", "evil3.example"),
        ("domain", "host9.evil2.example"),
        ("ipv4-net", "45.33.2.0/24"),
        ("ipv4", "203.0.113.5"),
        ("ipv6-net", "2001:db8::/32"),
    ]
    targets = [Target(f"indicator--{n}", None, "green") for n in range(len(values))]
    return compile_matcher(targets, [Entry(normalise(k, v), n) for n, (k, v) in enumerate(values)])


def _run(path: Path, matcher, **options: object) -> list[tuple[int, str, str, tuple[str, ...]]]:  # type: ignore[no-untyped-def]
    found: list[HitReport] = []
    stats = scan(str(path), matcher, ScanOptions(**options), found.append)  # type: ignore[arg-type]
    assert stats.problem_count == 1  # the broken line, reported either way
    return [
        (r.location.line, r.field, r.observable.value, tuple(sorted(h.target.id for h in r.hits)))
        for r in found
    ]


@pytest.mark.parametrize("kind", ["dns", "conn"])
def test_batches_find_what_records_find(kind: str, tmp_path: Path, matcher) -> None:  # type: ignore[no-untyped-def]
    path = _log(tmp_path, kind, 3000)
    by_record = _run(path, matcher, batches=False)
    assert len(by_record) > 300
    assert _run(path, matcher) == by_record  # the same hits, in the same order


def test_several_processes_find_the_same_in_file_order(
    tmp_path: Path,
    matcher,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    path = _log(tmp_path, "dns", 20000)
    one = _run(path, matcher)
    monkeypatch.setattr(scanning, "PARALLEL_FROM", 1)
    assert _run(path, matcher, workers=2) == one
