"""STIX 2.1 out as MISP: a report and what it references become one MISP event.

The event is a plain dict in the shape ``pymisp.MISPEvent().load(...)`` accepts and MISP's
feeds serve (``{"Event": {...}}``). Indicators become ``to_ids`` attributes, observed-data
attributes without it, objects labelled ``misp:name`` become MISP objects again, domain
objects (attack patterns, malware, threat actors, ...) become galaxy clusters, and TLP
markings and labels become tags. Importing the result gives back the same STIX (same types,
pattern values and relationships: ``tests/export/test_misp_roundtrip.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from accord.export.misp.paths import guess_type, pattern_pairs, sco_pairs, value_for
from accord.model.tlp import MARKING_TLP, Tlp
from accord.model.visibility import may_leave_audience

__all__ = ["event_from_stix", "uuid_of"]

_LABEL: Final = re.compile(r'^misp:([a-z_-]+)="(.*)"$')
_GALAXY_TYPES: Final[dict[str, str]] = {
    "attack-pattern": "mitre-attack-pattern",
    "malware": "mitre-malware",
    "threat-actor": "threat-actor",
    "intrusion-set": "mitre-intrusion-set",
    "tool": "mitre-tool",
    "course-of-action": "mitre-course-of-action",
    "campaign": "campaign",
    "location": "country",
    "identity": "sector",
    "vulnerability": "branded-vulnerability",
}
_CATEGORY: Final[dict[str, str]] = {
    "domain-name": "Network activity",
    "ipv4-addr": "Network activity",
    "network-traffic": "Network activity",
    "url": "Network activity",
    "email-message": "Payload delivery",
    "email-addr": "Payload delivery",
    "windows-registry-key": "Persistence mechanism",
    "mutex": "Artifacts dropped",
}
_TLP_TAGS: Final[dict[Tlp, str]] = {
    Tlp.CLEAR: "tlp:clear",
    Tlp.GREEN: "tlp:green",
    Tlp.AMBER: "tlp:amber",
    Tlp.AMBER_STRICT: "tlp:amber+strict",
    Tlp.RED: "tlp:red",
}


def uuid_of(stix_id: str) -> str:
    return stix_id.partition("--")[2]


def epoch(timestamp: Any) -> str:
    """A STIX timestamp as the epoch seconds MISP writes (as a string)."""
    if not isinstance(timestamp, str):
        return "0"
    try:
        return str(int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()))
    except ValueError:
        return "0"


def _labels(obj: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """misp:* labels as a dict, and the other labels (tags)."""
    meta: dict[str, str] = {}
    tags: list[str] = []
    for label in obj.get("labels") or []:
        match = _LABEL.match(str(label))
        if match:
            meta[match.group(1)] = match.group(2)
        else:
            tags.append(str(label))
    return meta, tags


def _tags(obj: Mapping[str, Any], extra: list[str]) -> list[dict[str, str]]:
    names: list[str] = []
    for ref in obj.get("object_marking_refs") or []:
        level = MARKING_TLP.get(str(ref))
        if level is not None:
            names.append(_TLP_TAGS[level])
    names.extend(extra)
    return [{"name": name} for name in dict.fromkeys(names)]


def _category(meta: Mapping[str, str], obj: Mapping[str, Any], root_type: str) -> str:
    if "category" in meta:
        return meta["category"]
    for phase in obj.get("kill_chain_phases") or []:
        if isinstance(phase, Mapping) and phase.get("kill_chain_name") == "misp-category":
            return str(phase.get("phase_name"))
    return _CATEGORY.get(root_type, "Payload delivery")


class _EventBuilder:
    def __init__(self, by_id: Mapping[str, Mapping[str, Any]]) -> None:
        self.by_id = by_id
        self.attributes: list[dict[str, Any]] = []
        self.objects: list[dict[str, Any]] = []
        self.galaxies: dict[str, dict[str, Any]] = {}
        self.items: dict[str, dict[str, Any]] = {}  # STIX id -> the attribute or object

    def add(self, obj: Mapping[str, Any]) -> None:
        object_type = obj.get("type")
        if object_type == "indicator":
            self._indicator(obj)
        elif object_type == "observed-data":
            self._observed(obj)
        elif object_type == "x-misp-attribute":
            self._attribute(
                obj,
                str(obj.get("x_misp_type")),
                str(obj.get("x_misp_value")),
                bool(obj.get("x_misp_to_ids")),
                str(obj.get("x_misp_category") or "Other"),
            )
        elif object_type == "x-misp-object":
            self._object(obj, list(obj.get("x_misp_attributes") or []), str(obj.get("x_misp_name")))
        elif object_type in ("vulnerability", "campaign") and _labels(obj)[0].get("type"):
            meta, _ = _labels(obj)
            self._attribute(
                obj, meta["type"], str(obj.get("name")), False, _category(meta, obj, "")
            )
        elif object_type in _GALAXY_TYPES or object_type == "x-misp-galaxy-cluster":
            self._cluster(obj)

    def _attribute(
        self, obj: Mapping[str, Any], misp_type: str, value: str, to_ids: bool, category: str
    ) -> dict[str, Any]:
        _, tags = _labels(obj)
        attribute: dict[str, Any] = {
            "uuid": uuid_of(str(obj["id"])),
            "type": misp_type,
            "category": category,
            "value": value,
            "to_ids": to_ids,
            "distribution": "5",
            "timestamp": epoch(obj.get("modified")),
            "comment": str(obj.get("description") or obj.get("x_misp_comment") or ""),
            "Tag": _tags(obj, tags),
        }
        if obj.get("type") == "observed-data":
            attribute["first_seen"] = obj.get("first_observed")
            attribute["last_seen"] = obj.get("last_observed")
        self.attributes.append(attribute)
        self.items[str(obj["id"])] = attribute
        return attribute

    def _object(self, obj: Mapping[str, Any], attributes: list[Any], name: str) -> None:
        meta, tags = _labels(obj)
        misp_object = {
            "uuid": uuid_of(str(obj["id"])),
            "name": name,
            "meta-category": meta.get(
                "meta-category", str(obj.get("x_misp_meta_category") or "misc")
            ),
            "distribution": "5",
            "timestamp": epoch(obj.get("modified")),
            "Attribute": [
                {"distribution": "5", "category": "Other", **dict(attribute)}
                for attribute in attributes
                if isinstance(attribute, Mapping)
            ],
            "Tag": _tags(obj, tags),
        }
        self.objects.append(misp_object)
        self.items[str(obj["id"])] = misp_object

    def _pairs_object(
        self, obj: Mapping[str, Any], pairs: list[tuple[str, str]], to_ids: bool, name: str
    ) -> None:
        attributes = []
        for path, value in pairs:
            misp_type = guess_type([(path, value)]) or "text"
            relation = _RELATIONS.get(path) or misp_type
            attributes.append(
                {"object_relation": relation, "type": misp_type, "value": value, "to_ids": to_ids}
            )
        for key, value in obj.items():  # what the import kept as x_misp_<relation>
            if key.startswith("x_misp_"):
                attributes.append(
                    {"object_relation": key[7:].replace("_", "-"), "type": "text", "value": value}
                )
        self._object(obj, attributes, name)

    def _indicator(self, obj: Mapping[str, Any]) -> None:
        meta, _ = _labels(obj)
        pattern = str(obj.get("pattern", ""))
        pattern_type = str(obj.get("pattern_type", "stix"))
        if pattern_type != "stix":
            rule_type = meta.get("type") or pattern_type
            self._attribute(obj, rule_type, pattern, True, _category(meta, obj, ""))
            return
        pairs = pattern_pairs(pattern)
        if "name" in meta:
            self._pairs_object(obj, pairs, True, meta["name"])
            return
        misp_type: str | None = meta.get("type") or guess_type(pairs)
        value = value_for(misp_type, pairs) if misp_type else None
        if misp_type is None or value is None:
            return  # a pattern MISP has no attribute type for: see docs/misp.md
        root = pairs[0][0].partition(":")[0]
        attribute = self._attribute(obj, misp_type, value, True, _category(meta, obj, root))
        payload = dict(pairs).get("file:CONTENT_REF.PAYLOAD_BIN")
        if payload and misp_type in ("malware-sample", "attachment"):
            attribute["data"] = payload

    def _observed(self, obj: Mapping[str, Any]) -> None:
        meta, _ = _labels(obj)
        refs = [str(ref) for ref in obj.get("object_refs") or [] if str(ref) in self.by_id]
        scos = [self.by_id[ref] for ref in refs]
        referenced = {
            str(target)
            for sco in scos
            for key, value in sco.items()
            if key.endswith(("_ref", "_refs"))
            for target in (value if isinstance(value, list) else [value])
        }
        for sco in scos:  # body_multipart holds references one level down
            for part in sco.get("body_multipart") or []:
                if isinstance(part, Mapping):
                    referenced.add(str(part.get("body_raw_ref")))
        roots = [sco for sco in scos if str(sco["id"]) not in referenced]
        pairs = sco_pairs(roots, self.by_id)
        if "name" in meta:
            self._pairs_object(obj, pairs, False, meta["name"])
            return
        found_type: str | None = meta.get("type") or guess_type(pairs)
        value = value_for(found_type, pairs) if found_type else None
        if found_type is None or value is None:
            return
        misp_type = found_type
        root = str(roots[0]["type"]) if roots else ""
        attribute = self._attribute(obj, misp_type, value, False, _category(meta, obj, root))
        payload = dict(pairs).get("file:CONTENT_REF.PAYLOAD_BIN")
        if payload and misp_type in ("malware-sample", "attachment"):
            attribute["data"] = payload

    def _cluster(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        meta, _ = _labels(obj)
        stix_type = str(obj.get("type"))
        galaxy_type = meta.get("galaxy-type") or _GALAXY_TYPES.get(stix_type, stix_type)
        name = str(obj.get("name") or obj.get("x_misp_value") or "")
        cluster_meta: dict[str, Any] = dict(obj.get("x_misp_meta") or {})
        external_ids = [
            str(ref["external_id"])
            for ref in obj.get("external_references") or []
            if isinstance(ref, Mapping) and ref.get("external_id")
        ]
        urls = [
            str(ref["url"])
            for ref in obj.get("external_references") or []
            if isinstance(ref, Mapping) and ref.get("url")
        ]
        if external_ids:
            cluster_meta["external_id"] = external_ids
            if stix_type == "attack-pattern":
                name = f"{name} - {external_ids[0]}"
        if urls:
            cluster_meta["refs"] = urls
        if obj.get("kill_chain_phases"):
            cluster_meta["kill_chain"] = [
                f"{p['kill_chain_name']}:{p['phase_name']}" for p in obj["kill_chain_phases"]
            ]
        if obj.get("aliases"):
            cluster_meta["synonyms"] = list(obj["aliases"])
        if stix_type == "location" and obj.get("country"):
            cluster_meta["ISO"] = obj["country"]
        cluster = {
            "uuid": uuid_of(str(obj["id"])),
            "type": galaxy_type,
            "value": name,
            "tag_name": f'misp-galaxy:{galaxy_type}="{name}"',
            "description": str(obj.get("description") or ""),
            "meta": cluster_meta,
        }
        galaxy = self.galaxies.setdefault(
            galaxy_type,
            {
                "type": galaxy_type,
                "name": meta.get("galaxy-name", galaxy_type),
                "namespace": "misp",
                "GalaxyCluster": [],
            },
        )
        galaxy["GalaxyCluster"].append(cluster)
        self.items[str(obj["id"])] = cluster
        return cluster

    def relate(self, relationship: Mapping[str, Any]) -> None:
        """Attribute -> cluster: the attribute's galaxy; object -> object: a reference."""
        source = self.items.get(str(relationship.get("source_ref")))
        target = self.items.get(str(relationship.get("target_ref")))
        if source is None or target is None:
            return
        kind = str(relationship.get("relationship_type"))
        if "value" in target and "tag_name" in target:  # a galaxy cluster
            for galaxy in self.galaxies.values():
                if target in galaxy["GalaxyCluster"]:
                    entry = {**galaxy, "GalaxyCluster": [target]}
                    source.setdefault("Galaxy", []).append(entry)
            return
        if "name" in source and "Attribute" in source:
            source.setdefault("ObjectReference", []).append(
                {
                    "referenced_uuid": target["uuid"],
                    "relationship_type": kind,
                    "object_uuid": source["uuid"],
                }
            )


_RELATIONS: Final[dict[str, str]] = {
    "domain-name:VALUE": "domain",
    "domain-name:RESOLVES_TO_REFS.VALUE": "ip",
    "ipv4-addr:VALUE": "ip",
    "ipv6-addr:VALUE": "ip",
    "file:NAME": "filename",
    "file:SIZE": "size-in-bytes",
    "url:VALUE": "url",
    "network-traffic:DST_REF.VALUE": "ip-dst",
    "network-traffic:SRC_REF.VALUE": "ip-src",
    "network-traffic:DST_PORT": "dst-port",
    "network-traffic:SRC_PORT": "src-port",
    "windows-registry-key:KEY": "key",
    "windows-registry-key:VALUES.DATA": "data",
    "windows-registry-key:VALUES.NAME": "name",
    "mutex:NAME": "name",
    "autonomous-system:NUMBER": "asn",
}


def event_from_stix(
    report: Mapping[str, Any], objects: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """One MISP event (``{"Event": {...}}``) from a report and the objects it may show.

    ``objects`` maps ids to the referenced objects the reader may see (and the SCOs their
    observed-data reference); references to anything else are left out.
    """
    builder = _EventBuilder(objects)
    refs = [str(ref) for ref in report.get("object_refs") or []]
    relationships: list[Mapping[str, Any]] = []
    for ref in refs:
        obj = objects.get(ref)
        if obj is None:
            continue
        if obj.get("type") == "relationship":
            relationships.append(obj)
        else:
            builder.add(obj)
    for relationship in relationships:
        builder.relate(relationship)
    _, tags = _labels(report)
    creator = objects.get(str(report.get("created_by_ref")))
    level = max(
        (MARKING_TLP[r] for r in report.get("object_marking_refs") or [] if r in MARKING_TLP),
        default=None,
    )
    event: dict[str, Any] = {
        "uuid": uuid_of(str(report["id"])),
        "info": str(report.get("name") or ""),
        "date": str(report.get("x_misp_date") or str(report.get("published", ""))[:10]),
        "timestamp": epoch(report.get("modified")),
        "publish_timestamp": epoch(report.get("published")),
        # Published only when it came from a published MISP event: publishing in MISP releases
        # an event to sync and alerts, which a STIX report's `published` date does not ask.
        "published": report.get("x_misp_published") is True and bool(report.get("published")),
        "analysis": str(report.get("x_misp_analysis") or "2"),
        "threat_level_id": str(report.get("x_misp_threat_level_id") or "4"),
        # All communities for what may leave its audience (CLEAR, GREEN); else this
        # organisation only.
        "distribution": "3" if level is not None and may_leave_audience(level) else "0",
        "Tag": _tags(report, tags),
        "Attribute": builder.attributes,
        "Object": builder.objects,
        "Galaxy": list(builder.galaxies.values()),
    }
    if creator is not None and creator.get("type") == "identity":
        event["Orgc"] = {"name": str(creator.get("name")), "uuid": uuid_of(str(creator["id"]))}
    return {"Event": event}
