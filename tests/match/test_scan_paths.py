"""The scan's fast paths find what the plain paths find: the matcher's batch prefilters never
drop a value the full look-up would hit; a Zeek dns.log and conn.log read in batches, in
one process or several, give the hits, locations and counts of reading them record by
record; the column reader's split plan reads the columns a whole split reads."""

from __future__ import annotations

import ipaddress
import random
from pathlib import Path

import pytest

import accord.match.scan as scan_module
from accord.match.logs import LogSource, ProblemLog, iter_batches, read_records
from accord.match.logs.zeek_batches import _split_plan
from accord.match.matcher import Entry, Matcher, Target, compile_matcher
from accord.match.scan import HitReport, ScanOptions, scan
from accord.model.addresses import parse_address
from accord.model.observable_types import ObservableError
from accord.model.observables import normalise

DOMAINS = [
    "evil.example",
    "kit.evil.example",  # under another indicator: a name below both hits both
    "deep.sub.bad.co.uk",
    "phish.co.uk",
    "x.y",
    "localhost",  # one label: exact hits only
]
ADDRESSES = [
    "203.0.113.9",
    "198.51.100.0/24",
    "198.51.96.0/20",
    "10.9.0.0/16",
    "192.0.2.64/28",
    "8.8.8.8",
    "2001:db8::/32",
    "2001:db8:1:2::/64",
    "2001:db8:aa::/48",
    "2001:db8:cafe::1",
    "fd00:1::/56",
]


def _matcher(values: list[tuple[str, str]]) -> Matcher:
    targets = [Target(f"indicator--{n}", f"#{n}", "green") for n in range(len(values))]
    entries = [Entry(normalise(kind, value), n) for n, (kind, value) in enumerate(values)]
    return compile_matcher(targets, entries)


def _kind(value: str) -> str:
    network = "/" in value
    if ":" in value:
        return "ipv6-net" if network else "ipv6"
    return "ipv4-net" if network else "ipv4"


@pytest.fixture(scope="module")
def domains() -> Matcher:
    return _matcher([("domain", value) for value in DOMAINS])


@pytest.fixture(scope="module")
def addresses() -> Matcher:
    return _matcher([(_kind(value), value) for value in ADDRESSES])


def _names(rng: random.Random, count: int) -> list[bytes]:
    """Names near the indicators: themselves, below them, beside them, in other cases, with
    a trailing dot, empty labels, and noise."""
    labels = ["www", "a", "kit", "evil", "example", "co", "uk", "sub", "bad", "x", "y", "-"]
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.4:
            name = rng.choice(DOMAINS)
            if rng.random() < 0.6:
                name = ".".join(rng.choice(labels) for _ in range(rng.randint(1, 3))) + "." + name
        else:
            name = ".".join(rng.choice(labels) for _ in range(rng.randint(1, 5)))
        if rng.random() < 0.2:
            name = "".join(c.upper() if rng.random() < 0.5 else c for c in name)
        if rng.random() < 0.1:
            name += "."
        if rng.random() < 0.03:
            name = name.replace(".", "..", 1)
        out.append(name.encode())
    return [*out, b"", b"-", b".", b"..", b"LOCALHOST", b"localhost.", b"co.uk", b"UK"]


def test_domain_prefilter_keeps_every_name_that_hits(domains: Matcher) -> None:
    names = _names(random.Random(20), 5000)
    candidates = set(domains.domain_candidates(names))
    hitting = {index for index, name in enumerate(names) if domains.domain_hits(name)}
    assert hitting, "the sample must hit"
    assert hitting <= candidates
    assert len(candidates) < len(names) / 2  # and it does filter


def _address_texts(rng: random.Random, count: int) -> list[bytes]:
    out = []
    networks = [ipaddress.ip_network(value) for value in ADDRESSES]
    for _ in range(count):
        roll = rng.random()
        if roll < 0.3:
            network = rng.choice(networks)
            host = network.network_address + rng.getrandbits(
                network.max_prefixlen - network.prefixlen
            )
            text = str(host)
        elif roll < 0.6:
            text = str(ipaddress.IPv4Address(rng.getrandbits(32)))
        elif roll < 0.8:
            text = str(ipaddress.IPv6Address(rng.getrandbits(128)))
        else:
            text = rng.choice(ADDRESSES).partition("/")[0]
        out.append(text.encode())
    odd = ["-", "", "(empty)", "::ffff:203.0.113.9", "::FFFF:198.51.100.7", "2001:DB8::1",
           "203.000.113.9", "fe80::1%eth0", "198.51.100.0/25", " 8.8.8.8", "not-an-address",
           "0.0.0.0", "::", "255.255.255.255"]  # fmt: skip
    return [*out, *(text.encode() for text in odd)]


def _full_path_hits(matcher: Matcher, cell: bytes) -> bool:
    """What `scan` does with a candidate address cell."""
    raw = cell.decode("ascii", "replace")
    if not matcher.may_hit_address(raw):
        return False
    try:
        return bool(matcher.value_hits(parse_address(raw)))
    except ObservableError:
        return False


@pytest.mark.parametrize("with_networks", [True, False])
def test_address_prefilter_keeps_every_address_that_hits(
    addresses: Matcher, with_networks: bool
) -> None:
    matcher = addresses
    if not with_networks:
        matcher = _matcher([(_kind(value), value) for value in ADDRESSES if "/" not in value])
    rng = random.Random(21)
    for mixed in (True, False):  # a batch of both families, and one of IPv4 only
        cells = _address_texts(rng, 3000)
        if not mixed:
            cells = [cell for cell in cells if b":" not in cell and cell[:1].isdigit()]
        candidates = set(matcher.address_candidates(cells))
        hitting = {index for index, cell in enumerate(cells) if _full_path_hits(matcher, cell)}
        assert hitting and hitting <= candidates
        assert len(candidates) < len(cells) * 0.8


def test_a_matcher_that_grows_drops_its_prefilters(domains: Matcher) -> None:
    matcher = _matcher([("domain", "first.example")])
    assert matcher.domain_candidates([b"www.second.example"]) == []
    number = matcher.add_target(Target("indicator--new", None, "green"))
    matcher.add(Entry(normalise("domain", "second.example"), number))
    assert matcher.domain_candidates([b"www.second.example"]) == [0]


@pytest.mark.parametrize(
    ("indexes", "count"),
    [([9, 21], 24), ([9], 24), ([2, 4], 21), ([2, 4, 9, 21], 24), ([23], 24), ([0], 1),
     ([0, 1], 2), ([5, 0, 5], 8), ([7, 1], 8)],
)  # fmt: skip
def test_split_plan_reads_the_columns_a_whole_split_reads(indexes: list[int], count: int) -> None:
    rng = random.Random(count)
    lines = [
        b"\t".join(str(rng.randint(0, 10 ** rng.randint(0, 6))).encode() for _ in range(count))
        for _ in range(50)
    ]
    (left, left_picks), (right, right_picks) = _split_plan(indexes, count)
    got: dict[int, list[bytes]] = {}
    for index, at in left_picks:
        got[index] = [line.split(b"\t", left)[at] for line in lines]
    for index, at in right_picks:
        got[index] = [line.rsplit(b"\t", right)[at] for line in lines]
    for index in indexes:
        assert got[index] == [line.split(b"\t")[index] for line in lines]


# --- whole logs: batches (one process, several) against records ---------------------------

DNS_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n"
    "#open\t2026-01-01-00-00-00\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
    "proto\tquery\tanswers\tTTLs\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\t"
    "vector[string]\tvector[interval]\n"
)
CONN_HEADER = (
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
    "#open\t2026-01-01-00-00-00\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\t"
    "proto\tservice\tduration\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\t"
    "enum\tstring\tinterval\tset[string]\n"
)


def _dns_log(path: Path, rows: int) -> None:
    rng = random.Random(22)
    names = _names(rng, rows)
    addresses = _address_texts(rng, rows)
    with open(path, "w", encoding="ascii") as out:
        out.write(DNS_HEADER)
        for number in range(rows):
            if number % 997 == 5:
                out.write("a line short of fields\n")
            if number % 1499 == 7:
                out.write("#close\t2026-01-01-01-00-00\n" + DNS_HEADER)
            query = names[number].decode() or "-"
            answers = rng.choice(["-", "(empty)", f"{addresses[number].decode() or '1.2.3.4'}",
                                  f"cdn.{rng.choice(DOMAINS)},10.0.0.1", "x.cdn.example,1.2.3.4"])  # fmt: skip
            orig = addresses[(number * 7) % rows].decode() or "-"
            out.write(
                f"{number}.0\tC{number}\t{orig}\t53\t10.0.0.53\t53\tudp\t{query}\t{answers}\t-\n"
            )


def _conn_log(path: Path, rows: int) -> None:
    rng = random.Random(23)
    cells = [cell.decode() or "-" for cell in _address_texts(rng, rows * 2)]
    with open(path, "w", encoding="ascii") as out:
        out.write(CONN_HEADER)
        for number in range(rows):
            if number % 1201 == 3:
                out.write("1.0\ttoo\tfew\n")
            orig, resp = cells[2 * number], cells[2 * number + 1]
            out.write(f"{number}.0\tC{number}\t{orig}\t1234\t{resp}\t443\ttcp\tssl\t1.0\t-\n")


def _by_records(path: Path, matcher: Matcher) -> tuple[list[tuple[object, ...]], int]:
    found = []
    problems = ProblemLog()
    with LogSource.open(str(path)) as source:
        for record in read_records(source, "zeek", problems=problems.add):
            for candidate in record.candidates:
                hits = [h for h in matcher.value_hits(candidate.observable) if not h.target.benign]
                if hits:
                    found.append(
                        (record.location.line, record.location.offset, candidate.field,
                         candidate.observable.value,
                         sorted((h.relation, h.via, h.target.id) for h in hits))
                    )  # fmt: skip
    return found, problems.count


def _by_scan(path: Path, matcher: Matcher, workers: int) -> tuple[list[tuple[object, ...]], object]:
    reports: list[HitReport] = []
    stats = scan(str(path), matcher, ScanOptions(workers=workers), reports.append)
    found = [
        (r.location.line, r.location.offset, r.field, r.observable.value,
         sorted((h.relation, h.via, h.target.id) for h in r.hits))
        for r in reports
    ]  # fmt: skip
    return found, stats


@pytest.mark.parametrize("log", ["dns", "conn"])
def test_batches_in_one_or_more_processes_find_what_records_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: str
) -> None:
    path = tmp_path / f"{log}.log"
    (_dns_log if log == "dns" else _conn_log)(path, 6000)
    values = [("domain", value) for value in DOMAINS] + [
        (_kind(value), value) for value in ADDRESSES
    ]
    matcher = _matcher(values)
    expected, bad_lines = _by_records(path, matcher)
    assert expected and bad_lines > 0
    one, stats = _by_scan(path, matcher, 1)
    assert stats.format == "zeek" and stats.problem_count == bad_lines  # type: ignore[attr-defined]
    assert sorted(one) == sorted(expected)
    monkeypatch.setattr(scan_module, "PARALLEL_FROM", 0)
    for workers in (2, 3):
        several, parallel_stats = _by_scan(path, matcher, workers)
        assert sorted(several) == sorted(one)
        for name in ("lines", "values", "hits", "problem_count", "bytes"):
            assert getattr(parallel_stats, name) == getattr(stats, name), name
        assert [str(p) for p in parallel_stats.problems] == [str(p) for p in stats.problems]  # type: ignore[attr-defined]


def test_the_batch_path_reads_only_logs_whose_columns_it_knows(tmp_path: Path) -> None:
    """A Zeek log with another column the record reader reads (here `tx_hosts`) goes the
    record path, and so finds the hit there too."""
    path = tmp_path / "files.log"
    path.write_text(
        CONN_HEADER.replace("tunnel_parents", "tx_hosts").replace("set[string]", "set[addr]")
        + "1.0\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\t-\t1.0\t203.0.113.9,10.0.0.3\n",
        encoding="ascii",
    )
    found, _ = _by_scan(path, _matcher([("ipv4", "203.0.113.9")]), 1)
    assert [(row[2], row[3]) for row in found] == [("tx_hosts", "203.0.113.9")]


def test_iter_batches_reads_columns_from_either_end(tmp_path: Path) -> None:
    path = tmp_path / "dns.log"
    _dns_log(path, 500)
    with LogSource.open(str(path)) as source:
        for batch in iter_batches(source, ("answers", "query", "id.orig_h")):
            assert len(batch.columns["answers"]) == len(batch.columns["query"]) == len(batch)
