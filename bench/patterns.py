"""STIX pattern benchmark (issue 19): many patterns against a stream of observations, Accord's
`accord.match.patterns.index.PatternIndex` beside the OASIS matcher (stix2-matcher 3.0.0).

Workload (fixed seed, `Workload`): patterns in the shapes of the real indicators in
../shared/data (the Unit 42 bundles, the OASIS examples, the match vectors): `=` on SHA-256 and
MD5 hashes, URLs, domains, IPv4 addresses and e-mail addresses (most of them, as in the real
bundles), a hash AND a size, OR lists of domains and addresses, LIKE '%.domain', MATCHES on URL
paths, ISSUBSET CIDRs, network-traffic by dst_ref.value and dst_port, IN sets, numeric
thresholds, e-mail by from_ref.value and subject, and a few observation expressions
(FOLLOWEDBY, AND, WITHIN, REPEATS). Observations are STIX 2.1 observed-data (object_refs, the
SCOs beside it: what Accord stores and TAXII 2.1 carries), each judged on its own; a few events
of each are made from a pattern's own values (some of them altered: a near miss), so that a
few per cent of observations match a pattern.

1. **Pairs** (`patterns.pairs`): ``--patterns`` x ``--observations`` (1,000 x 1,000). Accord:
   add every pattern, compile, then per observation `observations.load` (timed) and
   `index.match`. Anchor: `Pattern(text, "2.1")` once per pattern, then `.match([bundle])`
   per pair; when the pairs are more than ``--anchor-pairs`` (default 1,000,000: all of them,
   about 50 us a call), a fixed random sample of pairs is timed and the time extrapolated
   (``anchor_sampled`` says so; every pair either engine says matches is then run too,
   untimed). Targets: the same matches on every pair
   compared (``patterns.agreement.*``: the anchor's on the pairs it ran, Accord's own
   single-pattern `compile_pattern(p).evaluate([obs])` on every pair), and >= 100x the
   anchor's speed.
2. **Scale** (`patterns.scale.*`): ``--scale`` patterns (100,000) from the same generator
   compiled into one index (target < 30 s; `PatternIndex.stats()` printed), then
   ``--stream`` observations (20,000), loading included, at >= 50,000 observations/s. Memory:
   the peak resident set (VmHWM, reset through /proc/self/clear_refs before the part; the
   ru_maxrss delta where that reset is refused) less the resident set before it, and the
   resident set the compiled index keeps (VmRSS after the build less before).

Each figure is one JSON line on stdout: ``accord`` the figure, ``anchor`` what it is compared
with (the target where there is no other anchor), ``ratio`` and ``pass``.

    .venv/bin/python bench/patterns.py [--quick] [--patterns N] [--observations N]
        [--anchor-pairs N] [--scale N] [--stream N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import random
import resource
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from accord.match.patterns import PatternError, compile_pattern, observations
from accord.match.patterns.index import build

SEED = 19
TARGET_VS_ANCHOR = 100.0
TARGET_COMPILE_SECONDS = 30.0
TARGET_STREAM_RATE = 50_000.0
HIT_RATE = 0.02
"""The chance that one event of an observation is made from a pattern's own values."""
NEAR_MISS = 0.3
"""The chance that such an event then has one of its values altered."""


def line(name: str, accord: float, anchor: float, unit: str, target: float, ratio: float,
         **extra: object) -> bool:  # fmt: skip
    passed = ratio >= target
    out: dict[str, object] = {
        "bench": name,
        "accord": round(accord, 4),
        "anchor": round(anchor, 4),
        "unit": unit,
        "ratio": round(ratio, 2),
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


# -- the workload -------------------------------------------------------------------------------

Event = dict[str, Any]
"""What one event of an observation holds: `kind` ("file", "url", "domain", "ip", "email",
"connection") and the values a pattern named; the rest is filled in at random."""

_WORDS = [
    *("alpha", "bravo", "cloud", "delta", "update", "secure", "login", "mail", "cdn"),
    *("static", "portal", "api", "sync", "data", "store", "office", "track", "check"),
    *("micro", "web", "pay", "bank", "soft", "news", "link", "host"),
]
_TLDS = ["com", "net", "org", "ru", "cn", "info", "xyz", "top", "io", "biz"]
_EXTENSIONS = ["exe", "dll", "scr", "doc", "js", "vbs", "zip", "pdf"]
_URL_DIRS = ["wp-content", "wp-admin", "images", "admin", "files", "uploads", "panel", "gate"]
_URL_FILES = ["gate.php", "index.php", "config.bin", "load.php", "post.php", "tasks.php"]
_SUBJECTS = ["Invoice", "Payment", "Urgent", "Order", "Shipment", "Password", "Statement"]
_PORTS = [21, 22, 23, 25, 53, 80, 443, 445, 3389, 4444, 5555, 8080, 8443]
_TIMES = [f"2024-03-{day:02d}T{hour:02d}:00:00Z" for day in range(1, 29) for hour in range(24)]


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(slots=True)
class Workload:
    """Patterns and observations drawn from one seed; each pattern keeps the events that
    would match it (its witnesses), from which some observations are made."""

    seed: int = SEED
    rng: random.Random = field(init=False)
    witnesses: list[list[Event]] = field(default_factory=list)
    shapes: list[str] = field(default_factory=list)
    """The shape of each pattern (the name of the method that made it)."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # values, fresh each time (two draws rarely agree)

    def sha256(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def md5(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def domain(self, parent: str | None = None) -> str:
        rng = self.rng
        label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
        if parent is not None:
            return f"{rng.choice(_WORDS)}-{label}.{parent}"
        return f"{rng.choice(_WORDS)}-{label}.{rng.choice(_TLDS)}"

    def ipv4(self) -> str:
        rng = self.rng
        return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    def url(self, domain: str | None = None) -> str:
        rng = self.rng
        path = "/".join(rng.choice(_URL_DIRS) for _ in range(rng.randint(0, 2)))
        path = f"{path}/" if path else ""
        tail = rng.choice(_URL_FILES)
        return f"{rng.choice(['http', 'https'])}://{domain or self.domain()}/{path}{tail}?id={rng.randrange(10**6)}"

    def email(self) -> str:
        return f"{self.rng.choice(_WORDS)}.{self.rng.randrange(10**5)}@{self.domain()}"

    def file_name(self) -> str:
        return f"{self.rng.choice(_WORDS)}{self.rng.randrange(1000)}.{self.rng.choice(_EXTENSIONS)}"

    def size(self) -> int:
        return self.rng.randrange(1_000, 5_000_000)

    # patterns

    def pattern(self) -> str:
        """One pattern; its witnesses are appended to `self.witnesses`."""
        rng = self.rng
        makers: list[tuple[float, Callable[[], tuple[str, list[Event]]]]] = [
            (26, self._sha256),
            (4, self._md5),
            (12, self._url),
            (10, self._domain),
            (8, self._ipv4),
            (3, self._email),
            (5, self._hash_and_size),
            (5, self._or_list),
            (5, self._like_domain),
            (4, self._matches_url),
            (4, self._cidr),
            (5, self._connection),
            (3, self._in_set),
            (2, self._threshold),
            (1, self._large_file),
            (1, self._email_message),
            (3, self._observation_expression),
        ]
        weights = [weight for weight, _ in makers]
        maker = rng.choices([make for _, make in makers], weights)[0]
        text, witnesses = maker()
        self.witnesses.append(witnesses)
        self.shapes.append(maker.__name__.lstrip("_"))
        return text

    def patterns(self, count: int) -> list[str]:
        return [self.pattern() for _ in range(count)]

    def _sha256(self) -> tuple[str, list[Event]]:
        value = self.sha256()
        return f"[file:hashes.'SHA-256' = '{value}']", [{"kind": "file", "sha256": value}]

    def _md5(self) -> tuple[str, list[Event]]:
        value = self.md5()
        return f"[file:hashes.MD5 = '{value}']", [{"kind": "file", "md5": value}]

    def _url(self) -> tuple[str, list[Event]]:
        value = self.url()
        return f"[url:value = {_quote(value)}]", [{"kind": "url", "value": value}]

    def _domain(self) -> tuple[str, list[Event]]:
        value = self.domain()
        return f"[domain-name:value = '{value}']", [{"kind": "domain", "value": value}]

    def _ipv4(self) -> tuple[str, list[Event]]:
        value = self.ipv4()
        return f"[ipv4-addr:value = '{value}']", [{"kind": "ip", "value": value}]

    def _email(self) -> tuple[str, list[Event]]:
        value = self.email()
        return f"[email-addr:value = '{value}']", [{"kind": "email", "from": value}]

    def _hash_and_size(self) -> tuple[str, list[Event]]:
        sha, size = self.sha256(), self.size()
        text = f"[file:hashes.'SHA-256' = '{sha}' AND file:size = {size}]"
        return text, [{"kind": "file", "sha256": sha, "size": size}]

    def _or_list(self) -> tuple[str, list[Event]]:
        rng = self.rng
        tests, events = [], []
        for _ in range(rng.randint(2, 6)):
            if rng.random() < 0.4:
                value = self.domain()
                tests.append(f"domain-name:value = '{value}'")
                events.append({"kind": "domain", "value": value})
            else:
                value = self.ipv4()
                tests.append(f"ipv4-addr:value = '{value}'")
                events.append({"kind": "ip", "value": value})
        return f"[{' OR '.join(tests)}]", [rng.choice(events)]

    def _like_domain(self) -> tuple[str, list[Event]]:
        parent = self.domain()
        text = f"[domain-name:value LIKE '%.{parent}']"
        return text, [{"kind": "domain", "value": self.domain(parent)}]

    def _matches_url(self) -> tuple[str, list[Event]]:
        rng = self.rng
        folder = f"{rng.choice(_URL_DIRS)}{rng.randrange(1000)}"
        name = rng.choice(_URL_FILES).split(".")[0]
        text = f"[url:value MATCHES '^https?://[^/]+/{folder}/[a-z0-9]+/{name}\\\\.php']"
        url = f"http://{self.domain()}/{folder}/x{rng.randrange(99)}/{name}.php?q=1"
        return text, [{"kind": "url", "value": url}]

    def _cidr(self) -> tuple[str, list[Event]]:
        rng = self.rng
        prefix = rng.choice([16, 20, 24, 24, 24, 28])
        address = self.ipv4()
        network = int.from_bytes(bytes(int(part) for part in address.split(".")), "big")
        network &= (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
        inside = network | rng.randrange(1, 2 ** (32 - prefix) - 1)
        dotted = ".".join(str(b) for b in network.to_bytes(4, "big"))
        member = ".".join(str(b) for b in inside.to_bytes(4, "big"))
        text = f"[ipv4-addr:value ISSUBSET '{dotted}/{prefix}']"
        return text, [{"kind": "ip", "value": member}]

    def _connection(self) -> tuple[str, list[Event]]:
        address, port = self.ipv4(), self.rng.choice(_PORTS)
        text = (
            f"[network-traffic:dst_ref.value = '{address}' AND network-traffic:dst_port = {port}]"
        )
        return text, [{"kind": "connection", "value": address, "port": port}]

    def _in_set(self) -> tuple[str, list[Event]]:
        rng = self.rng
        if rng.random() < 0.5:
            values = [self.domain() for _ in range(rng.randint(2, 8))]
            text = f"[domain-name:value IN ({', '.join(map(_quote, values))})]"
            return text, [{"kind": "domain", "value": rng.choice(values)}]
        address = self.ipv4()
        ports = sorted(rng.sample(_PORTS, 3))
        text = (
            f"[network-traffic:dst_ref.value = '{address}' AND "
            f"network-traffic:dst_port IN ({', '.join(map(str, ports))})]"
        )
        return text, [{"kind": "connection", "value": address, "port": rng.choice(ports)}]

    def _threshold(self) -> tuple[str, list[Event]]:
        rng = self.rng
        if rng.random() < 0.5:
            name, size = self.file_name(), self.size()
            operator = rng.choice(["<", "<=", ">", ">="])
            text = f"[file:name = '{name}' AND file:size {operator} {size}]"
            matching = size - 1 if operator.startswith("<") else size + 1
            return text, [{"kind": "file", "name": name, "size": matching}]
        address = self.ipv4()
        text = f"[network-traffic:dst_ref.value = '{address}' AND network-traffic:dst_port > 49151]"
        return text, [{"kind": "connection", "value": address, "port": rng.randrange(49152, 65536)}]

    def _large_file(self) -> tuple[str, list[Event]]:
        size = 5_000_000 - self.rng.randrange(20_000)
        return f"[file:size > {size}]", [{"kind": "file", "size": size + 1}]

    def _email_message(self) -> tuple[str, list[Event]]:
        sender, subject = self.email(), self.rng.choice(_SUBJECTS)
        text = (
            f"[email-message:from_ref.value = '{sender}' AND "
            f"email-message:subject MATCHES '^(RE: )?{subject} [0-9]+']"
        )
        return text, [{"kind": "email", "from": sender, "subject": f"{subject} 4711"}]

    def _observation_expression(self) -> tuple[str, list[Event]]:
        rng = self.rng
        domain, address = self.domain(), self.ipv4()
        first = f"[domain-name:value = '{domain}']"
        second = f"[ipv4-addr:value = '{address}']"
        events: list[Event] = [
            {"kind": "domain", "value": domain},
            {"kind": "ip", "value": address},
        ]
        shape = rng.randrange(4)
        if shape == 0:
            return f"{first} FOLLOWEDBY {second} WITHIN 3600 SECONDS", events
        if shape == 1:
            return f"({first} AND {second}) WITHIN 600 SECONDS", events
        if shape == 2:
            return f"{second} REPEATS 2 TIMES WITHIN 3600 SECONDS", events[1:]
        return f"{first} OR {second}", [rng.choice(events)]

    # observations

    def observation(self, number: int, events: list[Event] | None = None) -> list[dict[str, Any]]:
        """One observed-data (STIX 2.1) and its SCOs: one to three events (or `events`)."""
        rng = self.rng
        scos: list[dict[str, Any]] = []
        if events is None:
            events = []
            for _ in range(rng.choice([1, 1, 2, 2, 3])):
                if self.witnesses and rng.random() < HIT_RATE:
                    event = dict(rng.choice(rng.choice(self.witnesses)))
                    if rng.random() < NEAR_MISS:
                        self._alter(event)
                else:
                    kinds = ["file", "file", "url", "domain", "ip", "connection", "email"]
                    event = {"kind": rng.choice(kinds)}
                events.append(event)
        for event in events:
            scos.extend(self._scos(event, number, len(scos)))
        first = rng.randrange(len(_TIMES) - 3)
        observed = {
            "type": "observed-data",
            "spec_version": "2.1",
            "id": f"observed-data--00000000-0000-4000-8000-{number:012d}",
            "created": _TIMES[first],
            "modified": _TIMES[first],
            "first_observed": _TIMES[first],
            "last_observed": _TIMES[first + rng.randrange(3)],
            "number_observed": rng.choice([1, 1, 1, 2, 5]),
            "object_refs": [sco["id"] for sco in scos],
        }
        return [observed, *scos]

    def observations(self, count: int, start: int = 0) -> list[list[dict[str, Any]]]:
        return [self.observation(start + number) for number in range(count)]

    def witness_observations(self, start: int) -> list[list[dict[str, Any]]]:
        """For each pattern, one observation of its own values, which it matches but for an
        observation expression of two brackets, or REPEATS, on an observation seen once (two
        brackets bind two distinct instances)."""
        return [
            self.observation(start + key, [dict(event) for event in events])
            for key, events in enumerate(self.witnesses)
        ]

    def _alter(self, event: Event) -> None:
        keys = [key for key in event if key != "kind"]
        key = self.rng.choice(keys)
        value = event[key]
        if isinstance(value, int):
            event[key] = value + self.rng.choice([-7, 3, 1000])
        elif key == "value" and event["kind"] == "domain":
            event[key] = value.replace(".", "-", 1)
        else:
            event[key] = value[:-1] + ("0" if value[-1] != "0" else "1")

    def _scos(self, event: Event, number: int, position: int) -> list[dict[str, Any]]:
        rng = self.rng
        kind = event["kind"]

        def sco_id(sco_type: str, offset: int = 0) -> str:
            return f"{sco_type}--{number:08x}-0000-4000-8000-{position + offset:012d}"

        if kind == "file":
            return [
                {
                    "type": "file",
                    "id": sco_id("file"),
                    "hashes": {
                        "SHA-256": event.get("sha256") or self.sha256(),
                        "MD5": event.get("md5") or self.md5(),
                    },
                    "name": event.get("name") or self.file_name(),
                    "size": event.get("size") or self.size(),
                }
            ]
        if kind == "url":
            return [{"type": "url", "id": sco_id("url"), "value": event.get("value") or self.url()}]
        if kind == "domain":
            value = event.get("value") or self.domain()
            return [{"type": "domain-name", "id": sco_id("domain-name"), "value": value}]
        if kind == "ip":
            value = event.get("value") or self.ipv4()
            return [{"type": "ipv4-addr", "id": sco_id("ipv4-addr"), "value": value}]
        if kind == "connection":
            source = {"type": "ipv4-addr", "id": sco_id("ipv4-addr"), "value": self.ipv4()}
            target = {
                "type": "ipv4-addr",
                "id": sco_id("ipv4-addr", 1),
                "value": event.get("value") or self.ipv4(),
            }
            traffic = {
                "type": "network-traffic",
                "id": sco_id("network-traffic", 2),
                "src_ref": source["id"],
                "dst_ref": target["id"],
                "src_port": rng.randrange(1024, 65536),
                "dst_port": event.get("port") or rng.choice(_PORTS),
                "protocols": ["ipv4", "tcp"],
            }
            return [source, target, traffic]
        sender = {
            "type": "email-addr",
            "id": sco_id("email-addr"),
            "value": event.get("from") or self.email(),
        }
        subject = event.get("subject") or f"{rng.choice(_SUBJECTS)} {rng.choice(_WORDS)}"
        message = {
            "type": "email-message",
            "id": sco_id("email-message", 1),
            "is_multipart": False,
            "from_ref": sender["id"],
            "subject": subject,
        }
        return [sender, message]


def bundle(items: list[dict[str, Any]], number: int) -> dict[str, Any]:
    return {
        "type": "bundle",
        "id": f"bundle--00000000-0000-4000-8000-{number:012d}",
        "objects": items,
    }


# -- part 1: pairs ------------------------------------------------------------------------------


def accord_pairs(
    patterns: list[str], stream: list[list[dict[str, Any]]]
) -> tuple[set[tuple[int, int]], set[tuple[int, int]], float, float]:
    """Accord's index: (matches, errors, seconds to build, seconds to load and match)."""
    started = time.perf_counter()
    index = build(enumerate(patterns), "2.1")
    built = time.perf_counter() - started
    matches: set[tuple[int, int]] = set()
    errors: set[tuple[int, int]] = set()
    started = time.perf_counter()
    for number, items in enumerate(stream):
        (observation,) = observations.load(items)
        failed: list[Any] = []
        for key in index.match(observation, failed):
            matches.add((key, number))  # type: ignore[arg-type]
        for key, _ in failed:
            errors.add((key, number))
    return matches, errors, built, time.perf_counter() - started


def accord_single(
    patterns: list[str], stream: list[list[dict[str, Any]]]
) -> tuple[set[tuple[int, int]], set[tuple[int, int]], float]:
    """Accord judging each pattern alone on every pair (`compile_pattern(p).evaluate`)."""
    compiled = [compile_pattern(text, "2.1") for text in patterns]
    matches: set[tuple[int, int]] = set()
    errors: set[tuple[int, int]] = set()
    started = time.perf_counter()
    for number, items in enumerate(stream):
        loaded = observations.load(items)
        for key, pattern in enumerate(compiled):
            try:
                if pattern.evaluate(loaded).matched:
                    matches.add((key, number))
            except PatternError:
                errors.add((key, number))
    return matches, errors, time.perf_counter() - started


def anchor_pairs(
    patterns: list[str], stream: list[list[dict[str, Any]]], pairs: list[tuple[int, int]]
) -> tuple[set[tuple[int, int]], set[tuple[int, int]], float, float]:
    """stix2-matcher on `pairs`: (matches, errors, seconds to compile, seconds to match)."""
    from stix2matcher.matcher import MatcherException, Pattern

    started = time.perf_counter()
    compiled = [Pattern(text, "2.1") for text in patterns]
    built = time.perf_counter() - started
    bundles = [bundle(items, number) for number, items in enumerate(stream)]
    matches: set[tuple[int, int]] = set()
    errors: set[tuple[int, int]] = set()
    started = time.perf_counter()
    for key, number in pairs:
        try:
            if compiled[key].match([bundles[number]]):
                matches.add((key, number))
        except MatcherException:
            errors.add((key, number))
    return matches, errors, built, time.perf_counter() - started


def _disagreements(
    name: str, ours: set[tuple[int, int]], theirs: set[tuple[int, int]], patterns: list[str]
) -> int:
    differ = sorted(ours ^ theirs)
    for key, number in differ[:5]:
        side = "Accord's index only" if (key, number) in ours else f"{name} only"
        note(f"disagreement ({side}): pattern {key} {patterns[key][:120]!r}, observation {number}")
    return len(differ)


def pairs_part(count: int, stream_count: int, anchor_limit: int, profile: bool) -> list[bool]:
    workload = Workload()
    patterns = workload.patterns(count)
    stream = workload.observations(stream_count)
    total = count * stream_count
    note(f"pairs: {count:,} patterns x {stream_count:,} observations (STIX 2.1)")

    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    ours, our_errors, built, took = accord_pairs(patterns, stream)
    if profiler:
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        print(text.getvalue(), file=sys.stderr)
    matching = len({number for _, number in ours})
    note(
        f"Accord: built in {built:.3f} s, loaded and matched in {took:.3f} s; {len(ours):,} "
        f"matching pairs, {matching:,} observations ({matching / stream_count:.1%}) match one "
        f"pattern or more, {len(our_errors):,} pairs raised"
    )

    shapes: dict[str, list[int]] = {}
    for shape in workload.shapes:
        shapes.setdefault(shape, [0, 0])[0] += 1
    for key, _ in ours:
        shapes[workload.shapes[key]][1] += 1
    info("patterns.workload", stix_version="2.1", patterns=count, observations=stream_count,
         scos=sum(len(items) - 1 for items in stream),
         shapes={shape: {"patterns": p, "matching_pairs": m} for shape, (p, m) in shapes.items()})  # fmt: skip

    single, single_errors, single_took = accord_single(patterns, stream)
    note(f"Accord single-pattern evaluation of every pair: {single_took:.1f} s")
    differ_single = _disagreements("single-pattern", ours, single, patterns)
    differ_single += _disagreements("single-pattern (errors)", our_errors, single_errors, patterns)

    # Matching pairs are rare in the stream; each pattern against an observation of its own
    # values makes one of every shape (Accord: all pairs; the anchor: those pairs, and every
    # other pair Accord says matches).
    witness_stream = workload.witness_observations(stream_count)
    ours_w, our_errors_w, _, _ = accord_pairs(patterns, witness_stream)
    single_w, single_errors_w, _ = accord_single(patterns, witness_stream)
    differ_w = _disagreements("single-pattern (witnesses)", ours_w, single_w, patterns)
    differ_w += _disagreements(
        "single-pattern (witnesses, errors)", our_errors_w, single_errors_w, patterns
    )
    diagonal = sorted({(key, key) for key in range(count)} | ours_w | our_errors_w)
    theirs_w, their_errors_w, _, _ = anchor_pairs(patterns, witness_stream, diagonal)
    on_diagonal = set(diagonal)
    differ_w_anchor = _disagreements(
        "stix2-matcher (witnesses)", ours_w & on_diagonal, theirs_w, patterns
    )
    differ_w_anchor += _disagreements(
        "stix2-matcher (witnesses, errors)", our_errors_w & on_diagonal, their_errors_w, patterns
    )
    own = sum(1 for key in range(count) if (key, key) in ours_w)
    note(f"witnesses: {own:,} of {count:,} patterns match an observation of their own values")

    everything = [(key, number) for key in range(count) for number in range(stream_count)]
    sampled = total > anchor_limit
    sample = sorted(random.Random(SEED).sample(everything, anchor_limit)) if sampled else everything
    theirs, their_errors, anchor_built, anchor_took = anchor_pairs(patterns, stream, sample)
    anchor_seconds = anchor_built + anchor_took * total / len(sample)
    sample_set = set(sample)
    ours_on_sample = {pair for pair in ours if pair in sample_set}
    errors_on_sample = {pair for pair in our_errors if pair in sample_set}
    differ_anchor = _disagreements("stix2-matcher", ours_on_sample, theirs, patterns)
    differ_anchor += _disagreements(
        "stix2-matcher (errors)", errors_on_sample, their_errors, patterns
    )
    checked_matches = len(theirs | ours_on_sample)
    if sampled:
        # Matching pairs are a few in a thousand; the sample holds few of them. Every pair that
        # either engine says matches is also run through the anchor (not timed).
        extra = sorted((ours | single) - sample_set)
        extra_theirs, extra_errors, _, _ = anchor_pairs(patterns, stream, extra)
        extra_set = set(extra)
        differ_anchor += _disagreements(
            "stix2-matcher", {pair for pair in ours if pair in extra_set}, extra_theirs, patterns
        )
        differ_anchor += len(extra_errors)
        checked_matches += len(extra_theirs | (ours & extra_set))
    note(
        f"stix2-matcher: compiled in {anchor_built:.2f} s, {len(sample):,} pairs matched in "
        f"{anchor_took:.1f} s ({anchor_took / len(sample) * 1e6:.0f} us a pair)"
        + (f", {total:,} pairs extrapolated: {anchor_seconds:.0f} s" if sampled else "")
    )

    our_seconds = built + took
    results = [
        line(
            "patterns.agreement.single_pattern",
            total - differ_single, total, "pairs", 1.0, (total - differ_single) / total,
            disagreements=differ_single, matching_pairs=len(ours),
            observations_matching=matching, errors=len(our_errors),
        ),
        line(
            "patterns.agreement.stix2_matcher",
            len(sample) - differ_anchor, len(sample), "pairs", 1.0,
            (len(sample) - differ_anchor) / len(sample), disagreements=differ_anchor,
            sampled=sampled, matching_pairs_compared=checked_matches,
        ),
        line(
            "patterns.agreement.witnesses",
            count * count - differ_w - differ_w_anchor, count * count, "pairs", 1.0,
            (count * count - differ_w - differ_w_anchor) / (count * count),
            disagreements=differ_w, anchor_pairs=len(diagonal),
            anchor_disagreements=differ_w_anchor,
            matching_pairs=len(ours_w), patterns_matching_own=own,
        ),
        line(
            f"patterns.pairs_{count}x{stream_count}.vs_stix2_matcher",
            our_seconds, anchor_seconds, "s", TARGET_VS_ANCHOR, anchor_seconds / our_seconds,
            accord_compile_s=round(built, 3), accord_match_s=round(took, 3),
            anchor_compile_s=round(anchor_built, 2),
            anchor_sampled=sampled, anchor_pairs_timed=len(sample),
            anchor_us_per_pair=round(anchor_took / len(sample) * 1e6, 1),
        ),
    ]  # fmt: skip
    return results


# -- part 2: scale ------------------------------------------------------------------------------


def _status(field_name: str) -> int:
    """A field of /proc/self/status, in KiB (0 where there is none)."""
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith(field_name + ":"):
                return int(row.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def scale_part(count: int, stream_count: int, profile: bool) -> list[bool]:
    workload = Workload()
    patterns = workload.patterns(count)
    stream = workload.observations(stream_count)
    note(f"scale: {count:,} patterns, {stream_count:,} observations")
    gc.collect()
    rss_before = _status("VmRSS")
    reset = _reset_peak()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    started = time.perf_counter()
    index = build(enumerate(patterns), "2.1")
    compile_seconds = time.perf_counter() - started
    gc.collect()
    rss_index = _status("VmRSS") - rss_before
    stats = index.stats()

    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    matched = 0
    started = time.perf_counter()
    for items in stream:
        for observation in observations.load(items):
            if index.match(observation, []):
                matched += 1
    stream_seconds = time.perf_counter() - started
    if profiler:
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(20)
        print(text.getvalue(), file=sys.stderr)
    rate = stream_count / stream_seconds
    if reset:
        peak, how = _status("VmHWM") - rss_before, "VmHWM (reset) - VmRSS before"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before
        how = "ru_maxrss delta"
    info(
        f"patterns.scale_{count}.stats",
        patterns=stats.patterns,
        brackets=stats.brackets,
        by_trigger=stats.by_trigger,
        regexes=stats.regexes,
        regexes_left_to_python=stats.regexes_left_to_python,
        compile_seconds=round(stats.compile_seconds, 3),
    )
    info(
        f"patterns.scale_{count}.memory",
        peak_mib=round(peak / 1024, 1),
        index_rss_mib=round(rss_index / 1024, 1),
        how=how + "; index_rss: VmRSS after the build - before",
    )
    return [
        line(f"patterns.scale_{count}.compile", compile_seconds, TARGET_COMPILE_SECONDS, "s",
             1.0, TARGET_COMPILE_SECONDS / compile_seconds),
        line(f"patterns.scale_{count}.observations_per_s", rate, TARGET_STREAM_RATE, "obs/s",
             1.0, rate / TARGET_STREAM_RATE, observations=stream_count,
             observations_matching=matched, loading_included=True),
    ]  # fmt: skip


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--patterns", type=int, default=1000)
    parser.add_argument("--observations", type=int, default=1000)
    parser.add_argument(
        "--anchor-pairs", type=int, default=1_000_000,
        help="pairs the anchor runs; beyond this it runs a fixed sample, extrapolated",
    )  # fmt: skip
    parser.add_argument("--scale", type=int, default=100_000, help="patterns in one index")
    parser.add_argument("--stream", type=int, default=20_000, help="observations against it")
    parser.add_argument("--profile", action="store_true", help="cProfile Accord's side")
    parser.add_argument("--only", default="pairs,scale", help="parts to run: pairs, scale")
    args = parser.parse_args(None if argv is None else list(argv))
    if args.quick:
        args.patterns, args.observations, args.anchor_pairs = 200, 200, 5_000
        args.scale, args.stream = 5_000, 2_000
    only = set(args.only.split(","))
    results = []
    if "pairs" in only:
        results += pairs_part(args.patterns, args.observations, args.anchor_pairs, args.profile)
    if "scale" in only:
        results += scale_part(args.scale, args.stream, args.profile)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
