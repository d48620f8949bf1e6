"""Searching what a viewer may see: the objects that know one value (exactly, through a
containing network, through a parent domain, or through a URL's host: `search_value`), and
browsing the latest objects by type, TLP, creator, label, dates and words (`browse`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from accord.model.observables import Observable, parse_query
from accord.model.search_text import BadSearch, parse_search
from accord.model.timestamps import timestamp_key
from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.cursors import listing
from accord.store.node import Store
from accord.store.organisations import NotFound
from accord.store.records import ObjectQuery, StoredObject, ValueMatch


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    observable: Observable | None
    matches: list[ValueMatch]

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "kind": self.observable.kind if self.observable else None,
            "value": self.observable.value if self.observable else None,
            "matches": [match_json(match) for match in self.matches],
        }


def match_json(match: ValueMatch) -> dict[str, Any]:
    obj = match.obj.json()
    found: dict[str, Any] = {
        "relation": match.relation,
        "indexed_kind": match.kind,
        "indexed_value": match.value,
        "path": match.path,
        "id": match.obj.id,
        "type": match.obj.type,
        "name": obj.get("name"),
        "tlp": match.obj.tlp.label,
        "modified": obj.get("modified"),
        "revoked": match.obj.revoked,
    }
    if match.obj.type == "indicator":
        found["pattern"] = obj.get("pattern")
        found["simple_pattern"] = match.simple
    return found


def search_value(store: Store, viewer: Viewer, text: str, kind: str | None = None) -> SearchResult:
    observable = parse_query(text, kind)
    # From a read replica where the node has them (docs/replicas.md).
    found = store.from_replica(lambda reads: reads.index.search(viewer, observable))
    return SearchResult(text, observable, found)


# -- browsing: the objects a viewer may see, by filters and words -----------------------------

ORDERS = ("oldest", "newest")  # storage order, or its reverse
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadFilter(ValueError):
    """A filter that cannot be used, and which one (``parameter``: the API's name for it, and
    the portal form's field)."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter}: {detail}")
        self.parameter = parameter
        self.detail = detail


@dataclass(frozen=True, slots=True)
class BrowseFilters:
    """What a person asks to browse, as typed (the REST parameters of ``GET /objects``, the
    portal's search form); empty texts are filters not given. `browse` reads them."""

    types: Sequence[str] = ()
    tlp: str | None = None  # a TLP 2.0 level: "amber+strict", "TLP:AMBER+STRICT"...
    creator: str | None = None  # the organisation that stored it: its name or identity id
    label: str | None = None  # one of its labels, exactly
    modified_since: str | None = None  # a STIX timestamp, or a day (YYYY-MM-DD), inclusive
    modified_until: str | None = None  # likewise, inclusive: a day means its end
    q: str | None = None  # words of its name, description...: accord.model.search_text
    order: str = "oldest"  # "oldest" first (storage order) or "newest" first


@dataclass(frozen=True, slots=True)
class BrowsePage:
    """One page of `browse`: latest versions the viewer may see, and the cursor of the next
    page (None on the last). No total: it would count what the viewer may not see."""

    objects: list[StoredObject]
    next: str | None


def browse(
    store: Store,
    viewer: Viewer,
    filters: BrowseFilters,
    cursor: str | None = None,
    limit: int = 50,
) -> BrowsePage:
    """A page of the latest versions ``viewer`` may see that match ``filters``, after
    ``cursor`` (a `BrowsePage.next` given to the same viewer for the same filters).

    Raises `BadFilter` for a filter that cannot be used (which one, and why) and
    `accord.store.cursors.BadCursor` for a cursor this node did not give this viewer for
    these filters. The API's ``GET /objects`` and the portal's search page both call this,
    so that they answer alike; each audits the reads it shows (`accord.intel.read_audit`).
    """
    query = object_query(store, filters)
    asked = listing(
        "objects",
        query.types,
        query.owner_org,
        query.tlp.slug if query.tlp is not None else None,
        query.label,
        query.modified_since,
        query.modified_until,
        query.text.canonical() if query.text is not None else None,
        "newest" if query.newest_first else "oldest",
    )
    after = store.cursors.open(cursor, viewer, asked) if cursor else 0
    wanted = replace(query, after_seq=after, limit=limit + 1)
    # From a read replica where the node has them: a search may see the node as it was a
    # moment ago (docs/replicas.md); reading one object by its id stays on the primary.
    found = store.from_replica(lambda reads: reads.objects.query(viewer, wanted))
    page = found[:limit]
    more = len(found) > limit and bool(page)
    return BrowsePage(page, store.cursors.seal(page[-1].seq, viewer, asked) if more else None)


def object_query(store: Store, filters: BrowseFilters) -> ObjectQuery:
    """The store's query for ``filters`` (no cursor, no limit); `BadFilter` if one is bad."""
    owner = None
    if creator := _given(filters.creator):
        try:
            owner = store.directory.org(creator).id
        except NotFound as exc:
            raise BadFilter("creator", str(exc)) from None
    level = None
    if tlp := _given(filters.tlp):
        try:
            level = Tlp.parse(tlp)
        except ValueError as exc:
            raise BadFilter("tlp", str(exc)) from None
    text = None
    if words := _given(filters.q):
        try:
            text = parse_search(words)
        except BadSearch as exc:
            raise BadFilter("q", str(exc)) from None
    if filters.order not in ORDERS:
        raise BadFilter("order", f"expected one of {', '.join(ORDERS)}, got {filters.order!r}")
    since = _when("modified_since", filters.modified_since, end_of_day=False)
    until = _when("modified_until", filters.modified_until, end_of_day=True)
    if since is not None and until is not None and since > until:
        raise BadFilter("modified_until", "is before modified_since")
    return ObjectQuery(
        types=tuple(sorted({kind for kind in filters.types if kind})),
        owner_org=owner,
        tlp=level,
        label=_given(filters.label),
        modified_since=since,
        modified_until=until,
        text=text,
        newest_first=filters.order == "newest",
    )


def _given(value: str | None) -> str | None:
    """A form's empty field is a filter not given."""
    if value is None:
        return None
    return value.strip() or None


def _when(parameter: str, value: str | None, end_of_day: bool) -> str | None:
    """A timestamp key (accord.model.timestamps) for a STIX timestamp or a day."""
    value = _given(value)
    if value is None:
        return None
    if _DAY.fullmatch(value):
        value += "T23:59:59.999999Z" if end_of_day else "T00:00:00Z"
    try:
        return timestamp_key(value)
    except ValueError as exc:
        raise BadFilter(parameter, f"{exc} (or a day: YYYY-MM-DD)") from None


SUMMARY_CHARS = 240  # of a description, in a list


@dataclass(frozen=True, slots=True)
class Listed:
    """One object of a browsed page as a list shows it (the portal's search page)."""

    id: str
    type: str
    name: str | None
    tlp: str  # its TLP 2.0 label, "TLP:AMBER"
    modified: str | None
    revoked: bool
    owner_org: str  # the organisation that stored it
    labels: tuple[str, ...]
    summary: str  # the start of its description ("" for none)


def listed(obj: StoredObject) -> Listed:
    data = obj.json()
    name = data.get("name")
    modified = data.get("modified")
    description = data.get("description")
    summary = ""
    if isinstance(description, str):
        summary = " ".join(description.split())
        if len(summary) > SUMMARY_CHARS:
            summary = summary[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    labels = data.get("labels")
    return Listed(
        id=obj.id,
        type=obj.type,
        name=name if isinstance(name, str) else None,
        tlp=obj.tlp.label,
        modified=modified if isinstance(modified, str) else None,
        revoked=obj.revoked,
        owner_org=obj.owner_org,
        labels=tuple(label for label in labels if isinstance(label, str))
        if isinstance(labels, list)
        else (),
        summary=summary,
    )
