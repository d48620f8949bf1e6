"""Recording that an organisation saw a value or an indicator, as STIX 2.1 sightings.

A sighting (STIX 2.1 section 5.2) must name an SDO in ``sighting_of_ref``. When the reporter
names an indicator, that is it. When it names a value, every indicator the reporter may see
that matches the value exactly is sighted; if there is none, Accord creates one for the value
owned by the reporter, with confidence 0 so that it adds no weight to a verdict by itself.
The observed value itself is kept as an SCO inside an observed-data object that the
sightings reference.

Kinds (seen, false-positive, expired) and anonymity travel in Accord's property extension
(docs/scoring.md). An anonymous sighting names no reporter: no ``created_by_ref``, no
``where_sighted_refs``; it is counted in the aggregates of everyone who may see what it sights
(accord.store.sightings), and is itself read under its own TLP like any object.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from accord.ingest.stix import Ingester, IngestOptions, IngestReport
from accord.model.extension import ACCORD_EXTENSION_ID
from accord.model.observable_types import HASH_NAME_OF_KIND, SCO_TYPE_OF_KIND
from accord.model.observables import Observable
from accord.model.patterns import pattern_for
from accord.model.timestamps import timestamp_key
from accord.model.tlp import Tlp
from accord.store.node import Store
from accord.store.organisations import User

# STIX 2.1 section 2.9: SCO ids are UUIDv5 in this namespace over their id-contributing
# properties (the value, for the SCOs a sighting names here).
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
ACCORD_NAMESPACE = uuid.UUID("a1c0dd0e-5a11-4c1e-9d6e-000000000001")


class SightingError(ValueError):
    """A sighting that cannot be recorded as given."""


@dataclass(frozen=True, slots=True)
class SightingRequest:
    count: int = 1
    first_seen: str | None = None
    last_seen: str | None = None
    tlp: Tlp | None = None
    kind: str = "seen"  # seen, false-positive, expired (accord.store.sightings.KINDS)
    anonymous: bool = False


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sco_for(observable: Observable) -> dict[str, Any]:
    """The STIX cyber-observable for a normalised value, with its deterministic id."""
    if observable.kind in HASH_NAME_OF_KIND:
        hashes = {HASH_NAME_OF_KIND[observable.kind]: observable.value}
        contributing = orjson.dumps({"hashes": hashes}, option=orjson.OPT_SORT_KEYS)
        return {
            "type": "file",
            "spec_version": "2.1",
            "id": f"file--{uuid.uuid5(SCO_NAMESPACE, contributing.decode())}",
            "hashes": hashes,
        }
    sco_type = SCO_TYPE_OF_KIND[observable.kind]
    contributing = orjson.dumps({"value": observable.value})
    return {
        "type": sco_type,
        "spec_version": "2.1",
        "id": f"{sco_type}--{uuid.uuid5(SCO_NAMESPACE, contributing.decode())}",
        "value": observable.value,
    }


def record_sighting(
    store: Store,
    user: User,
    request: SightingRequest,
    indicator_ids: list[str],
    observable: Observable | None,
    default_tlp: Tlp,
) -> tuple[IngestReport, list[str], list[str]]:
    """Store the sighting(s); answer the ingest report, the ids created and those sighted."""
    now = _now()
    first = request.first_seen or now
    last = request.last_seen or first
    for name, stamp in (("first_seen", first), ("last_seen", last)):
        try:
            timestamp_key(stamp)
        except ValueError as exc:
            raise SightingError(f"{name}: {exc}") from None
    if timestamp_key(last) < timestamp_key(first):
        raise SightingError("last_seen is before first_seen")
    tlp = request.tlp if request.tlp is not None else default_tlp
    marking = [tlp.marking_id]
    reporter: dict[str, Any] = {} if request.anonymous else {"created_by_ref": user.org_id}
    objects: list[dict[str, Any]] = []
    observed_refs: list[str] = []
    if observable is not None:
        sco = sco_for(observable)
        observed: dict[str, Any] = {
            "type": "observed-data",
            "spec_version": "2.1",
            "id": f"observed-data--{uuid.uuid4()}",
            **reporter,
            "created": now,
            "modified": now,
            "first_observed": first,
            "last_observed": last,
            "number_observed": request.count,
            "object_refs": [sco["id"]],
            "object_marking_refs": marking,
        }
        objects += [sco, observed]
        observed_refs = [str(observed["id"])]
        if not indicator_ids and not request.anonymous:
            indicator: dict[str, Any] = {
                "type": "indicator",
                "spec_version": "2.1",
                "id": "indicator--"
                + str(
                    uuid.uuid5(
                        ACCORD_NAMESPACE, f"{user.org_id} {observable.kind} {observable.value}"
                    )
                ),
                "created_by_ref": user.org_id,
                "created": now,
                "modified": now,
                "name": f"Sighted {observable.kind} {observable.value}",
                "indicator_types": ["unknown"],
                "pattern": pattern_for(observable),
                "pattern_type": "stix",
                "valid_from": first,
                "confidence": 0,
                "labels": ["accord-sighted-value"],
                "object_marking_refs": marking,
            }
            objects.append(indicator)
            indicator_ids = [str(indicator["id"])]
    if not indicator_ids and request.anonymous:
        raise SightingError(
            "an anonymous sighting must sight an indicator: no indicator you may see matches "
            "this value exactly"
        )
    if request.kind not in ("seen", "false-positive", "expired"):
        raise SightingError(f"kind must be seen, false-positive or expired, not {request.kind!r}")
    for indicator_id in indicator_ids:
        sighting: dict[str, Any] = {
            "type": "sighting",
            "spec_version": "2.1",
            "id": f"sighting--{uuid.uuid4()}",
            **reporter,
            "created": now,
            "modified": now,
            "first_seen": first,
            "last_seen": last,
            "count": request.count,
            "sighting_of_ref": indicator_id,
            "object_marking_refs": marking,
        }
        if not request.anonymous:
            sighting["where_sighted_refs"] = [user.org_id]
        if request.kind != "seen" or request.anonymous:
            sighting["extensions"] = {
                ACCORD_EXTENSION_ID: {
                    "extension_type": "property-extension",
                    "sighting_kind": request.kind,
                    "anonymous": request.anonymous,
                }
            }
        if observed_refs:
            sighting["observed_data_refs"] = observed_refs
        objects.append(sighting)
    report = Ingester(store, user, default_tlp).ingest_objects(
        objects, "2.1", "sighting", IngestOptions(tlp=tlp)
    )
    created = [o["id"] for o in objects]
    return report, created, indicator_ids


@dataclass(slots=True)
class SightingTally:
    """What one indicator was seen doing in a run of matching (`accord match`,
    ``POST /api/v1/match``): its hits, first and last seen; one sighting when posted."""

    name: str | None
    tlp: str
    count: int = 0
    first: str = ""
    last: str = ""

    def seen(self, at: str) -> None:
        self.count += 1
        self.first = self.first or at
        self.last = at


@dataclass(frozen=True, slots=True)
class TalliesPosted:
    posted: int
    refused: list[tuple[str, str]]
    """(indicator id, why) of the sightings that could not be recorded."""


def post_tallies(
    store: Store,
    user: User,
    tallies: Mapping[str, SightingTally],
    anonymous: bool,
    default_tlp: Tlp,
) -> TalliesPosted:
    """One sighting per indicator (count = its hits; where sighted = the user's
    organisation, or nobody when `anonymous`) at the node's default TLP, through
    `record_sighting`, so scores and other members learn. A refusal is reported and the
    others are posted."""
    posted = 0
    refused: list[tuple[str, str]] = []
    for indicator_id, tally in tallies.items():
        request = SightingRequest(
            tally.count, tally.first or None, tally.last or None, None, anonymous=anonymous
        )
        try:
            report, _, _ = record_sighting(store, user, request, [indicator_id], None, default_tlp)
        except SightingError as exc:
            refused.append((indicator_id, str(exc)))
            continue
        if report.ok:
            posted += 1
        else:
            refused.append((indicator_id, "refused"))
    return TalliesPosted(posted, refused)
