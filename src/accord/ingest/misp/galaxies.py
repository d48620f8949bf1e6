"""MISP galaxy clusters to STIX 2.1 domain objects (misp_galaxies_to_stix21.json).

A cluster becomes the STIX object its galaxy describes (attack-pattern, malware,
threat-actor, intrusion-set, tool, course-of-action, vulnerability, campaign, location,
identity for sectors), with the cluster's uuid as the object's, so that a cluster used by many
events is one object with versions. Galaxies of unknown types become ``x-misp-galaxy-cluster``
custom objects. Attribute-level clusters are linked to what the attribute became by a
relationship (``indicates`` from an indicator, else ``related-to``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from accord.ingest.misp.observation import Envelope

# galaxy type -> STIX type. "mitre-*" galaxies of every ATT&CK matrix share a suffix.
GALAXY_TYPES: Final[dict[str, str]] = {
    "mitre-attack-pattern": "attack-pattern",
    "attack-pattern": "attack-pattern",
    "mitre-malware": "malware",
    "malware": "malware",
    "malpedia": "malware",
    "android": "malware",
    "banker": "malware",
    "botnet": "malware",
    "backdoor": "malware",
    "ransomware": "malware",
    "rat": "malware",
    "stealer": "malware",
    "threat-actor": "threat-actor",
    "mitre-intrusion-set": "intrusion-set",
    "intrusion-set": "intrusion-set",
    "mitre-tool": "tool",
    "tool": "tool",
    "exploit-kit": "tool",
    "mitre-course-of-action": "course-of-action",
    "course-of-action": "course-of-action",
    "branded-vulnerability": "vulnerability",
    "vulnerability": "vulnerability",
    "campaign": "campaign",
    "country": "location",
    "region": "location",
    "location": "location",
    "sector": "identity",
}
_SUFFIXES: Final[tuple[tuple[str, str], ...]] = (
    ("-attack-pattern", "attack-pattern"),
    ("-malware", "malware"),
    ("-intrusion-set", "intrusion-set"),
    ("-tool", "tool"),
    ("-course-of-action", "course-of-action"),
    ("-threat-actor", "threat-actor"),
    ("-campaign", "campaign"),
    ("-vulnerability", "vulnerability"),
    ("-location", "location"),
)
# Types that keep a cluster's synonyms as STIX aliases (section 4).
_ALIASED: Final = frozenset({"threat-actor", "intrusion-set", "malware", "tool", "campaign"})


def stix_type_for_galaxy(galaxy_type: str) -> str | None:
    found = GALAXY_TYPES.get(galaxy_type)
    if found is not None:
        return found
    for suffix, stix_type in _SUFFIXES:
        if galaxy_type.endswith(suffix):
            return stix_type
    return None


def clusters_of(galaxies: Any) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(galaxy, cluster) for every cluster of a ``Galaxy`` list."""
    if not isinstance(galaxies, list):
        return
    for galaxy in galaxies:
        if not isinstance(galaxy, Mapping):
            continue
        for cluster in galaxy.get("GalaxyCluster") or []:
            if isinstance(cluster, Mapping) and cluster.get("uuid"):
                yield galaxy, cluster


def map_cluster(
    galaxy: Mapping[str, Any], cluster: Mapping[str, Any], envelope: Envelope
) -> dict[str, Any]:
    """One galaxy cluster as a STIX domain object."""
    galaxy_type = str(galaxy.get("type") or cluster.get("type") or "")
    stix_type = stix_type_for_galaxy(galaxy_type)
    meta = cluster.get("meta") if isinstance(cluster.get("meta"), Mapping) else {}
    assert isinstance(meta, Mapping)
    value = str(cluster.get("value", ""))
    labels = (
        f'misp:galaxy-name="{galaxy.get("name", galaxy_type)}"',
        f'misp:galaxy-type="{galaxy_type}"',
    )
    common = Envelope(
        envelope.created,
        envelope.modified,
        envelope.created_by_ref,
        envelope.markings,
        labels,
        envelope.extension,
        description=str(cluster["description"]) if cluster.get("description") else None,
    )
    if stix_type is None:
        return common.sdo(
            "x-misp-galaxy-cluster",
            f"x-misp-galaxy-cluster--{cluster['uuid']}",
            x_misp_type=galaxy_type,
            x_misp_value=value,
            x_misp_meta=dict(meta),
        )
    external_ids = _strings(meta.get("external_id"))
    name = value
    for external_id in external_ids:
        name = name.removesuffix(f" - {external_id}")
    properties: dict[str, Any] = {"name": name}
    if stix_type == "malware":
        properties["is_family"] = True
    if stix_type == "location":
        properties.update(_place(galaxy_type, value, meta))
        # "sweden" is the country Sweden; "154 - Northern Europe" is the region's code and name.
        if galaxy_type == "country":
            properties["name"] = value.title()
        elif " - " in value:
            properties["name"] = value.partition(" - ")[2]
    if stix_type == "identity":
        properties["identity_class"] = "class"
        properties["sectors"] = [value.lower().replace(" ", "-")]
    phases = [
        {"kill_chain_name": chain, "phase_name": phase}
        for chain, _, phase in (item.partition(":") for item in _strings(meta.get("kill_chain")))
        if chain and phase
    ]
    if phases and stix_type in ("attack-pattern", "malware", "tool"):
        properties["kill_chain_phases"] = phases
    synonyms = _strings(meta.get("synonyms"))
    if synonyms and stix_type in _ALIASED:
        properties["aliases"] = synonyms
    references: list[dict[str, str]] = []
    source = "cve" if stix_type == "vulnerability" else _source_name(galaxy_type)
    references.extend({"source_name": source, "external_id": e} for e in external_ids)
    references.extend({"source_name": "url", "url": url} for url in _strings(meta.get("refs")))
    if references:
        properties["external_references"] = references
    return common.sdo(stix_type, f"{stix_type}--{cluster['uuid']}", **properties)


def _source_name(galaxy_type: str) -> str:
    return "mitre-attack" if galaxy_type.startswith("mitre-") else galaxy_type


def _place(galaxy_type: str, value: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    """A location needs a region, a country or coordinates (STIX 2.1 section 4.11)."""
    if galaxy_type == "country":
        iso = _strings(meta.get("ISO")) or _strings(meta.get("iso"))
        return {"country": iso[0] if iso else value}
    return {"region": (value.partition(" - ")[2] or value).lower().replace(" ", "-")}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, str | int)]
    return []


def galaxy_tag_names(galaxies: Any) -> set[str]:
    """The ``misp-galaxy:...`` tags that repeat clusters present as galaxies."""
    names: set[str] = set()
    for galaxy, cluster in clusters_of(galaxies):
        tag = cluster.get("tag_name")
        if isinstance(tag, str):
            names.add(tag)
        names.add(f'misp-galaxy:{galaxy.get("type")}="{cluster.get("value")}"')
    return names


def relationship_type(source_type: str) -> str:
    """STIX 2.1 section 4.7: an indicator ``indicates``; anything else is ``related-to``."""
    return "indicates" if source_type == "indicator" else "related-to"
