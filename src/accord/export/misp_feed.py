"""A MISP feed of what one viewer may see: ``manifest.json``, ``<uuid>.json``, ``hashes.csv``.

A real MISP subscribes to a feed by fetching ``manifest.json`` (event uuid -> summary), then
each event it lacks, and uses ``hashes.csv`` (md5 of each attribute value, event uuid) for
look-ups without downloading events. Every report the viewer may see is one event; every read
goes through ``store.objects`` with the viewer, so the visibility rule decides what is in the
feed and a referenced object the viewer may not see is left out of the event
(docs/architecture.md, principle 2). The HTTP routes are ``accord.api.routes.misp_feed``
(``/misp-feed/``).

Each document is made one event at a time (`manifest_entries`, `hash_lines`), with the stored
versions it was made from (`FeedEvent.sources`), so that a server can stream it, date it and
audit the reads without holding the whole feed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from accord.export.misp import event_from_stix, uuid_of
from accord.model.visibility import Viewer
from accord.store.node import Store
from accord.store.records import StoredObject


@dataclass(slots=True)
class FeedEvent:
    """One MISP event (``{"Event": {...}}``) and the stored versions it was made from (the
    report first): what a server dates the document by and audits as read."""

    event: dict[str, Any]
    sources: list[StoredObject]


def _visible(store: Store, viewer: Viewer, ids: Sequence[str]) -> dict[str, StoredObject]:
    """The version of each id that ``store.objects.get`` gives the viewer (the newest it may
    see), in two steps: the visible latest versions in one query, then one ``get`` for each id
    whose latest version the viewer may not see (or that is not stored)."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, StoredObject] = {}
    # As `get` picks among holdings: the newest version, the first stored of equals.
    newest_first = sorted(store.objects.get_many(viewer, wanted), key=lambda o: o.seq)
    newest_first.sort(key=lambda o: o.modified, reverse=True)  # stable: seq order kept
    for stored in newest_first:
        found.setdefault(stored.id, stored)
    for object_id in wanted:
        if object_id not in found:
            older = store.objects.get(viewer, object_id)
            if older is not None:
                found[object_id] = older
    return found


def _sco_refs(sco: dict[str, Any]) -> list[str]:
    """The ids one SCO references (``*_ref``, ``*_refs``): one level is followed."""
    refs: list[str] = []
    for key, value in sco.items():
        if key.endswith(("_ref", "_refs")):
            refs.extend(str(target) for target in (value if isinstance(value, list) else [value]))
    return refs


def _build(
    store: Store,
    viewer: Viewer,
    report: dict[str, Any],
    creators: dict[str, StoredObject | None] | None = None,
) -> tuple[dict[str, Any], list[StoredObject]]:
    """The MISP event of a report, from the referenced objects the viewer may see (and the SCOs
    of observed-data, one level of SCO references, and the creator's identity), with the
    versions read for it. ``creators`` caches identities across the events of one document."""
    sources: dict[str, StoredObject] = {}
    parsed: dict[str, dict[str, Any]] = {}

    def take(found: dict[str, StoredObject]) -> None:
        for object_id, stored in found.items():
            if object_id not in sources:
                sources[object_id] = stored
                parsed[object_id] = stored.json()

    take(_visible(store, viewer, [str(ref) for ref in report.get("object_refs") or []]))
    observed = [obj for obj in list(parsed.values()) if obj.get("type") == "observed-data"]
    scos = _visible(
        store, viewer, [str(ref) for obj in observed for ref in obj.get("object_refs") or []]
    )
    take(scos)
    take(_visible(store, viewer, [ref for sco in scos for ref in _sco_refs(parsed[sco])]))
    creator = report.get("created_by_ref")
    if isinstance(creator, str) and creator not in sources:
        if creators is not None and creator in creators:
            identity = creators[creator]
        else:
            identity = store.objects.get(viewer, creator)
            if creators is not None:
                creators[creator] = identity
        if identity is not None:
            take({creator: identity})
    return event_from_stix(report, parsed), list(sources.values())


def feed_event(
    store: Store,
    viewer: Viewer,
    report: StoredObject,
    creators: dict[str, StoredObject | None] | None = None,
) -> FeedEvent:
    """The MISP event of a stored report and the versions it was made from."""
    made, sources = _build(store, viewer, report.json(), creators)
    return FeedEvent(made, [report, *sources])


def event_for_report(store: Store, viewer: Viewer, report: dict[str, Any]) -> dict[str, Any]:
    """The MISP event of a report, from the referenced objects the viewer may see."""
    return _build(store, viewer, report)[0]


def reports(store: Store, viewer: Viewer) -> Iterator[StoredObject]:
    """Every report the viewer may see (latest versions)."""
    return store.objects.iterate(viewer, ["report"])


def find_event(store: Store, viewer: Viewer, event_uuid: str) -> FeedEvent | None:
    """``<uuid>.json`` with its sources, or None when there is none the viewer may see."""
    found = store.objects.get(viewer, f"report--{event_uuid}")
    return None if found is None else feed_event(store, viewer, found)


def event(store: Store, viewer: Viewer, event_uuid: str) -> dict[str, Any] | None:
    """``<uuid>.json``: one event, or None when there is none the viewer may see."""
    found = find_event(store, viewer, event_uuid)
    return None if found is None else found.event


MANIFEST_KEYS = (
    "info",
    "date",
    "timestamp",
    "publish_timestamp",
    "analysis",
    "threat_level_id",
    "Tag",
    "Orgc",
)


def manifest_entries(
    store: Store, viewer: Viewer
) -> Iterator[tuple[str, dict[str, Any], list[StoredObject]]]:
    """Each entry of ``manifest.json`` (event uuid, summary) with the versions it was made
    from: the report and its creator's identity (the referenced objects are not read)."""
    creators: dict[str, StoredObject | None] = {}
    for stored in reports(store, viewer):
        report = {**stored.json(), "object_refs": []}
        made, sources = _build(store, viewer, report, creators)
        summary = made["Event"]
        entry = {key: summary[key] for key in MANIFEST_KEYS if key in summary}
        yield uuid_of(stored.id), entry, [stored, *sources]


def manifest(store: Store, viewer: Viewer) -> dict[str, Any]:
    """``manifest.json``: event uuid -> the summary MISP reads before fetching events."""
    return {event_uuid: entry for event_uuid, entry, _ in manifest_entries(store, viewer)}


def event_hashes(misp_event: dict[str, Any]) -> list[str]:
    """The ``hashes.csv`` lines of one event: ``md5(value),event uuid`` per attribute value
    (object attributes too), and per part of an ``a|b`` value, as MISP feeds write them."""
    values: list[str] = [str(a["value"]) for a in misp_event["Attribute"]]
    for misp_object in misp_event["Object"]:
        values.extend(str(a.get("value", "")) for a in misp_object["Attribute"])
    lines: list[str] = []
    for value in values:
        for part in value.split("|") if "|" in value else [value]:
            digest = hashlib.md5(part.encode(), usedforsecurity=False).hexdigest()
            lines.append(f"{digest},{misp_event['uuid']}")
    return lines


def hash_lines(store: Store, viewer: Viewer) -> Iterator[tuple[list[str], list[StoredObject]]]:
    """``hashes.csv`` one event at a time: its lines and the versions they were made from."""
    creators: dict[str, StoredObject | None] = {}
    for stored in reports(store, viewer):
        made = feed_event(store, viewer, stored, creators)
        yield event_hashes(made.event["Event"]), made.sources


def hashes_csv(store: Store, viewer: Viewer) -> str:
    """``hashes.csv``: ``md5(value),event uuid`` per attribute value, as MISP feeds write it."""
    return "".join(line + "\n" for lines, _ in hash_lines(store, viewer) for line in lines)


def all_events(store: Store, viewer: Viewer) -> Iterator[dict[str, Any]]:
    """Every event the viewer may see (for ``accord export misp``)."""
    for stored in reports(store, viewer):
        yield feed_event(store, viewer, stored).event


def newest(sources: Iterable[StoredObject]) -> str:
    """The newest ``modified`` or ``date_added`` of these versions (timestamp-key form), ''
    for none."""
    return max((max(s.modified, s.date_added) for s in sources), default="")
