"""Indicator scores over time: deterministic for a given time, per-type decay, sightings that
restore, false-positive votes, expiry and revocation, an analyst's score kept as given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accord.intel.scoring import ScoreInput, indicator_score, score_value
from accord.model.extension import ACCORD_EXTENSION_ID
from accord.store.sightings import SightingTotals, facts_of

START = datetime(2026, 1, 1, tzinfo=UTC)
INDICATOR = {
    "type": "indicator",
    "id": "indicator--00000000-0000-4000-8000-0000000000aa",
    "valid_from": "2026-01-01T00:00:00Z",
    "confidence": 80,
}


def at(days: float) -> datetime:
    return START + timedelta(days=days)


def test_deterministic_for_a_given_time() -> None:
    first = [indicator_score(INDICATOR, "ipv4", at(d)).score for d in range(0, 400, 7)]
    again = [indicator_score(INDICATOR, "ipv4", at(d)).score for d in range(0, 400, 7)]
    assert first == again
    assert first == sorted(first, reverse=True) and first[0] == 80


def test_addresses_fall_fast_domains_slower_hashes_barely() -> None:
    after = {
        kind: indicator_score(INDICATOR, kind, at(90)).score
        for kind in ("ipv4", "domain", "sha256")
    }
    assert after["ipv4"] == 10  # three half-lives of 30 days
    assert after["ipv4"] < after["domain"] < after["sha256"] <= 80
    assert after["sha256"] >= 76


def test_seen_sightings_restore_and_votes_lower() -> None:
    old = indicator_score(INDICATOR, "ipv4", at(120)).score
    seen = SightingTotals(seen=3, last_seen="2026-04-25T00:00:00.000000Z")
    assert indicator_score(INDICATOR, "ipv4", at(120), seen).score == 70  # 6 days after it
    assert old < 10
    voted = SightingTotals(seen=3, last_seen="2026-04-25T00:00:00.000000Z", false_positive_orgs=2)
    assert indicator_score(INDICATOR, "ipv4", at(120), voted).score == 17  # a quarter
    future = SightingTotals(seen=1, last_seen="2027-01-01T00:00:00.000000Z")
    assert indicator_score(INDICATOR, "ipv4", at(0), future).score == 80  # never above now


def test_received_counts_as_vouched_for() -> None:
    late = indicator_score(INDICATOR, "ipv4", at(60), received="2026-03-02T00:00:00.000000Z")
    assert late.score == 80 and late.age_days == 0


def test_expiry_revocation_and_explicit_scores() -> None:
    expired = INDICATOR | {"valid_until": "2026-01-10T00:00:00Z"}
    assert indicator_score(expired, "sha256", at(30)).score == 24  # 0.3 of a barely decayed 79
    assert indicator_score(INDICATOR | {"revoked": True}, "sha256", at(1)).score == 0
    pinned = INDICATOR | {"x_accord_score": 95}
    result = indicator_score(pinned, "ipv4", at(365))
    assert result.score == 95 and result.explicit
    by_extension = INDICATOR | {
        "extensions": {ACCORD_EXTENSION_ID: {"extension_type": "property-extension", "score": 5}}
    }
    assert indicator_score(by_extension, "ipv4", at(0)).score == 5
    # The verdict uses the indicator's score in place of its confidence.
    reason = ("exact", "indicator", 80, False, False, False)
    assert score_value(ScoreInput([reason], scores=[95])) == (95, "malicious")
    assert score_value(ScoreInput([reason], scores=[10])) == (10, "unknown")
    assert score_value(ScoreInput([reason])) == (80, "malicious")  # callers without decay


def test_sighting_facts_read_the_extension() -> None:
    sighting = {
        "type": "sighting",
        "sighting_of_ref": INDICATOR["id"],
        "count": 4,
        "first_seen": "2026-02-01T00:00:00Z",
        "extensions": {
            ACCORD_EXTENSION_ID: {
                "extension_type": "property-extension",
                "sighting_kind": "false-positive",
                "anonymous": True,
            }
        },
    }
    facts = facts_of(sighting)
    assert (
        facts is not None
        and facts.kind == "false-positive"
        and facts.anonymous
        and facts.count == 4
    )
    plain = facts_of({"type": "sighting", "sighting_of_ref": INDICATOR["id"]})
    assert plain is not None and plain.kind == "seen" and not plain.anonymous and plain.count == 1
    assert facts_of({"type": "indicator"}) is None
