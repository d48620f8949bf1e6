"""`accord match` benchmark (issue 20): a Zeek `dns.log` against 1,000,000 domain indicators
and a Zeek `conn.log` against 1,000,000 address and network indicators, Accord beside
`grep -F -f`, pyahocorasick and the "split the line, test the value in a set" loop, in one
run and one process tree, on the same files (in the page cache for all of them).

Workload (fixed seed, generated once under ``--dir``, default var/bench-match/, and reused
while the parameters are the same):

- ``domains.txt``: ``--indicators`` (1,000,000) domain names, a few of them subdomains of
  another; ``dns.log``: ``--megabytes`` (200) MB in Zeek's ASCII TSV form (the real header,
  24 columns). About 1% of queries hit an indicator, half of them exactly (some in mixed
  case, DNS 0x20, or with a trailing dot) and half on a subdomain; a few CNAME answers fall
  under an indicator too.
- ``addresses.txt``: ``--conn-indicators`` (1,000,000) IPv4 and IPv6 addresses (70%) and
  networks (30%: mostly /24, a few /16 to /28; /32 to /64); ``conn.log``:
  ``--conn-megabytes`` (50) MB, 20% IPv6, 1% of connections to or from an indicator (half
  exactly, half inside a network), and about 1.5% more whose random address falls in one
  of the networks (they cover about 2% of the IPv4 space).
- The indicators are STIX 2.1 indicators (`[domain-name:value = '...']`, ...) ingested
  through `accord.ingest.stix.Ingester.ingest_objects` in bundles of 10,000 into a SQLite
  store (``store.db``, ``conn-store.db``; reused when present; the ingest time is reported),
  and the matcher comes from the store the way `accord match` gets it
  (`accord.match.matcher_source.matcher_for`, the viewer's visibility rule, the benign
  lists, the on-disk cache under ``$ACCORD_CACHE_DIR``).

Figures, one JSON line each on stdout (``accord``, ``anchor``, ``ratio``, ``target``, ``pass``;
``info`` lines have no target):

- ``match.dns.ingest``: how long the store took to load (measured once, when it was made).
- ``match.dns.compile``: the matcher for the indicators built from the store, cache file
  removed first; target < 20 s. ``match.dns.load``: the same from its cache; target < 1 s.
  ``match.dns.prefilters``: the batch prefilters the first scan of a process builds
  (`Matcher.prepare`), timed alone.
- ``match.dns.floor``: `line.split(b"\\t")[9] in names` over every line (exact only; the
  floor for a reader in Python; best of ``--repeat``); ``match.dns.grep``: `grep -F -c -f
  domains.txt dns.log` (substring, so it also finds subdomains; run once);
  ``match.dns.ahocorasick``: an automaton over the indicator strings, every line iterated
  (substring; run once).
- ``match.dns.scan``: `accord.match.scan.scan(path, matcher, ScanOptions(workers=2))`
  (forked workers, hits back in file order; best of ``--repeat``, interleaved with the
  floor; every run's figure in ``runs_mb_per_s``): MB/s, target >= 50% of the floor's
  MB/s; ``match.dns.cli``: `accord match --workers 2` as a subprocess, end to end (Python
  start-up, the benign lists, the matcher from its cache, its prefilters, the JSON lines
  written; once; its peak resident set from `wait4`); ``match.dns.scan_1_worker`` for
  scale.
- ``match.dns.same_hits``: the set of (line, field, matched indicator value, relation) of
  the scan and of the CLI equals that of a straightforward reference (each query and CNAME
  answer: lower case, trailing dot stripped, it and each parent in a set).
- ``match.conn.*``: the same for the conn.log and its store (compile, load, scan, cli; the
  floor tests `id.orig_h` and `id.resp_h` in a set of the exact addresses only, for context;
  no speed target from the issue); hits compared with an `ipaddress` reference (each
  address exactly, then its network for every prefix length present).
- ``match.memory``: peak resident set of this process (it holds the references' sets and
  the automaton too); `accord match`'s own is in ``match.*.cli``.

Hits on indicators the benign lists flag (``benign`` in ``match.*.matcher``; random public
addresses fall in cloud ranges) are left out by `accord match` and so by the references.

    PYTHONPATH=src .venv/bin/python bench/match.py [--quick] [--megabytes 200]
        [--indicators 1000000] [--conn-megabytes 50] [--conn-indicators 1000000]
        [--repeat 3] [--dir var/bench-match] [--only dns,conn] [--no-cli] [--no-anchors]

``--quick``: a few MB and 20,000 indicators in ``--dir`` (a scratch directory by default),
the two-worker path forced on the small file; fails only on different hits.
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accord.match.scan as scan_module
from accord.ingest.stix import Ingester, IngestOptions
from accord.intel.benign import BenignLists
from accord.intel.warninglists.index import default_cache_dir
from accord.match.matcher import Matcher
from accord.match.matcher_source import MatcherInfo, cache_path, matcher_for
from accord.match.scan import HitReport, ScanOptions, scan
from accord.model.observable_types import Observable
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.settings import Settings
from accord.store.node import Store
from log_readers import FIELDS as DNS_FIELDS
from log_readers import QUERY_COLUMN
from log_readers import TYPES as DNS_TYPES

SEED = 20
TARGET_RATIO = 0.5
TARGET_COMPILE_SECONDS = 20.0
TARGET_LOAD_SECONDS = 1.0
HIT_RATE = 0.01
EMAIL = "bench@match.example"
ORG = "Bench Match CERT"
NAMESPACE = uuid.UUID("b3f6a0f2-6d3c-4f1e-9d1a-000000000020")
BUNDLE = 10_000
DATA_VERSION = {"domain": 1, "address": 3}
"""Bumped when a generator changes: files made by an older one are made again."""

WORDS = ["mail", "www", "cdn", "api", "login", "static", "img", "a", "b", "secure", "m", "dev"]
TLDS = ["com", "net", "org", "io", "ru", "info", "xyz", "top", "de", "co.uk"]
ANSWER_COLUMN = DNS_FIELDS.index("answers")
CONN_FIELDS = [
    "ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service",
    "duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp",
    "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes",
    "tunnel_parents",
]  # fmt: skip
CONN_TYPES = [
    "time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count",
    "count", "string", "bool", "bool", "count", "string", "count", "count", "count", "count",
    "set[string]",
]  # fmt: skip
ORIG_COLUMN, RESP_COLUMN = CONN_FIELDS.index("id.orig_h"), CONN_FIELDS.index("id.resp_h")

SAME_HITS: list[bool] = []
"""Every hit comparison's verdict (all that `--quick` fails on)."""
CACHE_FILES: list[Path] = []
"""The matcher cache files this run made."""

Key = tuple[int, str, str, str]
"""A hit as both sides give it: (line, field, the indicator value that matched, relation)."""


def line(name: str, accord: float, anchor: float, unit: str, target: float, ratio: float,
         **extra: object) -> bool:  # fmt: skip
    passed = ratio >= target
    out: dict[str, object] = {
        "bench": name,
        "accord": round(accord, 4),
        "anchor": round(anchor, 4),
        "unit": unit,
        "ratio": round(ratio, 3),
        "target": target,
        "pass": passed,
    }
    out.update(extra)
    print(orjson.dumps(out).decode(), flush=True)
    return passed


def info(name: str, **fields: object) -> None:
    print(orjson.dumps({"bench": name, **fields}).decode(), flush=True)


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# -- data, made once and reused -----------------------------------------------------------------


def _manifest(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def reuse(path: Path, params: dict[str, Any]) -> dict[str, Any] | None:
    """What was recorded when `path` was made with `params`, if it still stands."""
    try:
        kept = orjson.loads(_manifest(path).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if kept.get("params") != params or not path.exists():
        return None
    if "size" in kept and path.stat().st_size != kept["size"]:
        return None
    return dict(kept)


def record(path: Path, params: dict[str, Any], **facts: Any) -> None:
    _manifest(path).write_bytes(orjson.dumps({"params": params, **facts}))


def _label(rng: random.Random) -> str:
    """A random DNS label of 6 to 10 letters and digits."""
    number = rng.getrandbits(rng.randint(31, 50))
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = []
    while number:
        number, rest = divmod(number, 36)
        out.append(digits[rest])
    return "".join(out) or "x"


def domain_indicators(count: int) -> list[str]:
    """Distinct domain names: registrable names, some with a host label, a few under
    another indicator (a query below both hits both)."""
    rng = random.Random(SEED)
    values: dict[str, None] = {}
    order: list[str] = []
    while len(order) < count:
        roll = rng.random()
        if roll < 0.02 and order:
            value = f"{rng.choice(WORDS)}.{order[rng.randrange(len(order))]}"
        else:
            name = _label(rng)
            if roll < 0.25:
                name = f"{rng.choice(WORDS)}-{name}"
            value = f"{name}.{rng.choice(TLDS)}"
            if roll > 0.85:
                value = f"{rng.choice(WORDS)}.{value}"
        if value not in values:
            values[value] = None
            order.append(value)
    return order


def _mixed_case(rng: random.Random, name: str) -> str:
    """DNS 0x20: the client randomises the case of the query's letters."""
    bits = rng.getrandbits(len(name))
    return "".join(c.upper() if bits >> i & 1 else c for i, c in enumerate(name))


def _zeek_header(path: str, fields: list[str], types: list[str]) -> str:
    return (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        f"#path\t{path}\n#open\t2026-01-01-00-00-00\n"
        "#fields\t" + "\t".join(fields) + "\n#types\t" + "\t".join(types) + "\n"
    )


def write_dns_log(path: Path, megabytes: float, indicators: list[str]) -> int:
    """A Zeek dns.log of about `megabytes` MB; its data lines."""
    rng = random.Random(SEED + 1)
    target = int(megabytes * 1_000_000)
    size = lines = 0
    chooser = indicators.__getitem__
    count = len(indicators)
    with open(path, "w", encoding="ascii", newline="\n") as out:
        out.write(_zeek_header("dns", DNS_FIELDS, DNS_TYPES))
        buffer: list[str] = []
        while size < target:
            roll = rng.random()
            if roll < HIT_RATE / 2:
                query = chooser(rng.randrange(count))
            elif roll < HIT_RATE:
                labels = rng.choice(WORDS) if rng.random() < 0.7 else f"{_label(rng)}.x"
                query = f"{labels}.{chooser(rng.randrange(count))}"
            else:
                labels = ".".join(rng.choice(WORDS) for _ in range(rng.randint(1, 2)))
                query = f"{labels}.{rng.choice(WORDS)}{rng.randint(0, 99999)}.{rng.choice(TLDS)}"
            shape = rng.random()
            if shape < 0.03:
                query = _mixed_case(rng, query)
            elif shape < 0.04:
                query += "."
            roll = rng.random()
            a = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            if roll < 0.08:
                rcode, answers, ttls = "3\tNXDOMAIN", "-", "-"
            elif roll < 0.28:
                edge = f"e{rng.randint(0, 9999)}.edge{rng.randint(0, 99)}.cdn-net.net"
                if rng.random() < 0.01:  # a CNAME into an indicator's domain
                    edge = f"cdn.{chooser(rng.randrange(count))}"
                rcode, answers, ttls = "0\tNOERROR", f"{edge},{a}", "300.000000,60.000000"
            elif roll < 0.5:
                b = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.1"
                rcode, answers, ttls = "0\tNOERROR", f"{a},{b}", "60.000000,60.000000"
            else:
                rcode, answers, ttls = "0\tNOERROR", a, "300.000000"
            row = (
                f"{1_767_225_600 + lines * 0.001:.6f}\tC{rng.getrandbits(60):015x}\t"
                f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}\t{rng.randint(1024, 65535)}\t"
                f"10.0.0.53\t53\tudp\t{rng.randint(0, 65535)}\t0.0{rng.randint(10000, 99999)}\t"
                f"{query}\t1\tC_INTERNET\t1\tA\t{rcode}\tF\tF\tT\tT\t0\t{answers}\t{ttls}\tF\n"
            )
            buffer.append(row)
            size += len(row)
            lines += 1
            if len(buffer) >= 10_000:
                out.write("".join(buffer))
                buffer.clear()
        out.write("".join(buffer))
        out.write("#close\t2026-01-01-01-00-00\n")
    return lines


def _global_v4(rng: random.Random) -> int:
    """A random unicast address outside the private, shared, loopback, link-local and
    documentation blocks (their whole /8s are left out)."""
    while True:
        first = rng.randint(1, 223)
        if first not in (10, 100, 127, 169, 172, 192, 198, 203):
            return first << 24 | rng.getrandbits(24)


def _global_v6(rng: random.Random) -> int:
    """A random address in 2000::/3, not 2001::/16 (Teredo, documentation) or 2002::/16."""
    while True:
        number = 1 << 125 | rng.getrandbits(125)
        if number >> 112 not in (0x2001, 0x2002):
            return number


def _v4(number: int) -> str:
    return f"{number >> 24}.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}"


def _v6(number: int) -> str:
    return str(ipaddress.IPv6Address(number))


V4_PREFIXES = [16] * 1 + [20] * 10 + [22] * 40 + [24] * 800 + [26] * 50 + [28] * 99
"""Network sizes as block lists publish them: mostly /24, few short prefixes (200,000 of
these cover about 2% of the IPv4 space, so random traffic hits them now and then)."""
V6_PREFIXES = [32] * 5 + [48] * 45 + [56] * 20 + [64] * 30


def address_indicators(count: int) -> list[str]:
    """Distinct addresses (IPv4 55%, IPv6 15%) and networks (IPv4 20%, IPv6 10%; sizes in
    `V4_PREFIXES`, `V6_PREFIXES`), in canonical form."""
    rng = random.Random(SEED + 2)
    values: dict[str, None] = {}
    while len(values) < count:
        roll = rng.random()
        if roll < 0.55:
            value = _v4(_global_v4(rng))
        elif roll < 0.75:
            prefix = rng.choice(V4_PREFIXES)
            value = f"{_v4(_global_v4(rng) >> (32 - prefix) << (32 - prefix))}/{prefix}"
        elif roll < 0.90:
            value = _v6(_global_v6(rng))
        else:
            prefix = rng.choice(V6_PREFIXES)
            value = f"{_v6(_global_v6(rng) >> (128 - prefix) << (128 - prefix))}/{prefix}"
        values[value] = None
    return list(values)


def _inside(rng: random.Random, network: str) -> str:
    """A random host address inside `network`."""
    base, _, prefix_text = network.partition("/")
    prefix = int(prefix_text)
    if ":" in base:
        return _v6(int(ipaddress.IPv6Address(base)) | rng.getrandbits(128 - prefix))
    return _v4(int(ipaddress.IPv4Address(base)) | rng.getrandbits(32 - prefix))


def write_conn_log(path: Path, megabytes: float, indicators: list[str]) -> int:
    rng = random.Random(SEED + 3)
    exact = [value for value in indicators if "/" not in value]
    networks = [value for value in indicators if "/" in value]
    target = int(megabytes * 1_000_000)
    size = lines = 0
    states = ["SF", "S0", "REJ", "RSTO", "SH", "OTH"]
    with open(path, "w", encoding="ascii", newline="\n") as out:
        out.write(_zeek_header("conn", CONN_FIELDS, CONN_TYPES))
        buffer: list[str] = []
        while size < target:
            roll = rng.random()
            if roll < HIT_RATE:
                bad = (
                    rng.choice(exact) if roll < HIT_RATE / 2 else _inside(rng, rng.choice(networks))
                )
                v6 = ":" in bad
            else:
                v6 = rng.random() < 0.2
                bad = _v6(_global_v6(rng)) if v6 else _v4(_global_v4(rng))
            inside = (
                f"fd00::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}"
                if v6
                else f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            )
            orig, resp = (bad, inside) if rng.random() < 0.2 else (inside, bad)
            sent, received = rng.randint(0, 99999), rng.randint(0, 999999)
            row = (
                f"{1_767_225_600 + lines * 0.001:.6f}\tC{rng.getrandbits(60):015x}\t{orig}\t"
                f"{rng.randint(1024, 65535)}\t{resp}\t{rng.choice((443, 443, 80, 53, 22))}\t"
                f"tcp\t{rng.choice(('ssl', 'http', '-', 'dns'))}\t{rng.random() * 100:.6f}\t"
                f"{sent}\t{received}\t{rng.choice(states)}\t-\t-\t0\tShADadFf\t"
                f"{sent // 500 + 1}\t{sent + 52}\t{received // 1400 + 1}\t{received + 52}\t-\n"
            )
            buffer.append(row)
            size += len(row)
            lines += 1
            if len(buffer) >= 10_000:
                out.write("".join(buffer))
                buffer.clear()
        out.write("".join(buffer))
        out.write("#close\t2026-01-01-01-00-00\n")
    return lines


def indicators_file(folder: Path, name: str, kind: str, count: int,
                    make: Callable[[int], list[str]]) -> tuple[Path, list[str]]:  # fmt: skip
    path = folder / name
    params = {"count": count, "seed": SEED, "version": DATA_VERSION[kind]}
    if reuse(path, params) is not None:
        return path, path.read_text(encoding="ascii").splitlines()
    started = time.perf_counter()
    values = make(count)
    path.write_text("\n".join(values) + "\n", encoding="ascii")
    record(path, params, size=path.stat().st_size)
    note(f"{count:,} indicators generated in {time.perf_counter() - started:.1f} s: {path}")
    return path, values


def log_file(folder: Path, name: str, kind: str, megabytes: float, values: list[str],
             write: Callable[[Path, float, list[str]], int]) -> tuple[Path, int]:  # fmt: skip
    path = folder / name
    params = {
        "megabytes": megabytes,
        "indicators": len(values),
        "seed": SEED,
        "version": DATA_VERSION[kind],
    }
    kept = reuse(path, params)
    if kept is not None:
        return path, int(kept["lines"])
    started = time.perf_counter()
    lines = write(path, megabytes, values)
    record(path, params, size=path.stat().st_size, lines=lines)
    note(f"{name}: {lines:,} lines, {path.stat().st_size / 1e6:.1f} MB written in "
         f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    return path, lines


# -- the store -----------------------------------------------------------------------------------


def _pattern(value: str) -> str:
    if value[0].isdigit() and ":" not in value and "/" not in value and value[-1].isdigit():
        return f"[ipv4-addr:value = '{value}']"
    if ":" in value:
        return f"[ipv6-addr:value = '{value}']"
    if "/" in value:
        return f"[ipv4-addr:value = '{value}']"
    return f"[domain-name:value = '{value}']"


def indicator_id(kind: str, number: int) -> str:
    return f"indicator--{uuid.uuid5(NAMESPACE, f'{kind}-{number}')}"


def bundles(kind: str, values: list[str]) -> Iterator[list[dict[str, Any]]]:
    for offset in range(0, len(values), BUNDLE):
        yield [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": indicator_id(kind, number),
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "name": f"bench {kind} {number}",
                "pattern": _pattern(value),
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
            }
            for number, value in enumerate(values[offset : offset + BUNDLE], offset)
        ]


def load_store(folder: Path, name: str, kind: str, values: list[str]) -> tuple[str, float, bool]:
    """The store holding `values` as indicators (made, or reused when its manifest says it
    holds exactly these); (URL, ingest seconds, reused)."""
    path = folder / name
    url = f"sqlite:///{path}"
    digest = hashlib.sha256("\n".join(values).encode()).hexdigest()
    params = {"kind": kind, "count": len(values), "values": digest}
    kept = reuse(path, params)
    if kept is not None:
        store = Store.open(url)
        store.init()  # migrations added since the load
        store.close()
        return url, float(kept["seconds"]), True
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    _manifest(path).unlink(missing_ok=True)
    store = Store.open(url)
    store.init()
    store.directory.add_org(ORG)
    user, _ = store.directory.add_user(EMAIL, ORG, Role.ANALYST)
    ingester = Ingester(store, user)
    started = time.perf_counter()
    done = 0
    for objects in bundles(kind, values):
        report = ingester.ingest_objects(objects, "2.1", "bench", IngestOptions(tlp=Tlp.GREEN))
        assert report.count("stored") == len(objects), report.summary()
        done += len(objects)
        if done % 100_000 == 0:
            note(f"{name}: {done:,} indicators ingested")
    seconds = time.perf_counter() - started
    store.close()
    record(path, params, seconds=seconds)
    return url, seconds, False


def cli_matcher(url: str, email: str, rebuild: bool) -> tuple[Matcher, MatcherInfo, Path | None]:
    """The matcher as `accord match` gets it (accord.cli.match_cmds: the node's settings, the
    benign lists and their version, `matcher_for` with the default cache directory); with
    `rebuild`, its cache file is removed first."""
    store = Store.open(url)
    try:
        user = store.directory.user(email)
        viewer = store.directory.viewer(user)
        settings = Settings.from_env(url).with_node(store.settings.all())
        lists = (
            BenignLists.load(
                store, settings.warninglists_ignore, classes=settings.warninglist_classes
            )
            if settings.warninglists
            else BenignLists(store, None)
        )
        check = lists.for_viewer(viewer)

        def benign(observable: Observable) -> bool:
            return any(hit.damps for hit in check(observable))

        allowlist = store.allowlists.entries(user.org_id)
        version = hashlib.sha256(
            repr(
                (
                    settings.warninglists,
                    sorted(lists.ignore),
                    sorted(settings.warninglist_classes),
                    [entry.display for entry in allowlist],
                )
            ).encode()
        ).hexdigest()
        path = cache_path(store, viewer, default_cache_dir(), version)
        if rebuild:
            path.unlink(missing_ok=True)
        matcher, made = matcher_for(store, viewer, default_cache_dir(), benign, version)
        CACHE_FILES.append(path)
        return matcher, made, path
    finally:
        store.close()


# -- the anchors ---------------------------------------------------------------------------------


def dns_floor(path: str, names: set[bytes]) -> int:
    """The issue's floor: split every line, test the query in a set (exact only)."""
    hits = 0
    column = QUERY_COLUMN
    with open(path, "rb") as stream:
        for row in stream:
            if row[:1] == b"#":
                continue
            if row.split(b"\t")[column] in names:
                hits += 1
    return hits


def conn_floor(path: str, addresses: set[bytes]) -> int:
    """The same for a conn.log's two address columns (exact addresses only)."""
    hits = 0
    orig, resp = ORIG_COLUMN, RESP_COLUMN
    with open(path, "rb") as stream:
        for row in stream:
            if row[:1] == b"#":
                continue
            cells = row.split(b"\t", resp + 1)
            if cells[orig] in addresses or cells[resp] in addresses:
                hits += 1
    return hits


def grep_lines(patterns: Path, path: Path) -> int:
    """`grep -F -f`: lines holding any indicator as a substring (counted, -c)."""
    out = subprocess.run(
        ["grep", "-F", "-c", "-f", str(patterns), str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        check=False,
    )
    if out.returncode not in (0, 1):
        raise RuntimeError(f"grep failed: {out.stderr.strip()}")
    return int(out.stdout.strip() or 0)


def ahocorasick_lines(values: list[str], path: str) -> tuple[int, float]:
    """Lines holding any indicator as a substring, through an Aho-Corasick automaton; (lines,
    seconds to build the automaton, not in the scan's time)."""
    import ahocorasick

    started = time.perf_counter()
    automaton = ahocorasick.Automaton()
    for value in values:
        automaton.add_word(value, None)
    automaton.make_automaton()
    built = time.perf_counter() - started
    hits = 0
    with open(path, encoding="ascii", errors="replace") as stream:
        search = automaton.iter
        for row in stream:
            for _ in search(row):
                hits += 1
                break
    return hits, built


# -- the references ------------------------------------------------------------------------------


def dns_reference(path: str, indicators: set[str]) -> set[Key]:
    """Each query and each CNAME-like answer: lower case, trailing dot stripped, then it
    and every parent of two labels or more tested in a set."""
    found: set[Key] = set()
    with open(path, encoding="utf-8") as stream:
        for number, row in enumerate(stream, 1):
            if row.startswith("#"):
                continue
            cells = row.rstrip("\n").split("\t")
            names = [("query", cells[QUERY_COLUMN])]
            answers = cells[ANSWER_COLUMN]
            if answers not in ("-", "(empty)"):
                for item in answers.split(","):
                    try:
                        ipaddress.ip_address(item)
                    except ValueError:
                        names.append(("answers", item))
            for field, name in names:
                key = name.lower().removesuffix(".")
                labels = key.split(".")
                for start in range(len(labels) - 1):
                    candidate = ".".join(labels[start:])
                    if candidate in indicators:
                        relation = "exact" if start == 0 else "parent-domain"
                        found.add((number, field, candidate, relation))
    return found


def conn_reference(path: str, indicators: list[str]) -> set[Key]:
    """Each address: exactly, then in every network of the prefix lengths present
    (`ipaddress.ip_network((address, prefix), strict=False)` looked up in a set)."""
    exact = {value for value in indicators if "/" not in value}
    networks = {value for value in indicators if "/" in value}
    prefixes: dict[int, set[int]] = {4: set(), 6: set()}
    for value in networks:
        prefixes[6 if ":" in value else 4].add(int(value.rpartition("/")[2]))
    found: set[Key] = set()
    with open(path, encoding="ascii") as stream:
        for number, row in enumerate(stream, 1):
            if row.startswith("#"):
                continue
            cells = row.split("\t", RESP_COLUMN + 1)
            for field, column in (("id.orig_h", ORIG_COLUMN), ("id.resp_h", RESP_COLUMN)):
                address = ipaddress.ip_address(cells[column])
                text = str(address)
                if text in exact:
                    found.add((number, field, text, "exact"))
                for prefix in prefixes[address.version]:
                    network = str(ipaddress.ip_network((address, prefix), strict=False))
                    if network in networks:
                        found.add((number, field, network, "cidr"))
    return found


def report_keys(reports: Iterable[HitReport], ids: dict[str, str]) -> tuple[set[Key], int]:
    """Accord's hits as keys; and how many name an indicator whose value is not the one
    the hit says matched (should be none)."""
    keys: set[Key] = set()
    wrong = 0
    for report in reports:
        for hit in report.hits:
            keys.add((report.location.line, report.field, hit.via, hit.relation))
            wrong += ids.get(hit.target.id) != hit.via
    return keys, wrong


def cli_keys(output: Path, ids: dict[str, str]) -> tuple[set[Key], int]:
    keys: set[Key] = set()
    wrong = 0
    with open(output, "rb") as stream:
        for row in stream:
            hit = orjson.loads(row)
            for indicator in hit["indicators"]:
                keys.add((hit["line"], hit["field"], indicator["via"], indicator["relation"]))
                wrong += ids.get(indicator["id"]) != indicator["via"]
    return keys, wrong


def compare(name: str, reference: set[Key], keys: set[Key], wrong: int) -> bool:
    same = keys == reference and wrong == 0
    SAME_HITS.append(same)
    info(
        name,
        same=same,
        reference_hits=len(reference),
        accord_hits=len(keys),
        missing=sorted(reference - keys)[:5],
        extra=sorted(keys - reference)[:5],
        wrong_indicator=wrong,
    )
    return same


# -- running -------------------------------------------------------------------------------------


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def accord_scan(path: str, matcher: Matcher, workers: int) -> tuple[list[HitReport], Any]:
    found: list[HitReport] = []
    stats = scan(path, matcher, ScanOptions(workers=workers), found.append)
    return found, stats


_MEASURED = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{time.perf_counter() - started} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs a command and writes its wall time and peak resident set. A process started from
this one would be credited with this one's resident set (Linux keeps the high-water mark
of the memory a process had before its exec); one forked by this small wrapper is not."""


def cli_match(url: str, path: Path, output: Path, workers: int) -> tuple[float, str, int]:
    """`accord match` as a user runs it; (seconds, its standard error, its peak resident set
    in KiB: the command and the reader process it forks)."""
    with (
        open(output, "wb") as out,
        tempfile.TemporaryFile() as errors,
        tempfile.NamedTemporaryFile("r") as measured,
    ):
        done = subprocess.run(
            [sys.executable, "-c", _MEASURED, measured.name, "-m", "accord.cli.main",
             "--db", url, "match", str(path), "--as", EMAIL, "--no-progress",
             "--workers", str(workers)],
            stdout=out, stderr=errors, check=False,
        )  # fmt: skip
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
        seconds_text, peak_text = measured.read().split()
    if done.returncode not in (0, 1):
        raise RuntimeError(f"accord match failed ({done.returncode}): {stderr[-2000:]}")
    return float(seconds_text), stderr, int(peak_text)


def matcher_part(part: str, url: str) -> tuple[Matcher, list[bool]]:
    """Compile (cache removed), then load from the cache."""
    matcher, built, path = cli_matcher(url, EMAIL, rebuild=True)
    assert built.how == "built", built
    size = path.stat().st_size if path is not None else 0
    del matcher
    matcher, loaded, _ = cli_matcher(url, EMAIL, rebuild=False)
    assert loaded.how == "cached", loaded
    benign = sum(matcher._benign)
    info(f"match.{part}.matcher", **matcher.stats(), benign=benign, cache_bytes=size)
    return matcher, [
        line(f"match.{part}.compile", built.seconds, TARGET_COMPILE_SECONDS, "s", 1.0,
             TARGET_COMPILE_SECONDS / built.seconds, indicators=built.indicators,
             note="matcher_for from the store, cache removed; anchor: the target"),
        line(f"match.{part}.load", loaded.seconds, TARGET_LOAD_SECONDS, "s", 1.0,
             TARGET_LOAD_SECONDS / loaded.seconds,
             note="matcher_for from its cache file; anchor: the target"),
    ]  # fmt: skip


def speed_part(
    part: str,
    path: Path,
    lines: int,
    matcher: Matcher,
    floor: Callable[[], int],
    repeat: int,
    workers: int,
    target: float | None,
) -> tuple[list[HitReport], list[bool], float]:
    """The matcher's prefilters built (timed alone: the first scan of a run builds them),
    then the floor and Accord's scan, interleaved, best of `repeat`; one worker once; (the
    scan's hits, the verdicts, the floor's MB/s)."""
    size = path.stat().st_size
    seconds, _ = timed(matcher.prepare)
    info(f"match.{part}.prefilters", seconds=round(seconds, 2),
         note="Matcher.prepare: built by the first scan of a process (in accord match's "
              "time, not in the scan figures below)")  # fmt: skip
    floors: list[float] = []
    scans: list[float] = []
    floor_hits = 0
    found: list[HitReport] = []
    stats: Any = None
    for _ in range(repeat):
        seconds, floor_hits = timed(floor)
        floors.append(seconds)
        seconds, (found, stats) = timed(lambda: accord_scan(str(path), matcher, workers))
        scans.append(seconds)
    floor_rate = size / min(floors) / 1e6
    rate = size / min(scans) / 1e6
    info(f"match.{part}.floor", mb_per_s=round(floor_rate, 1),
         lines_per_s=round(lines / min(floors)), hits=floor_hits, best_of=repeat,
         runs_mb_per_s=[round(size / s / 1e6, 1) for s in floors],
         note="split the line, test the value in a set (exact)")  # fmt: skip
    results = []
    extra = {"workers": workers, "parallel": size >= scan_module.PARALLEL_FROM,
             "lines_per_s": round(lines / min(scans)), "hits": stats.hits, "values": stats.values,
             "lines": stats.lines, "bad_lines": stats.problem_count,
             "benign_left_out": stats.benign_skipped, "best_of": repeat,
             "runs_mb_per_s": [round(size / s / 1e6, 1) for s in scans]}  # fmt: skip
    if target is not None:
        results.append(
            line(f"match.{part}.scan", rate, floor_rate, "MB/s", target, rate / floor_rate, **extra)
        )
    else:
        info(f"match.{part}.scan", accord=round(rate, 1), anchor=round(floor_rate, 1),
             unit="MB/s", ratio=round(rate / floor_rate, 3), **extra)  # fmt: skip
    seconds, (_, one) = timed(lambda: accord_scan(str(path), matcher, 1))
    info(f"match.{part}.scan_1_worker", mb_per_s=round(size / seconds / 1e6, 1),
         lines_per_s=round(lines / seconds), hits=one.hits)  # fmt: skip
    return found, results, floor_rate


def dns_part(args: argparse.Namespace, folder: Path) -> list[bool]:
    patterns, values = indicators_file(
        folder, "domains.txt", "domain", args.indicators, domain_indicators
    )
    path, lines = log_file(folder, "dns.log", "domain", args.megabytes, values, write_dns_log)
    size = path.stat().st_size
    note(f"dns: {lines:,} lines, {size / 1e6:.1f} MB; {len(values):,} domain indicators")
    url, ingest_seconds, reused = load_store(folder, "store.db", "domain", values)
    info("match.dns.ingest", indicators=len(values), seconds=round(ingest_seconds, 1),
         per_s=round(len(values) / ingest_seconds), reused=reused,
         how=f"Ingester.ingest_objects, bundles of {BUNDLE:,}, SQLite")  # fmt: skip
    matcher, results = matcher_part("dns", url)
    names = {value.encode() for value in values}
    found, speed, floor_rate = speed_part(
        "dns", path, lines, matcher, lambda: dns_floor(str(path), names), args.repeat,
        args.workers, TARGET_RATIO,
    )  # fmt: skip
    results += speed
    if not args.no_anchors:
        seconds, grep_hits = timed(lambda: grep_lines(patterns, path))
        info("match.dns.grep", mb_per_s=round(size / seconds / 1e6, 2), lines_matching=grep_hits,
             ratio_to_floor=round(size / seconds / 1e6 / floor_rate, 4),
             note="grep -F -c -f domains.txt dns.log (substring), once")  # fmt: skip
        seconds, (aho_hits, built) = timed(lambda: ahocorasick_lines(values, str(path)))
        aho_rate = size / (seconds - built) / 1e6
        info("match.dns.ahocorasick", mb_per_s=round(aho_rate, 2), lines_matching=aho_hits,
             automaton_seconds=round(built, 1), ratio_to_floor=round(aho_rate / floor_rate, 4),
             note="pyahocorasick over the indicator strings, every line (substring), once")  # fmt: skip
    ids = {indicator_id("domain", number): value for number, value in enumerate(values)}
    seconds, reference = timed(lambda: dns_reference(str(path), set(values)))
    note(f"dns reference: {len(reference):,} hits in {seconds:.1f} s")
    reference = _without_benign(reference, matcher, ids)
    keys, wrong = report_keys(found, ids)
    results.append(compare("match.dns.same_hits", reference, keys, wrong))
    if not args.no_cli:
        results += cli_part("dns", url, path, folder, size, args.workers, reference, ids)
    return results


def _without_benign(reference: set[Key], matcher: Matcher, ids: dict[str, str]) -> set[Key]:
    """The reference less hits on indicators the benign lists flag (left out by `accord
    match` without --include-benign; `match.*.matcher` says how many there are)."""
    benign = {ids[matcher._ids[number]] for number, flag in enumerate(matcher._benign) if flag}
    return {key for key in reference if key[2] not in benign} if benign else reference


def cli_part(part: str, url: str, path: Path, folder: Path, size: int, workers: int,
             reference: set[Key], ids: dict[str, str]) -> list[bool]:  # fmt: skip
    output = folder / f"{part}-hits.jsonl"
    seconds, stderr, peak = cli_match(url, path, output, workers)
    said = [
        row for row in stderr.splitlines() if row.startswith(("matcher:", f"{size / 1e6:,.1f}"))
    ]
    info(f"match.{part}.cli", mb_per_s=round(size / seconds / 1e6, 1), seconds=round(seconds, 2),
         workers=workers, peak_rss_mib=round(peak / 1024, 1), said=said,
         note="accord match as a subprocess, end to end: Python start-up, the store, the "
              "benign lists, the matcher from its cache, its prefilters, the scan, JSON lines "
              "out, the audit entry")  # fmt: skip
    keys, wrong = cli_keys(output, ids)
    output.unlink()
    return [compare(f"match.{part}.cli_same_hits", reference, keys, wrong)]


def conn_part(args: argparse.Namespace, folder: Path) -> list[bool]:
    _, values = indicators_file(
        folder, "addresses.txt", "address", args.conn_indicators, address_indicators
    )
    path, lines = log_file(
        folder, "conn.log", "address", args.conn_megabytes, values, write_conn_log
    )
    size = path.stat().st_size
    note(f"conn: {lines:,} lines, {size / 1e6:.1f} MB; {len(values):,} address indicators")
    url, ingest_seconds, reused = load_store(folder, "conn-store.db", "address", values)
    info("match.conn.ingest", indicators=len(values), seconds=round(ingest_seconds, 1),
         per_s=round(len(values) / ingest_seconds), reused=reused,
         how=f"Ingester.ingest_objects, bundles of {BUNDLE:,}, SQLite")  # fmt: skip
    matcher, results = matcher_part("conn", url)
    addresses = {value.encode() for value in values if "/" not in value}
    found, speed, _ = speed_part(
        "conn", path, lines, matcher, lambda: conn_floor(str(path), addresses), args.repeat,
        args.workers, None,
    )  # fmt: skip
    results += speed
    ids = {indicator_id("address", number): value for number, value in enumerate(values)}
    seconds, reference = timed(lambda: conn_reference(str(path), values))
    note(f"conn reference: {len(reference):,} hits in {seconds:.1f} s")
    reference = _without_benign(reference, matcher, ids)
    keys, wrong = report_keys(found, ids)
    results.append(compare("match.conn.same_hits", reference, keys, wrong))
    if not args.no_cli:
        results += cli_part("conn", url, path, folder, size, args.workers, reference, ids)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=float, default=200, help="dns.log size")
    parser.add_argument("--indicators", type=int, default=1_000_000, help="domain indicators")
    parser.add_argument("--conn-megabytes", type=float, default=50, help="conn.log size")
    parser.add_argument("--conn-indicators", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of, floor and scan")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", type=Path, help="data (default var/bench-match)")
    parser.add_argument("--only", default="dns,conn", help="parts: dns, conn")
    parser.add_argument("--no-cli", action="store_true", help="skip the accord match runs")
    parser.add_argument("--no-anchors", action="store_true", help="skip grep, pyahocorasick")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args(argv)
    scratch = None
    if args.quick:
        args.megabytes, args.indicators, args.repeat = 2, 20_000, 1
        args.conn_megabytes, args.conn_indicators = 1, 20_000
        scan_module.PARALLEL_FROM = 0  # the two-worker path, on a small file
        if args.dir is None:
            scratch = tempfile.mkdtemp(prefix="bench-match-")
            args.dir = Path(scratch)
    folder: Path = args.dir or Path("var/bench-match")
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: list[bool] = []
    try:
        only = set(args.only.split(","))
        if "dns" in only:
            results += dns_part(args, folder)
        if "conn" in only:
            results += conn_part(args, folder)
    finally:
        if scratch is not None:  # the quick run's stores, and their matchers' cache files
            for cached in CACHE_FILES:
                cached.unlink(missing_ok=True)
            shutil.rmtree(scratch, ignore_errors=True)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info("match.memory", peak_rss_mib=round(own / 1024, 1),
         note="ru_maxrss of this process: the matcher, the references' sets, the automaton; "
              "accord match's own is in match.*.cli")  # fmt: skip
    note(f"{time.perf_counter() - started:.0f} s in all; {os.cpu_count()} cores; data in {folder}")
    if args.quick:
        return 0 if SAME_HITS and all(SAME_HITS) else 1
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
