"""A MISP feed of what one viewer may see: ``manifest.json``, ``<uuid>.json``, ``hashes.csv``.

A real MISP subscribes to a feed by fetching ``manifest.json`` (event uuid -> summary), then
each event it lacks, and uses ``hashes.csv`` (md5 of each attribute value, event uuid) for
look-ups without downloading events. Every report the viewer may see is one event; every read
goes through ``store.objects`` with the viewer, so the visibility rule decides what is in the
feed and a referenced object the viewer may not see is left out of the event (DESIGN.md
principle 2). The HTTP routes are mounted elsewhere (``/misp-feed/``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from accord.export.misp import event_from_stix, uuid_of
from accord.model.visibility import Viewer
from accord.store.node import Store
from accord.store.records import StoredObject


def _visible(store: Store, viewer: Viewer, object_id: str) -> dict[str, Any] | None:
    found = store.objects.get(viewer, object_id)
    return None if found is None else found.json()


def event_for_report(store: Store, viewer: Viewer, report: dict[str, Any]) -> dict[str, Any]:
    """The MISP event of a report, from the referenced objects the viewer may see."""
    objects: dict[str, dict[str, Any]] = {}
    for ref in report.get("object_refs") or []:
        obj = _visible(store, viewer, str(ref))
        if obj is None:
            continue
        objects[obj["id"]] = obj
        if obj.get("type") == "observed-data":
            for sco_ref in obj.get("object_refs") or []:
                sco = _visible(store, viewer, str(sco_ref))
                if sco is not None:
                    objects[sco["id"]] = sco
                    for key, value in sco.items():  # one level of SCO references
                        if key.endswith(("_ref", "_refs")):
                            for target in value if isinstance(value, list) else [value]:
                                inner = _visible(store, viewer, str(target))
                                if inner is not None:
                                    objects[inner["id"]] = inner
    creator = report.get("created_by_ref")
    if isinstance(creator, str) and creator not in objects:
        found = _visible(store, viewer, creator)
        if found is not None:
            objects[creator] = found
    return event_from_stix(report, objects)


def reports(store: Store, viewer: Viewer) -> Iterator[StoredObject]:
    """Every report the viewer may see (latest versions)."""
    return store.objects.iterate(viewer, ["report"])


def event(store: Store, viewer: Viewer, event_uuid: str) -> dict[str, Any] | None:
    """``<uuid>.json``: one event, or None when there is none the viewer may see."""
    found = store.objects.get(viewer, f"report--{event_uuid}")
    if found is None:
        return None
    return event_for_report(store, viewer, found.json())


def manifest(store: Store, viewer: Viewer) -> dict[str, Any]:
    """``manifest.json``: event uuid -> the summary MISP reads before fetching events."""
    found: dict[str, Any] = {}
    for stored in reports(store, viewer):
        report = stored.json()
        summary = event_for_report(store, viewer, {**report, "object_refs": []})["Event"]
        found[uuid_of(stored.id)] = {
            key: summary[key]
            for key in (
                "info",
                "date",
                "timestamp",
                "publish_timestamp",
                "analysis",
                "threat_level_id",
                "Tag",
                "Orgc",
            )
            if key in summary
        }
    return found


def hashes_csv(store: Store, viewer: Viewer) -> str:
    """``hashes.csv``: ``md5(value),event uuid`` per attribute value, as MISP feeds write it."""
    lines: list[str] = []
    for stored in reports(store, viewer):
        misp_event = event_for_report(store, viewer, stored.json())["Event"]
        values: list[str] = [str(a["value"]) for a in misp_event["Attribute"]]
        for misp_object in misp_event["Object"]:
            values.extend(str(a.get("value", "")) for a in misp_object["Attribute"])
        for value in values:
            for part in value.split("|") if "|" in value else [value]:
                digest = hashlib.md5(part.encode(), usedforsecurity=False).hexdigest()
                lines.append(f"{digest},{misp_event['uuid']}")
    return "".join(line + "\n" for line in lines)


def all_events(store: Store, viewer: Viewer) -> Iterator[dict[str, Any]]:
    """Every event the viewer may see (for ``accord export misp``)."""
    for stored in reports(store, viewer):
        yield event_for_report(store, viewer, stored.json())
