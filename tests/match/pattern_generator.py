"""Reproducible random patterns and observations, to run the engine beside the OASIS matcher
on the parts of the language its recorded vectors do not reach (observation operators,
qualifiers, references, many observations)."""

from __future__ import annotations

import random
from typing import Any

_DOMAINS = ["evil.example", "a.evil.example", "good.example", "x.test"]
_ADDRESSES = ["10.0.0.1", "10.0.0.77", "192.168.1.5", "203.0.113.9"]
_NAMES = ["a.exe", "b.dll", "readme.txt"]
_TIMES = [f"2024-01-01T00:{minute:02d}:00Z" for minute in range(0, 50, 5)]


def _sco(rng: random.Random, key: int) -> dict[str, Any]:
    kind = rng.choice(["domain-name", "ipv4-addr", "file", "network-traffic"])
    if kind == "domain-name":
        return {"type": kind, "value": rng.choice(_DOMAINS)}
    if kind == "ipv4-addr":
        return {"type": kind, "value": rng.choice(_ADDRESSES)}
    if kind == "file":
        return {"type": kind, "name": rng.choice(_NAMES), "size": rng.choice([10, 500, 5000])}
    return {"type": kind, "dst_port": rng.choice([53, 80, 443]), "protocols": ["tcp"]}


def observations(rng: random.Random) -> list[dict[str, Any]]:
    """Observed-data, STIX 2.0 style (objects embedded): 1 to 4 of them, each with 1 to 3
    objects; a network-traffic refers to an address of its own observed-data."""
    out = []
    for position in range(rng.randint(1, 4)):
        objects: dict[str, Any] = {}
        for key in range(rng.randint(1, 3)):
            objects[str(key)] = _sco(rng, key)
        addresses = [k for k, o in objects.items() if o["type"] == "ipv4-addr"]
        for obj in objects.values():
            if obj["type"] == "network-traffic" and addresses:
                obj["dst_ref"] = rng.choice(addresses)
        first = rng.randrange(len(_TIMES) - 2)
        out.append(
            {
                "type": "observed-data",
                "id": f"observed-data--00000000-0000-4000-8000-{position:012d}",
                "first_observed": _TIMES[first],
                "last_observed": _TIMES[first + rng.randint(0, 2)],
                "number_observed": rng.choice([1, 1, 2, 3]),
                "objects": objects,
            }
        )
    return out


def as_v21(observed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same observations as STIX 2.1: object_refs and the SCOs beside them."""
    out: list[dict[str, Any]] = []
    for number, sdo in enumerate(observed):
        ids = {
            key: f"{obj['type']}--{number:08d}-0000-4000-8000-{int(key):012d}"
            for key, obj in sdo["objects"].items()
        }
        scos = []
        for key, obj in sdo["objects"].items():
            sco = dict(obj, id=ids[key])
            if "dst_ref" in sco:
                sco["dst_ref"] = ids[sco["dst_ref"]]
            scos.append(sco)
        wrapper = {k: v for k, v in sdo.items() if k != "objects"}
        wrapper["object_refs"] = [s["id"] for s in scos]
        out.append(wrapper)
        out.extend(scos)
    return out


def _test(rng: random.Random) -> str:
    return rng.choice(
        [
            f"domain-name:value = '{rng.choice(_DOMAINS)}'",
            f"domain-name:value LIKE '%{rng.choice(['evil.example', '.example', 'x%'])}'",
            "domain-name:value MATCHES '^[a-z]+\\\\.evil'",
            f"domain-name:value != '{rng.choice(_DOMAINS)}'",
            f"ipv4-addr:value = '{rng.choice(_ADDRESSES)}'",
            f"ipv4-addr:value ISSUBSET '{rng.choice(['10.0.0.0/24', '192.168.0.0/16'])}'",
            f"ipv4-addr:value IN ('{rng.choice(_ADDRESSES)}', '{rng.choice(_ADDRESSES)}')",
            f"file:name = '{rng.choice(_NAMES)}'",
            f"file:size {rng.choice(['>', '<', '>=', '<='])} {rng.choice([10, 500, 1000])}",
            "file:name NOT LIKE '%.exe'",
            f"network-traffic:dst_port = {rng.choice([53, 80, 443])}",
            f"network-traffic:dst_ref.value = '{rng.choice(_ADDRESSES)}'",
            "network-traffic:protocols[*] = 'tcp'",
            "network-traffic:protocols[0] = 'udp'",
        ]
    )


def _bracket(rng: random.Random) -> str:
    expression = _test(rng)
    for _ in range(rng.choice([0, 0, 1, 2])):
        expression = f"{expression} {rng.choice(['AND', 'OR'])} {_test(rng)}"
    return f"[{expression}]"


def _observation(rng: random.Random, depth: int, start_stop: bool) -> str:
    if depth == 0 or rng.random() < 0.4:
        text = _bracket(rng)
    else:
        left = _observation(rng, depth - 1, start_stop)
        right = _observation(rng, depth - 1, start_stop)
        text = f"({left} {rng.choice(['AND', 'OR', 'FOLLOWEDBY'])} {right})"
    roll = rng.random()
    if roll < 0.15:
        text += f" WITHIN {rng.choice([60, 300, 900, 1.5])} SECONDS"
    elif roll < 0.25:
        text += f" REPEATS {rng.choice([2, 3])} TIMES"
    elif roll < 0.33 and start_stop:
        start, stop = sorted(rng.sample(_TIMES, 2))
        text += f" START t'{start}' STOP t'{stop}'"
    return text


def pattern(rng: random.Random, *, start_stop: bool = True) -> str:
    """A pattern of 1 to about 6 brackets joined by observation operators, with qualifiers
    (START/STOP only if `start_stop`)."""
    text = _observation(rng, rng.choice([0, 1, 2]), start_stop)
    if rng.random() < 0.3:
        text = f"{text} {rng.choice(['AND', 'OR', 'FOLLOWEDBY'])} {_bracket(rng)}"
    return text
