"""What the matched objects say about a looked-up value: the evidence of each object
version (worked out once per look-up), and one answer filled in from its strongest matches
and scored (docs/verdict.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from accord.intel.lookup.answer import Answer, Reason, Related
from accord.intel.lookup.graph import CORRELATION_LIMIT, Graph
from accord.intel.scoring import ScoreInput, indicator_score, score_value
from accord.model.timestamps import timestamp_key
from accord.store.correlation.results import Correlation
from accord.store.records import StoredObject, ValueMatch

RELATED_TYPES = {
    "malware",
    "threat-actor",
    "intrusion-set",
    "campaign",
    "attack-pattern",
    "tool",
    "infrastructure",
    "vulnerability",
    "report",
}
ATTACK_SOURCES = ("mitre-attack", "mitre-ics-attack", "mitre-mobile-attack", "capec")


def _name(obj: dict[str, Any]) -> str | None:
    name = obj.get("name")
    return name if isinstance(name, str) else None


def _attack_id(obj: dict[str, Any]) -> str | None:
    for ref in obj.get("external_references") or ():
        if isinstance(ref, dict) and ref.get("source_name") in ATTACK_SOURCES:
            external = ref.get("external_id")
            if isinstance(external, str):
                return external
    return None


# A value on a shared host can be known to thousands of objects; an answer lists the
# strongest of them (and says how many there are), which also bounds the work per value.
MAX_REASONS = 50
RELATION_ORDER = {
    "exact": 0,
    "pattern": 1,
    "url-host": 2,
    "parent-domain": 3,
    "cidr": 4,
    "host": 5,
}


def distinct(matches: list[ValueMatch]) -> tuple[int, set[str]]:
    """How many distinct reasons, and the organisations behind all of them."""
    return len({(m.obj.id, m.value) for m in matches}), {m.obj.owner_org for m in matches}


def strongest(matches: list[ValueMatch]) -> list[ValueMatch]:
    """The MAX_REASONS strongest matches: closest relation first, then the newest."""
    unique = {(m.obj.id, m.value): m for m in matches}
    ranked = sorted(unique.values(), key=lambda m: (RELATION_ORDER.get(m.relation, 9), -m.obj.seq))
    return ranked[:MAX_REASONS]


@dataclass(slots=True)
class _Evidence:
    """What one matched object version says, worked out once per look-up however many of
    the looked-up values it answers."""

    obj: StoredObject
    body: dict[str, Any]
    name: str | None
    pattern: str | None
    confidence: int | None
    expired: bool
    benign: bool
    first: tuple[str, str] | None  # (timestamp_key, as written): the earliest stamp
    last: tuple[str, str] | None
    seen: int  # "seen" sightings, anonymous ones included
    sighted_by: list[str]  # organisations named by its sightings
    related: list[Related]
    correlations: list[Correlation]
    scores: dict[str, int] = field(default_factory=dict)  # per observable kind


def _earliest(found: tuple[str, str] | None, stamp: object) -> tuple[str, str] | None:
    """The earlier of ``found`` and ``stamp`` (the first one wins a tie, as min() does)."""
    if not isinstance(stamp, str):
        return found
    key = timestamp_key(stamp)
    return (key, stamp) if found is None or key < found[0] else found


def _latest(found: tuple[str, str] | None, stamp: object) -> tuple[str, str] | None:
    if not isinstance(stamp, str):
        return found
    key = timestamp_key(stamp)
    return (key, stamp) if found is None or key > found[0] else found


def _key_of(now: datetime) -> str:
    """``now`` in timestamp_key form (isoformat is several times faster than strftime)."""
    if now.tzinfo is UTC:
        return now.isoformat(timespec="microseconds")[:26] + "Z"
    return timestamp_key(now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


class EvidenceCache:
    def __init__(self, graph: Graph, now: datetime) -> None:
        self.graph = graph
        self.now = now  # one instant for the whole look-up
        self.now_key = _key_of(now)
        self.known: dict[int, _Evidence] = {}

    def of(self, stored: StoredObject) -> _Evidence:
        found = self.known.get(stored.seq)
        if found is None:
            found = self.known[stored.seq] = self._evidence(stored)
        return found

    def score(self, evidence: _Evidence, kind: str) -> int:
        found = evidence.scores.get(kind)
        if found is None:
            found = evidence.scores[kind] = indicator_score(
                evidence.body,
                kind,
                self.now,
                self.graph.totals.get(evidence.obj.id),
                received=evidence.obj.date_added,
                now_key=self.now_key,
            ).score
        return found

    def _evidence(self, stored: StoredObject) -> _Evidence:
        graph = self.graph
        body = stored.json()
        pattern: str | None = None
        confidence: int | None = None
        expired = benign = False
        if stored.type == "indicator":
            pattern = body.get("pattern")
            given = body.get("confidence")
            confidence = given if isinstance(given, int) else None
            valid_until = body.get("valid_until")
            if isinstance(valid_until, str):
                expired = timestamp_key(valid_until) < self.now_key
            benign = "benign" in (body.get("indicator_types") or ())
        first = last = None
        for stamp in (body.get("valid_from"), body.get("created"), body.get("first_observed")):
            first = _earliest(first, stamp)
        for stamp in (body.get("modified"), body.get("last_observed")):
            last = _latest(last, stamp)
        sighted_by: list[str] = []
        for sighting in graph.sightings.get(stored.id, ()):
            sighting_body = sighting.json()
            sighted_by.extend(
                r for r in sighting_body.get("where_sighted_refs") or () if isinstance(r, str)
            )
            first = _earliest(first, sighting_body.get("first_seen"))
            last = _latest(last, sighting_body.get("last_seen"))
        totals = graph.totals.get(stored.id)
        return _Evidence(
            obj=stored,
            body=body,
            name=_name(body),
            pattern=pattern,
            confidence=confidence,
            expired=expired,
            benign=benign,
            first=first,
            last=last,
            seen=totals.seen if totals is not None else 0,
            sighted_by=sighted_by,
            related=self._related(stored.id),
            correlations=graph.correlations.get(stored.id, []),
        )

    def _related(self, object_id: str) -> list[Related]:
        graph = self.graph
        found: list[Related] = []
        for relationship, other_id in graph.edges.get(object_id, ()):
            other = graph.objects.get(other_id)
            if other is None or other.type not in RELATED_TYPES:
                continue
            body = other.json()
            found.append(
                Related(
                    id=other.id,
                    type=other.type,
                    name=_name(body),
                    tlp=other.tlp.label,
                    relationship=relationship,
                    attack_id=_attack_id(body),
                )
            )
        return found


def fill_answer(
    answer: Answer, matches: list[ValueMatch], evidence: EvidenceCache, orgs: set[str]
) -> None:
    """Fill in ``answer`` from its matches (the strongest first)."""
    seen_reasons: set[tuple[str, str]] = set()
    known_related: set[str] = set()
    known_correlated: set[str] = set()  # reasons' and listed correlations' ids
    first: tuple[str, str] | None = None
    last: tuple[str, str] | None = None
    sighting_count = 0
    scores: list[int | None] = []  # per reason: the indicator's decayed score
    reasons = answer.reasons
    for match in matches:
        stored = match.obj
        if (stored.id, match.value) in seen_reasons:
            continue
        seen_reasons.add((stored.id, match.value))
        known = evidence.of(stored)
        reasons.append(
            Reason(
                relation=match.relation,
                via=match.value,
                id=stored.id,
                type=stored.type,
                name=known.name,
                tlp=stored.tlp.label,
                pattern=known.pattern,
                confidence=known.confidence,
                revoked=stored.revoked,
                expired=known.expired,
                benign=known.benign,
            )
        )
        known_correlated.add(stored.id)
        if known.first is not None and (first is None or known.first[0] < first[0]):
            first = known.first
        if known.last is not None and (last is None or known.last[0] > last[0]):
            last = known.last
        sighting_count += known.seen
        scores.append(evidence.score(known, match.kind) if stored.type == "indicator" else None)
        orgs.update(known.sighted_by)
        for related in known.related:
            if related.id not in known_related:
                answer.related.append(related)
                known_related.add(related.id)
        if len(answer.correlations) < CORRELATION_LIMIT:
            for found in known.correlations:
                if found.obj.id not in known_correlated:
                    answer.correlations.append(found)
                    known_correlated.add(found.obj.id)
                    if len(answer.correlations) >= CORRELATION_LIMIT:
                        break
    answer.first_seen = first[1] if first is not None else None
    answer.last_seen = last[1] if last is not None else None
    answer.sightings = sighting_count
    answer.reporting_organisations = len(orgs)
    answer.score, answer.verdict = score_value(
        ScoreInput(
            reasons=[
                (r.relation, r.type, r.confidence, r.revoked, r.expired, r.benign) for r in reasons
            ],
            reporting_organisations=len(orgs),
            sightings=sighting_count,
            scores=scores,
            # A list that names only a parent domain (a top-sites list naming a
            # dynamic-DNS zone, say) says nothing about this subdomain: shown, not counted.
            # Only benign-class lists and allowlists damp: a context list (cloud, VPN,
            # hosting, dynamic DNS, ...) is shown and explained, never counted.
            on_benign_list=any(hit.damps for hit in answer.lists),
        )
    )
