"""Report ingest in the portal: paste or upload, review (nothing stored), store the values
kept as a STIX report at the TLP and for the recipients chosen; who may; and the review's
"known" column read through the visibility rule."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from ingest_support import post_fields, review_rows, store_form, upload
from portal_support import Browsing, Portal

from accord.ingest.stix import Ingester, IngestOptions
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.store.objects import ObjectQuery
from leakdata import DOMAIN, EXPECTED, load_matrix
from leakdata import indicator as leak_indicator

NOTE = """\
2024-02-08: TA577 PUSHES PIKABOT (a made-up note)

REFERENCES:
- https://twitter.com/Unit42_Intel/status/1755741384982561175

INDICATORS:
- SHA256 hash: 3cb8174becb3c89318ed01ccd76e71cbeb8bc9e0fcbce8e110d40cd71af20fa2
- hxxps://gloverstech[.]com/tJWz9/0.526635390798647.dat
- 158.220.80[.]167 port 2967 - HTTPS traffic
- C2: pikabot-c2[.]net
- documentation address 192.0.2.44 (not an indicator)
"""
SHA256 = "3cb8174becb3c89318ed01ccd76e71cbeb8bc9e0fcbce8e110d40cd71af20fa2"
URL = "https://gloverstech.com/tJWz9/0.526635390798647.dat"


def _review(who: Browsing, text: str) -> str:
    answer = who.http.post("/ingest/review", data={"csrf": who.csrf, "text": text})
    assert answer.status_code == 200, answer.text
    return answer.text


def _objects(portal: Portal, who: str) -> list[str]:
    user = portal.store.directory.user(portal.emails[who])
    viewer = portal.store.directory.viewer(user)
    return [o.id for o in portal.store.objects.query(viewer, ObjectQuery(limit=100_000))]


def _cells(row: str) -> str:
    """A review row without its position and its context (which differ by place)."""
    row = re.sub(r'"keep-\d+"', '"keep-N"', row)
    return row[: row.index('<td class="context">')]


def test_only_those_who_may_ingest_see_the_pages(portal: Portal) -> None:
    for role in ("reader", "operator"):
        who = portal.sign_in(portal.emails[role])
        home = who.http.get("/")
        assert 'href="/ingest"' not in home.text
        missing = who.http.get("/no-such-page")
        for path in ("/ingest", "/ingest/review", "/ingest/report", "/ingest/file"):
            answer = who.http.get(path)
            assert answer.status_code == 404
            assert answer.text == missing.text
        for path in ("/ingest/review", "/ingest/report", "/ingest/file"):
            answer = who.post(path, {"text": NOTE})
            assert answer.status_code == 404, path  # type: ignore[attr-defined]
    for role in ("analyst", "orgadmin", "admin"):
        who = portal.sign_in(portal.emails[role])
        assert 'href="/ingest"' in who.http.get("/").text
        assert who.http.get("/ingest").status_code == 200


def test_paste_review_stores_nothing_then_store_what_was_kept(portal: Portal) -> None:
    analyst = portal.sign_in(portal.emails["analyst"])
    before = _objects(portal, "analyst")
    page = _review(analyst, NOTE)
    assert _objects(portal, "analyst") == before  # the review stores nothing
    rows = review_rows(page)
    assert rows[f"sha256:{SHA256}"].checked
    assert rows[f"url:{URL}"].checked and "hxxps://gloverstech[.]com" in rows[f"url:{URL}"].html
    assert rows["ipv4:158.220.80.167"].checked
    documentation = rows["ipv4:192.0.2.44"]
    assert documentation.flagged and not documentation.checked
    assert "documentation" in documentation.html
    reference = rows["url:https://twitter.com/Unit42_Intel/status/1755741384982561175"]
    assert reference.flagged and not reference.checked and "reference link" in reference.html
    assert "TA577 PUSHES PIKABOT" in page  # the first line is the name offered

    kept = [key for key, row in rows.items() if row.checked and key != "domain:pikabot-c2.net"]
    police = portal.community.police.id
    answer = post_fields(
        analyst,
        "/ingest/report",
        store_form(page, kept, "amber", [police], name="Pikabot note"),
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    report_id = answer.headers["location"].removeprefix("/objects/")
    assert report_id.startswith("report--")

    viewer = portal.store.directory.viewer(portal.community.analyst)
    report = portal.store.objects.get(viewer, report_id)
    assert report is not None
    stored = orjson.loads(report.raw)
    assert stored["name"] == "Pikabot note"
    assert stored["object_marking_refs"] == [Tlp.AMBER.marking_id]
    refs = stored["object_refs"]
    indicators = [portal.store.objects.get(viewer, ref) for ref in refs]
    names = sorted(orjson.loads(i.raw)["name"] for i in indicators if i is not None)
    assert names == sorted(key.partition(":")[2] for key in kept)
    assert all(i is not None and i.tlp == Tlp.AMBER for i in indicators)

    recipient = portal.store.directory.viewer(portal.community.investigator)
    outsider = portal.store.directory.viewer(portal.community.operator)
    assert portal.store.objects.get(recipient, report_id) is not None
    assert portal.store.objects.get(outsider, report_id) is None
    assert portal.store.objects.get(outsider, refs[0]) is None

    writes = portal.store.audit.entries(action="write")
    assert writes[-1].target == report_id
    assert writes[-1].detail["via"] == "portal ingest report"
    assert writes[-1].detail["stored"] == len(refs) + 1


def test_upload_a_markdown_file_and_store_it_green(portal: Portal) -> None:
    analyst = portal.sign_in(portal.emails["analyst"])
    document = b"## C2\n\n* `hxxp://a.evil-shop[.]net/gate.php`\n* 45.77.120[.]9\n"
    answer = upload(analyst, "/ingest/review", "campaign.md", document)
    assert answer.status_code == 200, answer.text
    rows = review_rows(answer.text)
    assert set(rows) >= {"url:http://a.evil-shop.net/gate.php", "ipv4:45.77.120.9"}
    assert "campaign.md" in answer.text
    kept = [key for key, row in rows.items() if row.checked]
    done = post_fields(
        analyst, "/ingest/report", store_form(answer.text, kept, "green"), follow_redirects=False
    )
    assert done.status_code == 303
    report_id = done.headers["location"].removeprefix("/objects/")
    outsider = portal.store.directory.viewer(portal.community.operator)
    report = portal.store.objects.get(outsider, report_id)  # GREEN: every member
    assert report is not None
    assert orjson.loads(report.raw)["x_accord_source_file"]["name"] == "campaign.md"


def test_the_known_column_reads_through_the_visibility_rule(portal: Portal) -> None:
    """A value the analyst's organisation shared AMBER only with itself is new to the police
    investigator's review; the one it shared GREEN is known to both."""
    ingester = Ingester(portal.store, portal.community.analyst)
    for level, domain in ((Tlp.AMBER, "amber-only-c2.net"), (Tlp.GREEN, "green-c2.net")):
        bundle = {
            "type": "bundle",
            "id": "bundle--00000000-0000-4000-8000-000000000001",
            "objects": [
                {
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": f"indicator--00000000-0000-4000-8000-00000000000{int(level)}",
                    "created": "2026-01-01T00:00:00.000Z",
                    "modified": "2026-01-01T00:00:00.000Z",
                    "name": f"secret name {domain}",
                    "pattern": f"[domain-name:value = '{domain}']",
                    "pattern_type": "stix",
                    "valid_from": "2026-01-01T00:00:00Z",
                    "object_marking_refs": [level.marking_id],
                }
            ],
        }
        report = ingester.ingest_bytes(
            orjson.dumps(bundle), "seed", IngestOptions(recipients=Recipients())
        )
        assert report.ok, report.summary()
    text = "C2 servers: amber-only-c2[.]net and green-c2[.]net and never-seen-c2[.]net\n"
    creator = review_rows(_review(portal.sign_in(portal.emails["analyst"]), text))
    assert "known" in creator["domain:amber-only-c2.net"].html
    investigator_page = _review(portal.sign_in(portal.emails["investigator"]), text)
    other = review_rows(investigator_page)
    assert "known" in other["domain:green-c2.net"].html
    hidden, new = other["domain:amber-only-c2.net"].html, other["domain:never-seen-c2.net"].html
    assert "known" not in hidden
    assert _cells(hidden).replace("amber-only-c2", "X") == _cells(new).replace("never-seen-c2", "X")
    assert "secret name amber" not in investigator_page
    assert "00000000-0000-4000-8000-000000000002" not in investigator_page
    lookups = portal.store.audit.entries(action="lookup")
    assert any("amber-only-c2.net" in entry.detail.get("values", []) for entry in lookups)


def test_warninglisted_values_are_flagged_and_left_out(portal: Portal) -> None:
    analyst = portal.sign_in(portal.emails["analyst"])
    rows = review_rows(_review(analyst, "Beacons to 8.8.8[.]8 and to 45.77.120[.]9\n"))
    listed = rows["ipv4:8.8.8.8"]
    assert listed.flagged and not listed.checked and "warninglisted" in listed.html
    assert rows["ipv4:45.77.120.9"].checked


def test_a_real_unit42_note_end_to_end(portal: Portal, shared_data: Path) -> None:
    folder = shared_data / "extraction-gt" / "unit42-tti" / "2024-02-08-Pikabot"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not in the shared data")
    expected = orjson.loads((folder / "expected_iocs.json").read_bytes())
    hashes = {item["value"].lower() for item in expected if "SHA-256" in item["property"]}
    analyst = portal.sign_in(portal.emails["analyst"])
    answer = upload(analyst, "/ingest/review", "report.txt", (folder / "report.txt").read_bytes())
    assert answer.status_code == 200, answer.text
    rows = review_rows(answer.text)
    assert hashes and hashes <= {row.value for row in rows.values() if row.kind == "sha256"}
    assert all(rows[f"sha256:{value}"].checked for value in hashes)
    kept = [key for key, row in rows.items() if row.checked]
    left_out = kept.pop()
    done = post_fields(
        analyst, "/ingest/report", store_form(answer.text, kept, "amber"), follow_redirects=False
    )
    assert done.status_code == 303, done.text
    viewer = portal.store.directory.viewer(portal.community.analyst)
    report = portal.store.objects.get(viewer, done.headers["location"].removeprefix("/objects/"))
    assert report is not None
    refs = orjson.loads(report.raw)["object_refs"]
    assert len(refs) == len(kept)
    names = {orjson.loads(portal.store.objects.get(viewer, ref).raw)["name"] for ref in refs}  # type: ignore[union-attr]
    assert left_out.partition(":")[2] not in names


def test_a_real_eset_write_up(portal: Portal, shared_data: Path) -> None:
    folder = shared_data / "extraction-gt" / "eset-readme"
    readmes = sorted(folder.glob("*/README.adoc")) if folder.is_dir() else []
    if not readmes:
        pytest.skip(f"no ESET write-up under {folder}")
    path = readmes[0]
    expected = orjson.loads((path.parent / "expected_iocs.json").read_bytes())
    analyst = portal.sign_in(portal.emails["analyst"])
    answer = upload(analyst, "/ingest/review", "README.adoc", path.read_bytes())
    assert answer.status_code == 200, answer.text
    rows = review_rows(answer.text)
    in_text = {item["value"].lower() for item in expected if item["in_adoc_text"]}
    values = {row.value.lower() for row in rows.values()}
    assert in_text and len(in_text & values) >= 0.9 * len(in_text)


LEAK_VIEWERS = {
    "creator": "analyst",
    "colleague": "colleague",
    "recipient": "investigator",
    "outsider": "orgadmin",  # the water utility's org-admin: may ingest, sees GREEN and below
}


def _masked(page: str, value: str) -> str:
    """The review page with the value, the carried state and the CSRF token taken out."""
    page = page.replace(value, "VALUE")
    page = re.sub(r'name="state" value="[^"]*"', 'name="state" value="STATE"', page)
    page = re.sub(r'value="[A-Za-z0-9_\-]{30,}"', 'value="TOKEN"', page)
    return re.sub(r'"X-CSRF-Token": "[^"]+"', '"X-CSRF-Token": "TOKEN"', page)


@pytest.mark.parametrize("viewer", list(LEAK_VIEWERS))
def test_review_pages_show_only_what_the_viewer_may_see(portal: Portal, viewer: str) -> None:
    """The leak matrix over the review page: a value is "known" to those who may see an
    object that knows it, and a value only hidden objects know reviews exactly like a value
    nobody knows."""
    load_matrix(portal.store, portal.community)
    me = portal.sign_in(portal.emails[LEAK_VIEWERS[viewer]])
    unknown = "c2-nobody-knows.example.net"
    for level in Tlp:
        visible = viewer in EXPECTED[level]
        page = _review(me, f"Indicators\n- {DOMAIN[level]}\n")
        row = review_rows(page)[f"domain:{DOMAIN[level]}"]
        assert ("known · look up" in row.html) == visible, (viewer, level)
        made = leak_indicator(level)  # the review names no object, visible or not
        assert str(made["id"]) not in page and str(made["name"]) not in page
        if not visible:
            other = _review(me, f"Indicators\n- {unknown}\n")
            assert _masked(page, DOMAIN[level]) == _masked(other, unknown)


def test_the_pages_in_spanish(portal: Portal) -> None:
    analyst = portal.sign_in(portal.emails["analyst"])
    start = analyst.http.get("/ingest?lang=es")
    assert start.status_code == 200 and '<html lang="es">' in start.text
    review = analyst.http.post("/ingest/review", data={"csrf": analyst.csrf, "text": NOTE})
    assert review.status_code == 200 and '<html lang="es">' in review.text
    assert review_rows(review.text)[f"sha256:{SHA256}"].checked
