"""Data for the dashboard's tests: two organisations each create one indicator per TLP level,
with values some of them share, and who must count what (EXPECTED, from the TLP 2.0 table by
hand, checked against the reference rule in tests/web/test_dashboard.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import update

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.store.node import Store
from accord.store.schema import objects
from community import Community

# Every test user of tests/web/portal_support.py, by the name the tests give them.
VIEWERS = ("analyst", "colleague", "investigator", "reader", "operator", "orgadmin", "admin")

# Indicators each of the two creators makes, one per level: who may see them.
# CERT's analyst names the police unit for AMBER (and AMBER+STRICT) and the investigator for
# RED; the police investigator names nobody (AMBER: the police unit; RED: himself).
SEES_CERT: dict[Tlp, set[str]] = {
    Tlp.CLEAR: set(VIEWERS),
    Tlp.GREEN: set(VIEWERS),
    Tlp.AMBER: {"analyst", "colleague", "admin", "investigator", "reader"},
    Tlp.AMBER_STRICT: {"analyst", "colleague", "admin", "investigator", "reader"},
    Tlp.RED: {"analyst", "investigator"},
}
SEES_POLICE: dict[Tlp, set[str]] = {
    Tlp.CLEAR: set(VIEWERS),
    Tlp.GREEN: set(VIEWERS),
    Tlp.AMBER: {"investigator", "reader"},
    Tlp.AMBER_STRICT: {"investigator", "reader"},
    Tlp.RED: {"investigator"},
}

# Values: each indicator holds its own, and some hold a shared one too.
SHARED_GREEN = "198.51.100.200"  # CERT CLEAR, CERT GREEN, CERT AMBER, police GREEN
SHARED_AMBER = "hidden-shared.example.net"  # CERT AMBER and police AMBER: the police sees both
SHARED_RED = "198.51.100.201"  # CERT RED and police RED: only the investigator sees both
HOLDS: dict[tuple[str, Tlp], list[str]] = {
    ("cert", Tlp.CLEAR): [SHARED_GREEN],
    ("cert", Tlp.GREEN): [SHARED_GREEN],
    ("cert", Tlp.AMBER): [SHARED_GREEN, SHARED_AMBER],
    ("police", Tlp.GREEN): [SHARED_GREEN],
    ("police", Tlp.AMBER): [SHARED_AMBER],
    ("cert", Tlp.RED): [SHARED_RED],
    ("police", Tlp.RED): [SHARED_RED],
}
DAYS_AGO: dict[tuple[str, Tlp], int] = {("cert", Tlp.AMBER): 3, ("police", Tlp.RED): 5}


def own_value(creator: str, level: Tlp) -> str:
    return f"{creator}-{level.slug.replace('+', '-')}.c2.example.net"


def indicator_id(creator: str, level: Tlp) -> str:
    number = {"cert": 1, "police": 2}[creator]
    return f"indicator--00000000-0000-4000-8000-0000000{number}000{int(level)}"


def name_of(creator: str, level: Tlp) -> str:
    return f"{creator} {level.label} dashboard indicator"


def indicator(creator: str, org_id: str, level: Tlp) -> dict[str, object]:
    values = [own_value(creator, level), *HOLDS.get((creator, level), [])]
    terms = [
        f"[ipv4-addr:value = '{v}']" if v[0].isdigit() else f"[domain-name:value = '{v}']"
        for v in values
    ]
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(creator, level),
        "created_by_ref": org_id,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": name_of(creator, level),
        "pattern": " OR ".join(terms),
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [level.marking_id],
    }


def seed(store: Store, community: Community, levels: tuple[Tlp, ...] = tuple(Tlp)) -> None:
    """The indicators of ``levels`` (by default the ten); some are dated days back
    (``DAYS_AGO``) for the chart."""
    makers = {
        "cert": (community.analyst, community.cert.id),
        "police": (community.investigator, community.police.id),
    }
    for creator, (user, org_id) in makers.items():
        ingester = Ingester(store, user)
        for level in levels:
            recipients = Recipients()
            if creator == "cert":
                recipients = (
                    Recipients(user_ids=frozenset({community.investigator.id}))
                    if level == Tlp.RED
                    else Recipients(org_ids=frozenset({community.police.id}))
                )
            data = orjson.dumps(
                {
                    "type": "bundle",
                    "id": "bundle--1",
                    "objects": [indicator(creator, org_id, level)],
                }
            )
            report = ingester.ingest_bytes(data, level.slug, IngestOptions(recipients=recipients))
            assert report.ok, report.summary()
    for (creator, level), days in DAYS_AGO.items():
        if level in levels:
            date_back(store, indicator_id(creator, level), days)


def date_back(store: Store, object_id: str, days: int) -> None:
    """As if the object had been stored ``days`` ago (UTC)."""
    moment = datetime.now(UTC) - timedelta(days=days)
    with store.engine.begin() as conn:
        conn.execute(
            update(objects)
            .where(objects.c.id == object_id)
            .values(date_added=moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        )


def expected_counts(name: str) -> dict[Tlp, int]:
    """How many of the ten indicators ``name`` may see, per level."""
    return {level: int(name in SEES_CERT[level]) + int(name in SEES_POLICE[level]) for level in Tlp}


def holders(value: str, name: str) -> int:
    """How many indicators holding ``value`` ``name`` may see."""
    sees = {"cert": SEES_CERT, "police": SEES_POLICE}
    return sum(
        1
        for (creator, level), values in HOLDS.items()
        if value in values and name in sees[creator][level]
    )
