"""The score and verdict of a looked-up value (docs/verdict.md has the why).

Deterministic and pure: the same evidence gives the same answer. The hooks marked below are
where later work plugs in: decay of an indicator's weight with age, sightings that restore
it, false-positive votes, and the warninglists and allowlists (``on_benign_list``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["malicious", "suspicious", "benign", "unknown"]

# How much one piece of evidence says about the value, by how it matched.
RELATION_WEIGHT = {
    "exact": 1.0,  # the value itself is in an indicator or an observable
    "url-host": 0.8,  # the URL's host is an indicator: what it serves is suspect
    "parent-domain": 0.7,  # a parent domain is an indicator (dynamic DNS, bullet-proof zones)
    "cidr": 0.6,  # the address is inside a network that is an indicator
    "host": 0.5,  # a URL or mailbox on this host is an indicator; the host itself may be shared
}
DEFAULT_CONFIDENCE = 50  # STIX 2.1 confidence absent: "no information" is treated as medium
OBSERVATION_WEIGHT = 0.2  # an SCO or observed-data: seen, not judged
EXPIRED_WEIGHT = 0.3  # an indicator past valid_until still says something, much less
CORROBORATION_PER_ORG = 5  # each further organisation that independently knows the value
CORROBORATION_CAP = 15
SIGHTING_BONUS = 2  # per sighting (hook: issue 6 replaces this with decay-aware scoring)
SIGHTING_CAP = 10
BENIGN_LIST_FACTOR = 0.3  # a value on a benign list (warninglist, allowlist) is damped

MALICIOUS_AT = 70
SUSPICIOUS_AT = 30


@dataclass(frozen=True, slots=True)
class ScoreInput:
    # (relation, object type, confidence, revoked, expired, benign indicator) per reason
    reasons: list[tuple[str, str, int | None, bool, bool, bool]]
    reporting_organisations: int = 0
    sightings: int = 0
    on_benign_list: bool = False


def evidence_weight(
    relation: str, object_type: str, confidence: int | None, expired: bool
) -> float:
    """0-100: what one live reason says on its own."""
    weight = RELATION_WEIGHT.get(relation, 0.5)
    if object_type != "indicator":
        weight *= OBSERVATION_WEIGHT
    if expired:
        weight *= EXPIRED_WEIGHT
    return weight * (DEFAULT_CONFIDENCE if confidence is None else confidence)


def score_value(given: ScoreInput) -> tuple[int, Verdict]:
    live = [r for r in given.reasons if not r[3]]  # revoked objects say nothing any more
    malicious = [r for r in live if not r[5]]
    benign_evidence = any(r[5] for r in live) or given.on_benign_list
    if not live and not given.on_benign_list:
        return 0, "unknown"
    score = max((evidence_weight(r[0], r[1], r[2], r[4]) for r in malicious), default=0.0)
    if score > 0:
        extra_orgs = max(0, given.reporting_organisations - 1)
        score += min(CORROBORATION_CAP, CORROBORATION_PER_ORG * extra_orgs)
        score += min(SIGHTING_CAP, SIGHTING_BONUS * given.sightings)
    # hook (issue 6): decay by age per observable type, false-positive votes
    if given.on_benign_list:
        score *= BENIGN_LIST_FACTOR
    value = max(0, min(100, round(score)))
    if value >= MALICIOUS_AT:
        return value, "malicious"
    if value >= SUSPICIOUS_AT:
        return value, "suspicious"
    if benign_evidence:
        return value, "benign"
    return value, "unknown"
