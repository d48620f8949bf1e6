"""What a look-up answers for one value: the verdict and score, the reasons, the context
one hop away, the benign lists; and how a looked-up text is read as a value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accord.intel.benign import ListHit
from accord.intel.scoring import Verdict
from accord.store.correlation.results import Correlation


@dataclass(slots=True)
class Reason:
    relation: str  # exact, pattern, cidr, parent-domain, url-host, host
    via: str  # the indexed value that matched (for "pattern": the looked-up value)
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
