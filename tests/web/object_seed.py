"""Objects for the object page's tests: an indicator shared with the community (GREEN) and,
around it, what only some may see: an AMBER malware and the relationships to it, a RED case
report, a police sighting, an AMBER identity named as its creator, and an AMBER indicator
of the same value (a correlation). Created by the leak matrix's cast (tests/community.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.store.node import Store
from accord.store.organisations import User
from community import Community

CREATED = "2026-03-01T10:00:00.000Z"
VALUE = "198.51.100.200"


def sid(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def sdo(kind: str, name: str, level: Tlp, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": sid(kind, name),
        "created": CREATED,
        "modified": CREATED,
        "name": name,
        "object_marking_refs": [level.marking_id],
        **extra,
    }


def indicator(name: str, level: Tlp, value: str = VALUE, **extra: Any) -> dict[str, Any]:
    return sdo(
        "indicator",
        name,
        level,
        pattern=f"[ipv4-addr:value = '{value}']",
        pattern_type="stix",
        valid_from=CREATED,
        indicator_types=["malicious-activity"],
        confidence=80,
        **extra,
    )


def relationship(source: str, kind: str, target: str, level: Tlp) -> dict[str, Any]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": sid("relationship", f"{source} {kind} {target}"),
        "created": CREATED,
        "modified": CREATED,
        "relationship_type": kind,
        "source_ref": source,
        "target_ref": target,
        "object_marking_refs": [level.marking_id],
    }


def ingest(
    store: Store,
    user: User,
    objects: list[dict[str, Any]],
    recipients: Recipients = Recipients(),
    level: Tlp | None = None,
) -> None:
    data = orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})
    report = Ingester(store, user).ingest_bytes(
        data, "test", IngestOptions(tlp=level, recipients=recipients)
    )
    assert report.ok, report.summary()


@dataclass
class Seeded:
    visible: dict[str, Any]  # the GREEN indicator every member may see
    hidden: list[dict[str, Any]]  # what the water utility (an outsider) may not see


def seed_neighbourhood(store: Store, community: Community) -> Seeded:
    police = Recipients(org_ids=frozenset({community.police.id}))
    investigator = Recipients(user_ids=frozenset({community.investigator.id}))
    creator = sdo("identity", "Hidden Identity Org", Tlp.AMBER, identity_class="organization")
    visible = indicator("Visible community indicator", Tlp.GREEN, created_by_ref=creator["id"])
    malware = sdo("malware", "Hidden Amber Malware", Tlp.AMBER, is_family=True)
    family = sdo("malware", "Secret Family", Tlp.AMBER, is_family=False)
    twin = indicator("Amber twin of the value", Tlp.AMBER)
    amber_rel = relationship(visible["id"], "indicates", malware["id"], Tlp.AMBER)
    # Visible itself, but its other end is hidden: the page drops it whole.
    green_rel = relationship(visible["id"], "indicates", family["id"], Tlp.GREEN)
    report = sdo(
        "report",
        "Red Case Report",
        Tlp.RED,
        published=CREATED,
        report_types=["threat-report"],
        object_refs=[visible["id"], malware["id"]],
    )
    sighting = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": sid("sighting", "police saw it"),
        "created": CREATED,
        "modified": CREATED,
        "created_by_ref": community.police.id,
        "sighting_of_ref": visible["id"],
        "where_sighted_refs": [community.police.id],
        "count": 3,
        "first_seen": CREATED,
        "last_seen": CREATED,
        "object_marking_refs": [Tlp.AMBER.marking_id],
    }
    ingest(store, community.analyst, [creator, malware, family, twin, amber_rel], police)
    ingest(store, community.analyst, [visible, green_rel])
    ingest(store, community.analyst, [report], investigator)
    ingest(store, community.investigator, [sighting])
    return Seeded(visible, [creator, malware, family, twin, amber_rel, report, sighting])
