"""What the store takes in and hands out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from accord.model.observables import IndexedObservable
from accord.model.search_text import TextSearch
from accord.model.tlp import Tlp


@dataclass(slots=True)
class NewVersion:
    """One validated object version, ready to store. Built by ``accord.ingest``."""

    index: int  # position in the bundle, for reports
    id: str
    modified: str  # accord.model.timestamps.timestamp_key form
    type: str
    spec_version: str
    created_by_ref: str | None
    revoked: bool
    tlp: Tlp
    audience: frozenset[str]
    raw: str  # the JSON text stored and served back
    observables: list[IndexedObservable] = field(default_factory=list)
    references: list[tuple[str, str]] = field(default_factory=list)  # (role, id)
    # What search finds it by: accord.model.search_text.searchable_text and labels_of.
    text: str = ""
    labels: tuple[str, ...] = ()
    valid_until: str | None = None  # an indicator's, timestamp_key form (accord.store.expiry)


Outcome = Literal["stored", "duplicate"]


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """Filters for `accord.store.objects.ObjectStore.query` (`accord.store.browse` builds the
    statement); all optional, combined with AND. Only latest versions the viewer may see are
    ever answered."""

    types: Sequence[str] = ()
    owner_org: str | None = None  # the organisation that stored it (its creator)
    tlp: Tlp | None = None
    label: str | None = None  # one of its labels, exactly
    modified_since: str | None = None  # timestamp_key form, inclusive
    modified_until: str | None = None  # timestamp_key form, inclusive
    text: TextSearch | None = None  # words of its name, description... (accord.model.search_text)
    after_seq: int = 0  # cursor: the versions after this one, in the listing's order
    newest_first: bool = False  # the listing's order: storage order, or the reverse
    limit: int = 1000


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class StoredObject:
    """One stored object version as a reader may see it."""

    seq: int
    id: str
    modified: str
    type: str
    tlp: Tlp
    owner_org: str
    is_latest: bool
    revoked: bool
    date_added: str
    raw: str

    def json(self) -> dict[str, Any]:
        value = orjson.loads(self.raw)
        assert isinstance(value, dict)
        return value


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class Reference:
    """A visible object that references another: ``obj`` names ``ref`` in role ``role``."""

    role: str
    ref: str
    obj: StoredObject


# Bits of `ValueMatch.context`: what else about the matched object the viewer may see, as
# the search found it (accord.store.hints).
REFERENCED = 1  # a latest visible object names it (relationship, sighting, report)
SIGHTED = 2  # a latest sighting of it that the viewer may count
CORRELATED = 4  # a stored correlation whose other end is latest and visible
UNKNOWN = REFERENCED | SIGHTED | CORRELATED  # not asked: a reader must look for each


# Not frozen, for speed: see accord.model.observable_types.Observable.
@dataclass(slots=True, unsafe_hash=True)
class ValueMatch:
    """An object that knows a searched value, and how it relates to it."""

    relation: Literal["exact", "cidr", "parent-domain", "url-host", "host", "pattern"]
    """How: "pattern" when the object is an indicator whose STIX pattern matches the searched
    value (then ``value`` is the searched value itself, ``path`` empty)."""
    kind: str  # kind of the indexed observable
    value: str  # the indexed value (a CIDR, a parent domain, ...)
    path: str
    simple: bool
    obj: StoredObject
    context: int = UNKNOWN
