"""A MISP event to STIX 2.1: a report referencing everything the event holds.

- Attributes, objects and galaxy clusters map as ``attributes``, ``objects`` and ``galaxies``
  say; object references and attribute galaxies become relationships.
- Tags: ``tlp:*`` become the TLP 2.0 marking definitions (``tlp:white`` is CLEAR, ``tlp:ex:*``
  and unknown levels are kept as labels); every other tag is a label. An attribute's own TLP
  tag wins over the event's.
- Distribution becomes recipients, carried in Accord's recipients extension so that it travels
  with each object: 0 your organisation only (no recipients); 1, 2, 3 the community (every
  organisation of the node); 4 the sharing group's organisations, matched to this node's by
  name or uuid, and a sharing group of this node with the same name or uuid; 5 the event's.
  Recipients only matter for AMBER and AMBER+STRICT: CLEAR and GREEN are seen by the whole
  community anyway, and RED by named users only.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from accord.ingest.misp.attributes import Mapped, _truthy, attribute_labels, map_attribute
from accord.ingest.misp.galaxies import (
    clusters_of,
    galaxy_tag_names,
    map_cluster,
    relationship_type,
)
from accord.ingest.misp.objects import map_object, referenced_uuids
from accord.ingest.misp.observation import MISP_NAMESPACE, Envelope
from accord.model.tlp import Tlp

EPOCH = "1970-01-01T00:00:00.000Z"


@dataclass(frozen=True, slots=True)
class Audience:
    """How this node resolves MISP distribution levels to recipients."""

    community: tuple[str, ...] = ()  # identity ids of every organisation of the node
    org_by_key: Mapping[str, str] = field(default_factory=dict)  # lower name or uuid -> id
    group_named: Callable[[str], str | None] = lambda _: None  # name or uuid -> group name
    own_org: str | None = None  # what an event with nothing in it reports about (its importer)

    def recipients(
        self, distribution: str | None, sharing_group: Mapping[str, Any] | None
    ) -> dict[str, Any] | None:
        """The content of Accord's recipients extension for a distribution level."""
        if distribution in ("1", "2", "3"):
            orgs = list(self.community)
            groups: list[str] = []
        elif distribution == "4" and sharing_group:
            orgs, groups = self._sharing_group(sharing_group)
        else:
            return None
        if not orgs and not groups:
            return None
        return {
            "extension_type": "property-extension",
            "recipient_organizations": sorted(set(orgs)),
            "sharing_groups": sorted(set(groups)),
            "recipient_users": [],
        }

    def _sharing_group(self, sharing_group: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        orgs: list[str] = []
        for member in sharing_group.get("SharingGroupOrg") or []:
            org = member.get("Organisation") if isinstance(member, Mapping) else None
            if isinstance(org, Mapping):
                for key in (org.get("uuid"), org.get("name")):
                    found = self.org_by_key.get(str(key).lower()) if key else None
                    if found is not None:
                        orgs.append(found)
                        break
        groups: list[str] = []
        for key in (sharing_group.get("uuid"), sharing_group.get("name")):
            found = self.group_named(str(key)) if key else None
            if found is not None:
                groups.append(found)
                break
        return orgs, groups


@dataclass(slots=True)
class ConvertedEvent:
    """The STIX objects of one MISP event, and what each attribute and object became."""

    event_uuid: str
    report_id: str
    objects: list[dict[str, Any]]
    kinds: list[tuple[str, str]]  # (MISP type or "object:<name>", kind) per attribute/object
    warnings: list[str] = field(default_factory=list)


def stix_time(value: Any) -> str | None:
    """A MISP timestamp (epoch seconds, or ISO 8601 as first_seen is) in STIX form."""
    if isinstance(value, str | int):
        return _stix_time(value)
    return None


@functools.lru_cache(maxsize=8192)  # an event's attributes share a handful of timestamps
def _stix_time(value: str | int) -> str | None:
    if value is None or value == "" or value == "0" or value == 0:
        return None
    try:
        if isinstance(value, int | float) or str(value).isdigit():
            moment = datetime.fromtimestamp(int(value), UTC)
        else:
            text = str(value).replace("Z", "+00:00")
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            moment = moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tag_names(item: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for tag in item.get("Tag") or []:
        if isinstance(tag, Mapping) and isinstance(tag.get("name"), str):
            found.append(tag["name"])
        elif isinstance(tag, str):
            found.append(tag)
    return found


# The least restrictive TLP each MISP distribution level allows (docs/misp.md): 0 "your
# organisation only" is AMBER with no recipients; 1 "this community only" and 2 "connected
# communities" stay within members (GREEN); 3 "all communities" restricts nothing; 4, a
# sharing group, is AMBER for the group's organisations. 5 inherits the event's.
DISTRIBUTION_FLOOR: Final[Mapping[str, Tlp]] = {
    "0": Tlp.AMBER,
    "1": Tlp.GREEN,
    "2": Tlp.GREEN,
    "4": Tlp.AMBER,
}


def governing_tlp(tagged: Tlp | None, default: Tlp | None, distribution: str | None) -> Tlp | None:
    """The stricter of an item's TLP (its tag, else the import's default) and its MISP
    distribution, or None where the distribution restricts nothing and no tag was given (the
    import's default then applies as usual). A MISP event at distribution 0 tagged
    ``tlp:green`` is for its organisation only, not for the whole node (issue 14)."""
    floor = DISTRIBUTION_FLOOR.get(distribution or "")
    given = tagged if tagged is not None else default
    if floor is None or (given is not None and given >= floor):
        return tagged
    return floor


def tlp_in(tags: Sequence[str]) -> Tlp | None:
    """The most restrictive ``tlp:`` tag (TLP 1.0 white is 2.0 clear)."""
    found: Tlp | None = None
    for tag in tags:
        if tag.lower().startswith("tlp:"):
            try:
                level = Tlp.parse(tag)
            except ValueError:
                continue
            if found is None or level > found:
                found = level
    return found


def _event_uuid(event: Mapping[str, Any]) -> str:
    if event.get("uuid"):
        try:
            return str(uuid.UUID(str(event["uuid"])))
        except ValueError:
            return str(uuid.uuid5(MISP_NAMESPACE, str(event["uuid"])))
    digest = hashlib.sha256(orjson.dumps(event, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return str(uuid.uuid5(MISP_NAMESPACE, digest))


# A UUID already in the form `str(uuid.UUID(...))` prints (nearly every MISP uuid): kept as
# it is, without building a UUID object.
_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _item_uuid(item: Mapping[str, Any], event_uuid: str, where: str) -> str:
    given = str(item.get("uuid") or "")
    if given:
        if _CANONICAL_UUID.fullmatch(given) is not None:
            return given
        try:
            return str(uuid.UUID(given))
        except ValueError:  # PyMISP's own test files use "a", "b": keep them distinct
            return str(uuid.uuid5(MISP_NAMESPACE, f"{event_uuid}|{given}"))
    name = f"{event_uuid}|{where}|{item.get('type') or item.get('name')}|{item.get('value')}"
    return str(uuid.uuid5(MISP_NAMESPACE, name))


def _items(event: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = event.get(key) or []
    if not isinstance(items, list):
        return []
    return [
        dict(item)
        for item in items
        if isinstance(item, Mapping) and not _truthy(item.get("deleted"))
    ]


class EventConverter:
    """Converts events for one node (its audience) and one default TLP."""

    def __init__(self, audience: Audience | None = None) -> None:
        self.audience = audience or Audience()

    def convert(self, event: Mapping[str, Any], default_tlp: Tlp | None = None) -> ConvertedEvent:
        """``default_tlp``: the level objects without a TLP tag will get, when known; at CLEAR
        and GREEN recipients change nothing and are left out."""
        event_uuid = _event_uuid(event)
        modified = stix_time(event.get("timestamp")) or _date(event.get("date")) or EPOCH
        created = min(_date(event.get("date")) or modified, modified)
        tags = tag_names(event)
        event_tlp = tlp_in(tags)
        sharing_group = (
            event.get("SharingGroup") if isinstance(event.get("SharingGroup"), Mapping) else None
        )
        event_distribution = (
            str(event.get("distribution")) if event.get("distribution") is not None else None
        )
        event_recipients = self.audience.recipients(event_distribution, sharing_group)
        event_tlp = governing_tlp(event_tlp, default_tlp, event_distribution)
        event_level = event_tlp if event_tlp is not None else default_tlp
        report_recipients = (
            None
            if event_level is not None and (event_level <= Tlp.GREEN or event_level == Tlp.RED)
            else event_recipients
        )
        orgc = event.get("Orgc") if isinstance(event.get("Orgc"), Mapping) else None
        objects: list[dict[str, Any]] = []
        creator: str | None = None
        markings = (event_tlp.marking_id,) if event_tlp is not None else ()
        if orgc and orgc.get("uuid"):
            creator = f"identity--{orgc['uuid']}"
            identity = Envelope(created, created, markings=markings).sdo(
                "identity",
                creator,
                name=str(orgc.get("name") or orgc["uuid"]),
                identity_class="organization",
            )
            objects.append(identity)

        def envelope(item: Mapping[str, Any], labels: Sequence[str]) -> Envelope:
            item_tags = tag_names(item)
            distribution = (
                str(item.get("distribution")) if item.get("distribution") is not None else "5"
            )
            level = tlp_in(item_tags) or event_tlp
            if distribution != "5":
                level = governing_tlp(level, default_tlp, distribution)
            if distribution == "5":
                recipients = event_recipients
            else:
                group = (
                    item.get("SharingGroup")
                    if isinstance(item.get("SharingGroup"), Mapping)
                    else sharing_group
                )
                recipients = self.audience.recipients(distribution, group)
            stamp = stix_time(item.get("timestamp")) or modified
            effective = level if level is not None else default_tlp
            if effective is not None and (effective <= Tlp.GREEN or effective == Tlp.RED):
                recipients = None  # RED: the importing user only (MISP names no users)
            return Envelope(
                created=stamp,
                modified=stamp,
                created_by_ref=creator,
                markings=(level.marking_id,) if level is not None else (),
                labels=tuple(labels),
                extension=recipients,
                first_seen=stix_time(item.get("first_seen")),
                last_seen=stix_time(item.get("last_seen")),
                description=str(item["comment"]) if item.get("comment") else None,
            )

        kinds: list[tuple[str, str]] = []
        primary: dict[str, Mapped] = {}  # MISP uuid -> what it became
        refs: list[str] = []
        cluster_ids: dict[str, str] = {}  # "uuid|value" -> STIX id
        used_uuids: set[str] = set()
        event_env = Envelope(created, modified, creator, markings, (), report_recipients)

        def add_clusters(galaxies: Any, source: Mapped | None) -> None:
            for galaxy, found in clusters_of(galaxies):
                key = f"{found['uuid']}|{found.get('value')}"
                cluster = found
                if key not in cluster_ids and str(found["uuid"]) in used_uuids:
                    # Old MISP exports give every cluster of a galaxy the galaxy's uuid.
                    derived = uuid.uuid5(MISP_NAMESPACE, key)
                    cluster = {**found, "uuid": str(derived)}
                if key not in cluster_ids:
                    used_uuids.add(str(cluster["uuid"]))
                    sdo = map_cluster(galaxy, cluster, event_env)
                    cluster_ids[key] = sdo["id"]
                    objects.append(sdo)
                    refs.append(sdo["id"])
                if source is not None:
                    rel = event_env.relationship(
                        source.primary,
                        relationship_type(source.primary.partition("--")[0]),
                        cluster_ids[key],
                    )
                    objects.append(rel)
                    refs.append(rel["id"])

        for index, attribute in enumerate(_items(event, "Attribute")):
            attribute["uuid"] = _item_uuid(attribute, event_uuid, f"a{index}")
            item_tags = [t for t in tag_names(attribute) if tlp_in([t]) is None]
            mapped = map_attribute(
                attribute, envelope(attribute, attribute_labels(attribute, item_tags))
            )
            primary[attribute["uuid"]] = mapped
            kinds.append((str(attribute.get("type")), mapped.kind))
            objects.extend(mapped.objects)
            refs.append(mapped.primary)
            add_clusters(attribute.get("Galaxy"), mapped)

        misp_objects = _items(event, "Object")
        for index, misp_object in enumerate(misp_objects):
            misp_object["uuid"] = _item_uuid(misp_object, event_uuid, f"o{index}")
            labels = [f'misp:name="{misp_object.get("name", "")}"']
            if misp_object.get("meta-category"):
                labels.append(f'misp:meta-category="{misp_object["meta-category"]}"')
            labels.extend(t for t in tag_names(misp_object) if tlp_in([t]) is None)
            mapped = map_object(misp_object, envelope(misp_object, labels))
            primary[misp_object["uuid"]] = mapped
            for attribute in misp_object.get("Attribute") or []:
                if isinstance(attribute, Mapping) and attribute.get("uuid"):
                    primary.setdefault(str(attribute["uuid"]), mapped)
            kinds.append((f"object:{misp_object.get('name')}", mapped.kind))
            objects.extend(mapped.objects)
            refs.append(mapped.primary)

        for misp_object in misp_objects:
            source = primary[misp_object["uuid"]]
            for kind, target_uuid in referenced_uuids(misp_object):
                target = primary.get(target_uuid)
                if target is None or target.primary == source.primary:
                    continue
                rel = event_env.relationship(source.primary, kind, target.primary)
                objects.append(rel)
                refs.append(rel["id"])

        add_clusters(event.get("Galaxy"), None)
        hidden = galaxy_tag_names(event.get("Galaxy"))
        labels = [t for t in tags if tlp_in([t]) is None and t not in hidden]
        fallback = creator or self.audience.own_org
        report_refs = list(dict.fromkeys(refs)) or ([fallback] if fallback else [])
        warnings: list[str] = []
        report_id = f"report--{event_uuid}"
        properties: dict[str, Any] = {
            "name": str(event.get("info") or f"MISP event {event_uuid}"),
            "report_types": ["misp-event"],
            "published": stix_time(event.get("publish_timestamp")) or modified,
            "object_refs": report_refs,
            # A STIX report is always "published" (a timestamp); whether the MISP event was
            # published (released to sync and alerts) is kept apart, for the way back.
            "x_misp_published": _truthy(event.get("published")),
        }
        for key in ("threat_level_id", "analysis", "date"):
            if event.get(key) is not None:
                properties[f"x_misp_{key}"] = str(event[key])
        report = Envelope(
            created, modified, creator, markings, tuple(labels), report_recipients
        ).sdo("report", report_id, **properties)
        objects.append(report)
        return ConvertedEvent(event_uuid, report_id, objects, kinds, warnings)


def _date(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        moment = datetime.strptime(value[:10], "%Y-%m-%d")
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT00:00:00.000Z")
