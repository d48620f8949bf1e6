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

from accord.intel.scoring import ScoreInput, indicator_score, score_value
from accord.model.observables import Observable, ObservableError, detect, normalise
from accord.model.timestamps import timestamp_key
from accord.model.visibility import Viewer
from accord.store.audit import Event
from accord.store.correlated import Correlation, correlated, excluding
from accord.store.node import Store
from accord.store.records import StoredObject, ValueMatch
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
    benign: bool  # the list says "this is not malicious" (false-positive lists, allowlists)
    via_parent: bool = False  # only a parent domain is on the list (shown, does not damp)


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
            "lists": [
                {"source": hit.source, "name": hit.name, "benign": hit.benign} for hit in self.lists
            ],
            "correlations": [c.as_json() | {"from": c.source} for c in self.correlations],
        }
        if self.error is not None:
            found["error"] = self.error
        return found

    @property
    def answered_by(self) -> list[str]:
        return [reason.id for reason in self.reasons]


def parse_query(text: str, kind: str | None = None) -> Observable:
    """A value as the observable index reads it; ``kind`` overrides detection."""
    if kind is not None:
        return normalise(kind, text)
    found = detect(text)
    if found is None:
        raise ObservableError(
            f"cannot tell what {text!r} is: give an IP address, CIDR, domain, URL, "
            "e-mail address or hash, or say which with `type`"
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
    ) -> None:
        self.store = store
        self.viewer = viewer
        self.benign_check = benign_check
        self.now = now

    def one(self, text: str, kind: str | None = None) -> Answer:
        return self.many([text], kind)[0]

    def many(self, texts: Sequence[str], kind: str | None = None) -> list[Answer]:
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
        with self.store.engine.connect() as conn:
            found = self.store.index.search_many(self.viewer, [o for _, o in parsed], conn)
            totals = [_distinct(matches) for matches in found]
            found = [strongest(matches) for matches in found]
            matched: set[str] = {m.obj.id for matches in found for m in matches}
            graph = self._graph(sorted(matched), conn)
        now_key = timestamp_key(self.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        for (position, observable), matches, (total, orgs) in zip(
            parsed, found, totals, strict=True
        ):
            answers[position].reasons_total = total
            self._answer(answers[position], observable, matches, graph, now_key, orgs)
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

    # -- the graph one hop away --------------------------------------------------------------

    def _graph(self, ids: list[str], conn: Connection) -> Graph:
        graph = Graph()
        if not ids:
            return graph
        references = self.store.objects.referencing(
            self.viewer, ids, ("source", "target", "sighting_of", "member"), connection=conn
        )
        others: set[str] = set()
        for reference in references:
            obj = reference.obj.json()
            if reference.role == "sighting_of":
                graph.sightings.setdefault(reference.ref, []).append(reference.obj)
            elif reference.role == "member":
                if reference.obj.type == "report":
                    graph.edges.setdefault(reference.ref, []).append(("contains", reference.obj.id))
                    graph.objects[reference.obj.id] = reference.obj
            else:
                source, target = obj.get("source_ref"), obj.get("target_ref")
                kind = str(obj.get("relationship_type", "related-to"))
                other = target if reference.role == "source" else source
                if isinstance(other, str):
                    graph.edges.setdefault(reference.ref, []).append((kind, other))
                    others.add(other)
        for stored in self.store.objects.get_many(self.viewer, sorted(others), conn):
            graph.objects[stored.id] = stored
        # Issue 6: sighting aggregates (anonymous ones included) and stored correlations.
        graph.totals = sighting_totals(conn, self.viewer, ids)
        exclude = excluding(self.benign_check)
        for found in correlated(conn, self.viewer, ids, CORRELATION_LIMIT * len(ids), exclude):
            graph.correlations.setdefault(found.source, []).append(found)
        return graph

    # -- one answer --------------------------------------------------------------------------

    def _answer(
        self,
        answer: Answer,
        observable: Observable,
        matches: list[ValueMatch],
        graph: Graph,
        now_key: str,
        orgs: set[str],
    ) -> None:
        seen_reasons: set[tuple[str, str]] = set()
        firsts: list[str] = []
        lasts: list[str] = []
        sighting_count = 0
        scores: dict[int, int] = {}  # reason position -> the indicator's decayed score
        for match in matches:
            if (match.obj.id, match.value) in seen_reasons:
                continue
            seen_reasons.add((match.obj.id, match.value))
            obj = match.obj.json()
            reason = Reason(
                relation=match.relation,
                via=match.value,
                id=match.obj.id,
                type=match.obj.type,
                name=_name(obj),
                tlp=match.obj.tlp.label,
                revoked=match.obj.revoked,
            )
            if match.obj.type == "indicator":
                reason.pattern = obj.get("pattern")
                confidence = obj.get("confidence")
                reason.confidence = confidence if isinstance(confidence, int) else None
                valid_until = obj.get("valid_until")
                if isinstance(valid_until, str):
                    reason.expired = timestamp_key(valid_until) < now_key
                reason.benign = "benign" in (obj.get("indicator_types") or ())
            answer.reasons.append(reason)
            for stamp in (obj.get("valid_from"), obj.get("created"), obj.get("first_observed")):
                if isinstance(stamp, str):
                    firsts.append(stamp)
            for stamp in (obj.get("modified"), obj.get("last_observed")):
                if isinstance(stamp, str):
                    lasts.append(stamp)
            totals = graph.totals.get(match.obj.id)
            if totals is not None:
                sighting_count += totals.seen  # "seen" sightings, anonymous ones included
            if match.obj.type == "indicator":
                scores[len(answer.reasons) - 1] = indicator_score(
                    obj, match.kind, self.now(), totals, received=match.obj.date_added
                ).score
            for sighting in graph.sightings.get(match.obj.id, ()):
                body = sighting.json()
                orgs.update(r for r in body.get("where_sighted_refs") or () if isinstance(r, str))
                if isinstance(body.get("first_seen"), str):
                    firsts.append(body["first_seen"])
                if isinstance(body.get("last_seen"), str):
                    lasts.append(body["last_seen"])
            self._relate(answer, match.obj.id, graph)
            self._correlate(answer, match.obj.id, graph)
        answer.first_seen = min(firsts, key=timestamp_key) if firsts else None
        answer.last_seen = max(lasts, key=timestamp_key) if lasts else None
        answer.sightings = sighting_count
        answer.reporting_organisations = len(orgs)
        if self.benign_check is not None:
            answer.lists = self.benign_check(observable)
        answer.score, answer.verdict = score_value(
            ScoreInput(
                reasons=[
                    (r.relation, r.type, r.confidence, r.revoked, r.expired, r.benign)
                    for r in answer.reasons
                ],
                reporting_organisations=len(orgs),
                sightings=sighting_count,
                scores=[scores.get(i) for i in range(len(answer.reasons))],
                # A list that names only a parent domain (a top-sites list naming a
                # dynamic-DNS zone, say) says nothing about this subdomain: shown, not counted.
                on_benign_list=any(hit.benign and not hit.via_parent for hit in answer.lists),
            )
        )

    def _correlate(self, answer: Answer, object_id: str, graph: Graph) -> None:
        """Objects correlated with a reason's object that are not reasons themselves."""
        if len(answer.correlations) >= CORRELATION_LIMIT:
            return
        known = {reason.id for reason in answer.reasons} | {c.obj.id for c in answer.correlations}
        for found in graph.correlations.get(object_id, ()):
            if found.obj.id not in known:
                answer.correlations.append(found)
                known.add(found.obj.id)
                if len(answer.correlations) >= CORRELATION_LIMIT:
                    return

    def _relate(self, answer: Answer, object_id: str, graph: Graph) -> None:
        known = {related.id for related in answer.related}
        for relationship, other_id in graph.edges.get(object_id, ()):
            other = graph.objects.get(other_id)
            if other is None or other.type not in RELATED_TYPES or other.id in known:
                continue
            body = other.json()
            answer.related.append(
                Related(
                    id=other.id,
                    type=other.type,
                    name=_name(body),
                    tlp=other.tlp.label,
                    relationship=relationship,
                    attack_id=_attack_id(body),
                )
            )
            known.add(other.id)


@dataclass(slots=True)
class Graph:
    """What lies one hop from the matched objects, visible to the viewer."""

    edges: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # id -> (kind, other)
    objects: dict[str, StoredObject] = field(default_factory=dict)
    sightings: dict[str, list[StoredObject]] = field(default_factory=dict)
    totals: dict[str, SightingTotals] = field(default_factory=dict)
    correlations: dict[str, list[Correlation]] = field(default_factory=dict)
