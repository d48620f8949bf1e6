"""The leak matrix's data: one indicator per TLP level, and who must see each.

Every read path's test loads it and checks each viewer against EXPECTED."""

from __future__ import annotations

import orjson

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients, Viewer
from accord.store.node import Store
from community import Community

# The matrix uses documentation addresses (RFC 5737, 3849): nodes that serve it ignore the
# warninglists naming them.
DOCUMENTATION_LISTS = frozenset({"List of RFC 5735 CIDR blocks", "List of RFC 3849 CIDR blocks"})

VIEWERS = ["creator", "colleague", "recipient", "outsider", "anonymous"]

# TLP 2.0 as Accord applies it: who sees an object created by the CERT analyst that names
# the police unit (AMBER) or the police investigator (RED) as recipient.
EXPECTED: dict[Tlp, set[str]] = {
    Tlp.CLEAR: {"creator", "colleague", "recipient", "outsider", "anonymous"},
    Tlp.GREEN: {"creator", "colleague", "recipient", "outsider"},
    Tlp.AMBER: {"creator", "colleague", "recipient"},
    Tlp.AMBER_STRICT: {"creator", "colleague", "recipient"},
    Tlp.RED: {"creator", "recipient"},
}

ADDRESS = {level: f"198.51.100.{10 + int(level)}" for level in Tlp}
NETWORK = {level: f"203.0.{113 - int(level)}.0/24" for level in Tlp}
DOMAIN = {level: f"c2-{level.slug.replace('+', '-')}.example.net" for level in Tlp}


def indicator(level: Tlp) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-00000000000{int(level)}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"{level.label} test indicator",
        "labels": [f"leak-{level.slug}"],
        "pattern": (
            f"[ipv4-addr:value = '{ADDRESS[level]}'] OR [ipv4-addr:value = '{NETWORK[level]}']"
            f" OR [domain-name:value = '{DOMAIN[level]}']"
        ),
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [level.marking_id],
    }


# Indicators a look-up finds only through their STIX pattern (issue 19): the observable
# index holds nothing of `LIKE`, so the pattern index (accord.match.indicator_index) must.
PATTERN_ZONE = {level: f"p-{level.slug.replace('+', '-')}.example.org" for level in Tlp}


def pattern_indicator(level: Tlp) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-00000000010{int(level)}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"{level.label} pattern indicator",
        "labels": [f"leak-pattern-{level.slug}"],
        "pattern": f"[domain-name:value LIKE '%.{PATTERN_ZONE[level]}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [level.marking_id],
    }


def _recipients(level: Tlp, community: Community) -> Recipients:
    if level == Tlp.RED:
        return Recipients(user_ids=frozenset({community.investigator.id}))
    return Recipients(org_ids=frozenset({community.police.id}))


def load_pattern_matrix(store: Store, community: Community) -> None:
    """One `pattern_indicator` per TLP level, created by the CERT analyst for the same
    recipients as `load_matrix`'s."""
    ingester = Ingester(store, community.analyst)
    for level in Tlp:
        data = orjson.dumps(
            {"type": "bundle", "id": "bundle--3", "objects": [pattern_indicator(level)]}
        )
        options = IngestOptions(recipients=_recipients(level, community))
        report = ingester.ingest_bytes(data, level.slug, options)
        assert report.ok, report.summary()


def load_matrix(store: Store, community: Community) -> dict[str, Viewer]:
    """One indicator per TLP level, two versions each, created by the CERT analyst; AMBER
    ones name the police unit, RED ones the police investigator. Answers the viewers."""
    ingester = Ingester(store, community.analyst)
    for level in Tlp:
        recipients = (
            Recipients(user_ids=frozenset({community.investigator.id}))
            if level == Tlp.RED
            else Recipients(org_ids=frozenset({community.police.id}))
        )
        data = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": [indicator(level)]})
        report = ingester.ingest_bytes(data, level.slug, IngestOptions(recipients=recipients))
        assert report.ok, report.summary()
        newer = indicator(level) | {"modified": "2026-02-01T00:00:00.000Z"}
        data = orjson.dumps({"type": "bundle", "id": "bundle--2", "objects": [newer]})
        assert ingester.ingest_bytes(data, level.slug, IngestOptions(recipients=recipients)).ok
    d = store.directory
    return {
        "creator": d.viewer(community.analyst),
        "colleague": d.viewer(community.colleague),
        "recipient": d.viewer(community.investigator),
        "outsider": d.viewer(community.operator),
        "anonymous": Viewer.anonymous(),
    }
