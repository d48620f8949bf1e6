"""The verdict-first look-up: one value in, one answer out, from what the caller may see.

For each value: a verdict and a score (docs/verdict.md), the reasons (each naming the object
and its TLP), first and last seen, sightings and reporting organisations, and the objects one
hop away through relationships (malware, actors, intrusion sets, campaigns, ATT&CK
techniques, reports). Everything is read through the store, so through the visibility rule: a
value that only hidden objects know answers exactly like a value nobody knows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection

from accord.intel.scoring import ScoreInput, indicator_score, list_effect, score_value
from accord.model.observables import Observable, ObservableError, detect, normalise
from accord.model.timestamps import timestamp_key
from accord.model.visibility import Viewer
from accord.store.audit import Event
from accord.store.correlation.exclusion import Exclude, excluding
from accord.store.correlation.hubs import over_hub_holders
from accord.store.correlation.read import correlated_with
from accord.store.correlation.results import Correlation
from accord.store.hints import GRAPH_ROLES
from accord.store.node import Store
from accord.store.records import (
    CORRELATED,
    REFERENCED,
    SIGHTED,
    UNKNOWN,
    StoredObject,
    ValueMatch,
)
from accord.store.sightings import SightingTotals, sighting_totals

Verdict = Literal["malicious", "suspicious", "benign", "unknown"]

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

# A hook for benign-list checks (warninglists, allowlists): given the observable, the names
# of the lists it is on and whether any of them says "benign".
BenignCheck = Callable[[Observable], list["ListHit"]]


@dataclass(frozen=True, slots=True)
class ListHit:
    """The value is on a list: a MISP warninglist, or the organisation's allowlist."""

    source: Literal["warninglist", "allowlist"]
    name: str
    benign: bool
    """The list's class is "benign" (its values are benign by nature, or the organisation's
    allowlist): it damps the score. False: a "context" list (shared infrastructure), shown
    and explained, no effect on the score (`accord.intel.scoring.list_effect`)."""
    via_parent: bool = False  # only a parent domain is on the list (shown, does not damp)
    reason: str = ""  # why the list has its class (accord.intel.warninglists.classes)

    @property
    def list_class(self) -> Literal["benign", "context"]:
        return "benign" if self.benign else "context"

    @property
    def damps(self) -> bool:
        """Whether it damps the score: a benign list that names the value itself."""
        return self.benign and not self.via_parent

    def as_json(self) -> dict[str, Any]:
        found = list_effect(self.source, self.list_class, self.via_parent)
        return {
            "source": self.source,
            "name": self.name,
            "benign": self.benign,
            "class": self.list_class,
            "reason": self.reason,
            "effect": found.effect,
            "score_factor": found.factor,
            "via_parent": self.via_parent,
            "note": found.note,
        }


@dataclass(slots=True)
class Reason:
    relation: str  # exact, cidr, parent-domain, url-host, host
    via: str  # the indexed value that matched
    id: str
    type: str
    name: str | None
    tlp: str
    pattern: str | None = None
    confidence: int | None = None
    revoked: bool = False
    expired: bool = False
    benign: bool = False  # an indicator typed "benign"

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "relation": self.relation,
            "via": self.via,
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "tlp": self.tlp,
        }
        if self.pattern is not None:
            found["pattern"] = self.pattern
        if self.confidence is not None:
            found["confidence"] = self.confidence
        for key, flag in (("revoked", self.revoked), ("expired", self.expired)):
            if flag:
                found[key] = True
        if self.benign:
            found["benign"] = True
        return found


@dataclass(slots=True)
class Related:
    id: str
    type: str
    name: str | None
    tlp: str
    relationship: str  # e.g. "indicates", "uses", or "contains" for reports
    attack_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        found = {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "tlp": self.tlp,
            "relationship": self.relationship,
        }
        if self.attack_id:
            found["attack_id"] = self.attack_id
        return found


@dataclass(slots=True)
class Answer:
    """The look-up of one value."""

    query: str
    kind: str | None
    value: str | None
    verdict: Verdict = "unknown"
    score: int = 0
    reasons: list[Reason] = field(default_factory=list)
    first_seen: str | None = None
    last_seen: str | None = None
    sightings: int = 0
    reporting_organisations: int = 0
    related: list[Related] = field(default_factory=list)
    lists: list[ListHit] = field(default_factory=list)
    reasons_total: int = 0  # reasons found; the strongest MAX_REASONS are listed
    correlations: list[Correlation] = field(default_factory=list)  # of the reasons' objects
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "query": self.query,
            "type": self.kind,
            "value": self.value,
            "verdict": self.verdict,
            "score": self.score,
            "reasons": [reason.as_json() for reason in self.reasons],
            "reasons_total": self.reasons_total,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "sightings": self.sightings,
            "reporting_organisations": self.reporting_organisations,
            "related": [related.as_json() for related in self.related],
            "lists": [hit.as_json() for hit in self.lists],
            "correlations": [c.as_json() | {"from": c.source} for c in self.correlations],
        }
        if self.error is not None:
            found["error"] = self.error
        return found

    @property
    def answered_by(self) -> list[str]:
        return [reason.id for reason in self.reasons]


AuditItem = tuple[str, str, list[str]]
"""What a bulk look-up's audit entry keeps of one answer (`audit_item`)."""


def audit_item(answer: Answer) -> AuditItem:
    """What a bulk look-up's audit entry keeps of one answer: the value (or the query as
    given), the verdict, the objects that answered."""
    return (answer.value or answer.query, answer.verdict, answer.answered_by)


def parse_query(text: str, kind: str | None = None) -> Observable:
    """A value as the observable index reads it; ``kind`` overrides detection."""
    if kind is not None:
        return normalise(kind, text)
    found = detect(text)
    if found is None:
        raise ObservableError(
            f"cannot tell what {text!r} is: give an IP address, CIDR, domain, URL, "
            "e-mail address or hash, or say which kind it is (the API's `type`, the command "
            "line's `--type`)"
        )
    return found


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


# Up to this many values, the search also says which of the graph's three queries could find
# anything (accord.store.hints), and the others are skipped: for one value that saves more
# than the search costs. A bulk look-up runs each query once for all its values anyway, and
# among thousands of answers some need each.
HINTS_UP_TO = 16
CORRELATION_LIMIT = 20  # correlated objects listed per answer (the API lists them all)

# A value on a shared host can be known to thousands of objects; an answer lists the
# strongest of them (and says how many there are), which also bounds the work per value.
MAX_REASONS = 50
RELATION_ORDER = {"exact": 0, "url-host": 1, "parent-domain": 2, "cidr": 3, "host": 4}


def _distinct(matches: list[ValueMatch]) -> tuple[int, set[str]]:
    """How many distinct reasons, and the organisations behind all of them."""
    return len({(m.obj.id, m.value) for m in matches}), {m.obj.owner_org for m in matches}


def strongest(matches: list[ValueMatch]) -> list[ValueMatch]:
    """The MAX_REASONS strongest matches: closest relation first, then the newest."""
    unique = {(m.obj.id, m.value): m for m in matches}
    ranked = sorted(unique.values(), key=lambda m: (RELATION_ORDER.get(m.relation, 9), -m.obj.seq))
    return ranked[:MAX_REASONS]


class Lookup:
    """Answers look-ups for one viewer; records each in the audit log."""

    def __init__(
        self,
        store: Store,
        viewer: Viewer,
        benign_check: BenignCheck | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        exclude: Exclude | None = None,
    ) -> None:
        """``exclude``: the values that do not correlate (`BenignLists.warninglisted`, which
        remembers its answers across look-ups); by default, those ``benign_check`` flags.
        The viewer's allowlist applies to correlations either way."""
        self.store = store
        self.viewer = viewer
        self.benign_check = benign_check
        self.now = now
        self.exclude = exclude if exclude is not None else excluding(benign_check)

    def one(self, text: str, kind: str | None = None) -> Answer:
        return self.many([text], kind)[0]

    def many(
        self, texts: Sequence[str], kind: str | None = None, connection: Connection | None = None
    ) -> list[Answer]:
        """The answers, in order. ``connection``: the caller's (a route that records the
        look-up on the same connection saves a checkout)."""
        if connection is not None:
            return self._many(texts, kind, connection)
        with self.store.engine.connect() as conn:
            return self._many(texts, kind, conn)

    def _many(self, texts: Sequence[str], kind: str | None, conn: Connection) -> list[Answer]:
        answers: list[Answer] = []
        parsed: list[tuple[int, Observable]] = []
        for position, text in enumerate(texts):
            try:
                observable = parse_query(text, kind)
            except ObservableError as exc:
                answers.append(Answer(text, None, None, error=str(exc)))
                continue
            answers.append(Answer(text, observable.kind, observable.value))
            parsed.append((position, observable))
        # One connection for the whole look-up: a checkout per query costs more than a query.
        # A few values: the search says which of the graph's queries could find anything.
        hints = len(parsed) <= HINTS_UP_TO
        found = self.store.index.search_many(
            self.viewer, [o for _, o in parsed], conn, context=hints
        )
        totals = [_distinct(matches) for matches in found]
        found = [strongest(matches) for matches in found]
        matched = {m.obj.id: m.obj.seq for matches in found for m in matches}
        wanted = UNKNOWN  # without hints every match says UNKNOWN: no need to look
        if hints:
            wanted = 0
            for matches in found:
                for match in matches:
                    wanted |= match.context
        graph = self._graph(matched, conn, wanted)
        if wanted & CORRELATED:
            self._over_hubs(found, graph, conn)
        now = self.now()
        evidence = _EvidenceCache(graph, now)
        benign_check = self.benign_check
        for (position, observable), matches, (total, orgs) in zip(
            parsed, found, totals, strict=True
        ):
            answer = answers[position]
            answer.reasons_total = total
            if benign_check is not None:
                answer.lists = benign_check(observable)
            if matches or answer.lists:
                _answer(answer, matches, evidence, orgs)
        return answers

    def audit_events(self, answers: Sequence[Answer], user_id: str | None) -> list[Event]:
        """One audit entry per looked-up value: who, which value, which objects answered."""
        return [
            Event(
                action="lookup",
                user_id=user_id,
                org_id=self.viewer.org_id,
                target=answer.value or answer.query,
                detail={"verdict": answer.verdict, "answered_by": answer.answered_by},
            )
            for answer in answers
        ]

    def audit_event_bulk(self, items: Sequence[AuditItem], user_id: str | None) -> Event:
        """One audit entry for a bulk look-up that still names, per value in order, the
        value looked up, its verdict and the objects that answered (``items``, from
        `audit_item`; an entry per value would cost ten thousand chained hashes and rows for
        one request)."""
        return Event(
            action="lookup",
            user_id=user_id,
            org_id=self.viewer.org_id,
            target=None,
            detail={
                "count": len(items),
                "values": [value for value, _, _ in items],
                "verdicts": [verdict for _, verdict, _ in items],
                "answered_by": [answered_by for _, _, answered_by in items],
            },
        )

    # -- the graph one hop away --------------------------------------------------------------

    def _over_hubs(self, found: Sequence[list[ValueMatch]], graph: Graph, conn: Connection) -> None:
        """Correlations through looked-up values that correlate too widely to be stored, as
        far as this viewer may see them (accord.store.correlation.hubs.over_hub_holders)."""
        held = {
            (m.obj.id, m.kind, m.value)
            for matches in found
            for m in matches
            if m.relation == "exact"
        }
        if not held:
            return
        items = [(object_id, Observable(kind, value)) for object_id, kind, value in sorted(held)]
        for correlation in over_hub_holders(conn, self.viewer, items, self.exclude):
            listed = graph.correlations.setdefault(correlation.source, [])
            if all(c.obj.id != correlation.obj.id for c in listed):
                listed.append(correlation)

    def _graph(self, matched: dict[str, int], conn: Connection, wanted: int) -> Graph:
        """``matched``: the id and sequence number of every object version that answered;
        ``wanted``: the `ValueMatch.context` bits of any of them (the queries to run)."""
        graph = Graph()
        if not matched:
            return graph
        ids = sorted(matched)
        references = (
            self.store.objects.referencing(self.viewer, ids, GRAPH_ROLES, connection=conn)
            if wanted & REFERENCED
            else []
        )
        others: set[str] = set()
        for reference in references:
            if reference.role == "sighting_of":
                graph.sightings.setdefault(reference.ref, []).append(reference.obj)
            elif reference.role == "member":
                if reference.obj.type == "report":
                    graph.edges.setdefault(reference.ref, []).append(("contains", reference.obj.id))
                    graph.objects[reference.obj.id] = reference.obj
            else:
                obj = reference.obj.json()
                source, target = obj.get("source_ref"), obj.get("target_ref")
                kind = str(obj.get("relationship_type", "related-to"))
                other = target if reference.role == "source" else source
                if isinstance(other, str):
                    graph.edges.setdefault(reference.ref, []).append((kind, other))
                    others.add(other)
        if others:
            for stored in self.store.objects.get_many(self.viewer, sorted(others), conn):
                graph.objects[stored.id] = stored
        # Issue 6: sighting aggregates (anonymous ones included) and stored correlations.
        if wanted & SIGHTED:
            graph.totals = sighting_totals(conn, self.viewer, ids)
        if not wanted & CORRELATED:
            return graph
        exclude = self.exclude
        # The matches were read through the rule by the search: correlated_with checks the
        # other ends only.
        sources = {seq: object_id for object_id, seq in matched.items()}
        limit = CORRELATION_LIMIT * len(ids)
        for found in correlated_with(conn, self.viewer, sources, limit, exclude):
            graph.correlations.setdefault(found.source, []).append(found)
        return graph


# -- one answer ------------------------------------------------------------------------------


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


class _EvidenceCache:
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


def _answer(
    answer: Answer, matches: list[ValueMatch], evidence: _EvidenceCache, orgs: set[str]
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


@dataclass(slots=True)
class Graph:
    """What lies one hop from the matched objects, visible to the viewer."""

    edges: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # id -> (kind, other)
    objects: dict[str, StoredObject] = field(default_factory=dict)
    sightings: dict[str, list[StoredObject]] = field(default_factory=dict)
    totals: dict[str, SightingTotals] = field(default_factory=dict)
    correlations: dict[str, list[Correlation]] = field(default_factory=dict)
