"""Scores: of one indicator over time (decay), and of a looked-up value (the verdict).

docs/scoring.md has the why; docs/verdict.md how a value's evidence adds up. Everything here
is deterministic and pure: the same evidence and the same ``now`` give the same answer.

An indicator's score (0-100) starts from its source's STIX confidence, falls with its age on
a half-life per observable type (addresses fast, domains slower, hashes barely), is restored
by recent "seen" sightings (the age counts from the latest of its valid_from, the time this
node received the version, and the last "seen" sighting), is halved by each organisation
that called it a false positive or expired, and is cut when ``valid_until`` has passed;
revoked, it is 0. An analyst's explicit score (``x_accord_score``, or ``score`` in Accord's
extension) is kept as given: decay never overwrites it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Final, Literal

from accord.model.extension import ACCORD_EXTENSION_ID
from accord.model.timestamps import timestamp_key
from accord.store.sightings import SightingTotals

Verdict = Literal["malicious", "suspicious", "benign", "unknown"]

# How much one piece of evidence says about the value, by how it matched.
RELATION_WEIGHT = {
    "exact": 1.0,  # the value itself is in an indicator or an observable
    # An indicator's STIX pattern matches the value (LIKE, MATCHES, ISSUBSET, ...): the
    # indicator's author says what it says of a value it names with `=` (docs/verdict.md).
    "pattern": 1.0,
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
SIGHTING_BONUS = 2  # per sighting, for callers that give no indicator scores (no decay)
SIGHTING_CAP = 10
BENIGN_LIST_FACTOR = 0.3  # a value on a benign-class warninglist or an allowlist is damped

MALICIOUS_AT = 70
SUSPICIOUS_AT = 30

# -- decay ------------------------------------------------------------------------------------

# Days after which an indicator says half as much, per observable kind. Addresses move between
# tenants within weeks; domains are re-registered and parked within months; a file's hash
# names the same bytes for ever (it is the verdict on those bytes that may change).
HALF_LIFE_DAYS: Final[Mapping[str, float]] = {
    "ipv4": 30,
    "ipv6": 30,
    "ipv4-net": 60,
    "ipv6-net": 60,
    "url": 60,
    "email": 120,
    "domain": 120,
    "md5": 1825,
    "sha1": 1825,
    "sha256": 1825,
    "sha512": 1825,
    "sha3-256": 1825,
    "sha3-512": 1825,
    "ssdeep": 1825,
    "tlsh": 1825,
}
DEFAULT_HALF_LIFE_DAYS: Final = 120.0
FALSE_POSITIVE_FACTOR: Final = 0.5  # per organisation that called it a false positive
EXPIRED_VOTE_FACTOR: Final = 0.5  # per organisation that reported it expired
EXPLICIT_SCORE: Final = "x_accord_score"  # an analyst's score, kept as given


@dataclass(frozen=True, slots=True)
class DecayPolicy:
    """The half-lives (days) per observable kind; pass your own to change the curve."""

    half_life_days: Mapping[str, float] = field(default_factory=lambda: dict(HALF_LIFE_DAYS))
    default_half_life_days: float = DEFAULT_HALF_LIFE_DAYS


DEFAULT_DECAY: Final = DecayPolicy()


@dataclass(frozen=True, slots=True)
class IndicatorScore:
    score: int  # 0-100
    explicit: bool  # an analyst's score, not computed
    age_days: float  # since valid_from, or the last "seen" sighting when later


def explicit_score(obj: Mapping[str, Any]) -> int | None:
    """An analyst's score on the object: ``x_accord_score`` or ``score`` in Accord's
    extension, an integer 0-100; None when there is none."""
    found = obj.get(EXPLICIT_SCORE)
    extension = (obj.get("extensions") or {}).get(ACCORD_EXTENSION_ID)
    if found is None and isinstance(extension, Mapping):
        found = extension.get("score")
    if isinstance(found, int) and not isinstance(found, bool) and 0 <= found <= 100:
        return found
    return None


def _key(stamp: object) -> str | None:
    if not isinstance(stamp, str):
        return None
    try:
        return timestamp_key(stamp)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _instant(key: str) -> datetime:
    """A timestamp_key as a datetime (a bulk look-up meets the same few instants often)."""
    return datetime.fromisoformat(key.replace("Z", "+00:00"))


def _days_between(earlier: str, later: str) -> float:
    return max(0.0, (_instant(later) - _instant(earlier)).total_seconds() / 86400)


def indicator_score(
    obj: Mapping[str, Any],
    kind: str,
    now: datetime,
    sightings: SightingTotals | None = None,
    policy: DecayPolicy = DEFAULT_DECAY,
    received: str | None = None,
    now_key: str | None = None,
) -> IndicatorScore:
    """The score of one indicator (``obj``, its STIX JSON) for an observable of ``kind``,
    at ``now``, given the sightings the viewer may count. ``received``: when this node stored
    the version (timestamp_key form): a source that sends an indicator vouches for it then.
    ``now_key``: ``now`` in timestamp_key form, if the caller has it already."""
    if obj.get("revoked") is True:
        return IndicatorScore(0, False, 0.0)
    if now_key is None:
        now_key = timestamp_key(now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    anchor = _key(obj.get("valid_from")) or _key(obj.get("created")) or now_key
    if received is not None and received > anchor:
        anchor = min(received, now_key)
    if sightings is not None and sightings.last_seen and sightings.last_seen > anchor:
        anchor = min(sightings.last_seen, now_key)
    age = _days_between(anchor, now_key) if anchor < now_key else 0.0
    explicit = explicit_score(obj)
    if explicit is not None:
        return IndicatorScore(explicit, True, age)
    confidence = obj.get("confidence")
    base = confidence if isinstance(confidence, int) and 0 <= confidence <= 100 else None
    score = float(DEFAULT_CONFIDENCE if base is None else base)
    half_life = policy.half_life_days.get(kind, policy.default_half_life_days)
    score *= 0.5 ** (age / half_life)
    if sightings is not None:
        score *= FALSE_POSITIVE_FACTOR**sightings.false_positive_orgs
        score *= EXPIRED_VOTE_FACTOR**sightings.expired_orgs
    valid_until = _key(obj.get("valid_until"))
    if valid_until is not None and valid_until < now_key:
        score *= EXPIRED_WEIGHT
    return IndicatorScore(max(0, min(100, round(score))), False, age)


# -- lists a value is on ----------------------------------------------------------------------

ListEffect = Literal["damped", "none"]


@dataclass(frozen=True, slots=True)
class ListOutcome:
    """What one list a value is on does to its score (`list_effect`)."""

    effect: ListEffect
    factor: float
    label: str  # what kind of list: "benign by nature", "shared infrastructure", ...
    outcome: str  # what it did: "score x0.3", "context only, no effect on the verdict"

    @property
    def note(self) -> str:
        return f"{self.label}: {self.outcome}"


@lru_cache(maxsize=16)
def list_effect(source: str, list_class: str, via_parent: bool) -> ListOutcome:
    """What one list a value is on does to its score, and why, for people.

    Only a ``benign``-class warninglist (its values are benign by nature) or the
    organisation's allowlist damps the score (x `BENIGN_LIST_FACTOR`, once however many
    match), and only when the value itself is on it, not just a parent domain. A
    ``context`` list (shared infrastructure: cloud, hosting, VPN, CDN, dynamic DNS, ...)
    explains and changes nothing. docs/verdict.md."""
    if list_class != "benign":
        return ListOutcome(
            "none", 1.0, "shared infrastructure", "context only, no effect on the verdict"
        )
    label = "your organisation's allowlist" if source == "allowlist" else "benign by nature"
    if via_parent:
        return ListOutcome(
            "none", 1.0, label, "only a parent domain is listed, no effect on the score"
        )
    return ListOutcome("damped", BENIGN_LIST_FACTOR, label, f"score x{BENIGN_LIST_FACTOR:g}")


# -- the verdict on a value -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreInput:
    # (relation, object type, confidence, revoked, expired, benign indicator) per reason
    reasons: list[tuple[str, str, int | None, bool, bool, bool]]
    reporting_organisations: int = 0
    sightings: int = 0
    on_benign_list: bool = False
    """The value itself is on a benign-class warninglist or the organisation's allowlist
    (`list_effect` says "damped"); context lists do not count."""
    scores: Sequence[int | None] | None = None
    """Per reason, the indicator's own score (`indicator_score`: decay, sightings, votes,
    expiry folded in) used instead of its confidence; None where there is none. When given,
    sightings act through the decay, not through the fixed per-sighting bonus."""


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
    scores = given.scores
    if scores is not None and len(scores) != len(given.reasons):
        raise ValueError("one score per reason, or none")
    # One pass (a bulk look-up scores ten thousand values): the strongest live evidence
    # that the value is malicious, and whether any live evidence says it is benign.
    live = False
    benign_evidence = given.on_benign_list
    score = 0.0
    for position, reason in enumerate(given.reasons):
        if reason[3]:  # revoked objects say nothing any more
            continue
        live = True
        if reason[5]:
            benign_evidence = True
            continue
        own = None if scores is None else scores[position]
        weight = (
            evidence_weight(reason[0], reason[1], reason[2], reason[4])
            if own is None
            else evidence_weight(reason[0], reason[1], own, False)
        )
        score = max(score, weight)
    if not live and not given.on_benign_list:
        return 0, "unknown"
    if score > 0:
        extra_orgs = max(0, given.reporting_organisations - 1)
        score += min(CORROBORATION_CAP, CORROBORATION_PER_ORG * extra_orgs)
        if given.scores is None:
            score += min(SIGHTING_CAP, SIGHTING_BONUS * given.sightings)
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
