"""The look-up page shows an indicator found through its STIX pattern (issue 19): the relation
named in words, in English and Spanish, and the pattern itself."""

from __future__ import annotations

import html

import orjson
from portal_support import Portal

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp

PATTERN = "[domain-name:value LIKE '%.evil.example']"


def test_the_look_up_page_names_the_pattern_relation(portal: Portal) -> None:
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--00000000-0000-4000-8000-000000001999",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Evil zone",
        "pattern": PATTERN,
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
    }
    bundle = orjson.dumps({"type": "bundle", "id": "bundle--1", "objects": [indicator]})
    report = Ingester(portal.store, portal.community.analyst).ingest_bytes(
        bundle, "test", IngestOptions(tlp=Tlp.GREEN)
    )
    assert report.ok, report.summary()
    outsider = portal.sign_in(portal.emails["operator"])
    card = outsider.post("/lookup", {"q": "a.evil.example"}, headers={"HX-Request": "true"})
    text = html.unescape(card.text)  # type: ignore[attr-defined]
    assert "a pattern that matches it" in text
    assert PATTERN in text and "Evil zone" in text
    spanish = outsider.post(
        "/lookup",
        {"q": "a.evil.example"},
        headers={"HX-Request": "true", "Accept-Language": "es"},
    )
    assert "un patrón que lo cumple" in html.unescape(spanish.text)  # type: ignore[attr-defined]
