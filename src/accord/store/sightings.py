"""Sighting aggregates: how often members saw an indicator, called it a false positive or
said it expired, counted from what each viewer may count.

A sighting is an ordinary STIX 2.1 object (section 5.2), stored and read like any other; at
ingest its facts (of what, which kind, how many, when, anonymous or not) are also written to
``sighting_facts`` so that the aggregates are one indexed query.

Kinds and anonymity travel in Accord's property extension (docs/scoring.md):

    "extensions": {"extension-definition--96e0a503-...": {
        "extension_type": "property-extension",
        "sighting_kind": "false-positive", "anonymous": true}}

Who counts what: a sighting counts for a viewer who may see it (the visibility rule on the
sighting), and an anonymous sighting also for every viewer who may see the sighted object
(the rule on that object) -- that is what its reporter agreed to by sending it anonymously.
Only counts leave this module for sightings a viewer may not see; never their reporter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import orjson
from sqlalchemy import Connection, String, Table, bindparam, case, exists, func, or_, select

from accord.model.extension import ACCORD_EXTENSION_ID
from accord.model.timestamps import timestamp_key
from accord.model.visibility import Viewer
from accord.store.dialects import backend_for
from accord.store.plans import indexed, ordered
from accord.store.prepared import InList, Prepared, list_param
from accord.store.records import NewVersion
from accord.store.schema import objects, sighting_facts
from accord.store.visibility import cached_viewer_params, latest, visible_rule

SEEN: Final = "seen"
FALSE_POSITIVE: Final = "false-positive"
EXPIRED: Final = "expired"
KINDS: Final = (SEEN, FALSE_POSITIVE, EXPIRED)


@dataclass(frozen=True, slots=True)
class SightingFacts:
    """What one sighting says, read from its JSON."""

    sighting_of: str
    kind: str
    count: int
    anonymous: bool
    first_seen: str | None
    last_seen: str | None


def facts_of(obj: Mapping[str, Any]) -> SightingFacts | None:
    """The facts of a sighting object (None for anything else or a sighting of nothing)."""
    if obj.get("type") != "sighting" or not isinstance(obj.get("sighting_of_ref"), str):
        return None
    extension = (obj.get("extensions") or {}).get(ACCORD_EXTENSION_ID)
    kind, anonymous = SEEN, False
    if isinstance(extension, Mapping):
        found = extension.get("sighting_kind")
        kind = found if found in KINDS else SEEN
        anonymous = extension.get("anonymous") is True
    count = obj.get("count", 1)
    stamps: list[str | None] = []
    for name in ("first_seen", "last_seen"):
        stamp = obj.get(name)
        try:
            stamps.append(timestamp_key(stamp) if isinstance(stamp, str) else None)
        except ValueError:
            stamps.append(None)
    return SightingFacts(
        sighting_of=str(obj["sighting_of_ref"]),
        kind=kind,
        count=count if isinstance(count, int) and count >= 0 else 1,
        anonymous=anonymous,
        first_seen=stamps[0],
        last_seen=stamps[1],
    )


def record_facts(conn: Connection, rows: Sequence[tuple[int, NewVersion]]) -> None:
    """At ingest: the facts of every fresh sighting version (a step of every write:
    `accord.store.version_writer`)."""
    found = []
    for seq, version in rows:
        if version.type != "sighting":
            continue
        facts = facts_of(orjson.loads(version.raw))
        if facts is not None:
            found.append(
                (
                    seq,
                    facts.sighting_of,
                    facts.kind,
                    facts.count,
                    facts.anonymous,
                    facts.first_seen,
                    facts.last_seen,
                )
            )
    backend_for(conn).bulk_insert(
        conn,
        sighting_facts,
        ("seq", "sighting_of", "kind", "count", "anonymous", "first_seen", "last_seen"),
        found,
    )


@dataclass(slots=True)
class SightingTotals:
    """The sightings of one object that a viewer may count."""

    seen: int = 0  # sum of `count` over "seen" sightings
    false_positive_orgs: int = 0  # organisations that called it a false positive
    expired_orgs: int = 0  # organisations that said it is no longer active
    anonymous: int = 0  # sightings counted whose reporter is hidden
    first_seen: str | None = None  # of "seen" sightings, timestamp_key form
    last_seen: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "seen": self.seen,
            "false_positive_orgs": self.false_positive_orgs,
            "expired_orgs": self.expired_orgs,
            "anonymous": self.anonymous,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


def _totals_statement() -> Any:
    sighting = cast(Table, objects.alias("s"))
    sighted = cast(Table, objects.alias("t"))
    # The plan, written out (accord.store.plans): the facts of the ids, their sightings, the
    # sighted objects by id.
    facts = indexed(sighting_facts, "ix_sighting_facts_of")
    seen = facts.c.kind == SEEN
    countable = or_(visible_rule(sighting), facts.c.anonymous == True)  # noqa: E712 (SQL)
    return (
        select(
            facts.c.sighting_of,
            func.sum(case((seen, facts.c.count), else_=0)).label("seen"),
            func.count(
                func.distinct(case((facts.c.kind == FALSE_POSITIVE, sighting.c.owner_org)))
            ).label("false_positive_orgs"),
            func.count(func.distinct(case((facts.c.kind == EXPIRED, sighting.c.owner_org)))).label(
                "expired_orgs"
            ),
            func.sum(case((facts.c.anonymous == True, 1), else_=0)).label("anonymous"),  # noqa: E712
            func.min(case((seen, facts.c.first_seen))).label("first_seen"),
            func.max(case((seen, func.coalesce(facts.c.last_seen, facts.c.first_seen)))).label(
                "last_seen"
            ),
        )
        .select_from(
            ordered(
                ordered(facts, sighting, sighting.c.seq == facts.c.seq),
                sighted,
                sighted.c.id == facts.c.sighting_of,
            )
        )
        .where(InList(facts.c.sighting_of, list_param("ids")))
        .where(latest(sighting))
        .where(latest(sighted))
        .where(visible_rule(sighted))
        .where(countable)
        .group_by(facts.c.sighting_of)
    )


_TOTALS = Prepared(_totals_statement())
_OF, _SEEN, _FALSE_POSITIVE_ORGS, _EXPIRED_ORGS, _ANONYMOUS, _FIRST_SEEN, _LAST_SEEN = (
    _TOTALS.layout.at(
        "sighting_of",
        "seen",
        "false_positive_orgs",
        "expired_orgs",
        "anonymous",
        "first_seen",
        "last_seen",
    )
)


def sighting_totals(
    conn: Connection, viewer: Viewer, ids: Sequence[str]
) -> dict[str, SightingTotals]:
    """Per sighted object id, the sightings ``viewer`` may count (the ids without any are
    absent). One query; the sighted object itself must be visible to the viewer."""
    if not ids:
        return {}
    backend = backend_for(conn)
    params = {
        **cached_viewer_params(backend, viewer),
        "ids": backend.encode_list(sorted(set(ids))),
    }
    found: dict[str, SightingTotals] = {}
    for row in _TOTALS.rows(conn, params):
        found[row[_OF]] = SightingTotals(
            seen=int(row[_SEEN] or 0),
            false_positive_orgs=int(row[_FALSE_POSITIVE_ORGS] or 0),
            expired_orgs=int(row[_EXPIRED_ORGS] or 0),
            anonymous=int(row[_ANONYMOUS] or 0),
            first_seen=row[_FIRST_SEEN],
            last_seen=row[_LAST_SEEN],
        )
    return found


def _per_day_statement(of_ids: bool) -> Any:
    """Sightings a viewer may count (as `sighting_totals` counts them), summed per UTC day of
    their ``first_seen`` (else the day the sighting was stored), from ``:since`` on; with
    ``of_ids``, only the sightings of the objects ``:ids``, driven by their index, else every
    sighting, read from ``sighting_facts`` (sightings only: narrow rows, no JSON)."""
    sighting = cast(Table, objects.alias("s"))
    sighted = cast(Table, objects.alias("t"))
    facts = indexed(sighting_facts, "ix_sighting_facts_of") if of_ids else sighting_facts
    when = func.coalesce(facts.c.first_seen, sighting.c.date_added)
    # Characters 1-10 of a stored timestamp (fixed-width UTC text) are its day.
    day = func.substr(when, 1, 10)
    # EXISTS, not a join: where organisations hold the sighted object each, it counts once.
    sighted_visible = (
        exists()
        .where(sighted.c.id == facts.c.sighting_of)
        .where(latest(sighted))
        .where(visible_rule(sighted))
    )
    since = bindparam("since", type_=String())
    stmt = (
        select(day.label("day"), func.sum(facts.c.count).label("seen"))
        .select_from(ordered(facts, sighting, sighting.c.seq == facts.c.seq))
        .where(facts.c.kind == SEEN)
        # First on the facts alone, so that an older sighting's object is not read.
        .where(or_(facts.c.first_seen >= since, facts.c.first_seen.is_(None)))
        .where(latest(sighting))
        .where(when >= since)
        .where(or_(visible_rule(sighting), facts.c.anonymous == True))  # noqa: E712 (SQL)
        .where(sighted_visible)
        .group_by(day)
    )
    if of_ids:
        stmt = stmt.where(InList(facts.c.sighting_of, list_param("ids")))
    return stmt


_PER_DAY = Prepared(_per_day_statement(of_ids=False))
_PER_DAY_OF = Prepared(_per_day_statement(of_ids=True))  # on every look-up that finds something
EPOCH: Final = "0000"  # a ``since`` before every stored timestamp


def sightings_per_day(
    conn: Connection, viewer: Viewer, since: str | None = None, ids: Sequence[str] | None = None
) -> dict[str, int]:
    """Per UTC day, how often "seen" sightings that ``viewer`` may count say something was
    seen (the sum of their ``count``), by the day of their ``first_seen`` (else the day the
    sighting was stored), from ``since`` (a stored timestamp) on; days without any are
    absent. Counted as `sighting_totals` counts: a sighting the viewer may see, or an
    anonymous one, of an object the viewer may see. ``ids``: only the sightings of these
    objects (a look-up's)."""
    if ids is not None and not ids:
        return {}
    backend = backend_for(conn)
    params = {**cached_viewer_params(backend, viewer), "since": since or EPOCH}
    statement = _PER_DAY
    if ids is not None:
        params["ids"] = backend.encode_list(sorted(set(ids)))
        statement = _PER_DAY_OF
    return {str(day): int(seen or 0) for day, seen in statement.rows(conn, params)}
