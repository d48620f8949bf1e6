"""Bad input on the ingest page: each gets a clear message on the page, nothing is stored
(not half of it either), and the server goes on answering."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import pytest
from fpdf import FPDF
from ingest_support import post_fields, review_rows, store_form, upload
from portal_support import Browsing, Portal

from accord.store.objects import ObjectQuery
from accord.web.portal import Portal as WebPortal

NOTE = "C2: hxxps://evil-shop[.]net/gate.php and 45.77.120[.]9\n"


def _count(portal: Portal) -> int:
    viewer = portal.store.directory.viewer(portal.community.analyst)
    return len(portal.store.objects.query(viewer, ObjectQuery(limit=100_000)))


@pytest.fixture
def baseline(portal: Portal) -> int:
    return _count(portal)


@pytest.fixture
def analyst(portal: Portal, baseline: int) -> Browsing:
    return portal.sign_in(portal.emails["analyst"])


def _web(portal: Portal) -> WebPortal:
    found = portal.app.state.portal  # type: ignore[attr-defined]
    assert isinstance(found, WebPortal)
    return found


def _still_up(analyst: Browsing, portal: Portal, baseline: int) -> None:
    """The server answers, and the analyst sees no more objects than before the test (the
    node's own: its identity, the TLP marking definitions)."""
    assert analyst.http.get("/ingest").status_code == 200
    assert _count(portal) == baseline


def test_an_empty_box(portal: Portal, analyst: Browsing, baseline: int) -> None:
    answer = analyst.post("/ingest/review", {"text": "  \n "})
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert "Paste a report's text or choose its file first." in answer.text  # type: ignore[attr-defined]
    _still_up(analyst, portal, baseline)


def test_ten_megabytes_pasted(portal: Portal, analyst: Browsing, baseline: int) -> None:
    text = ("1.2.3.4 evil[.]com " * 600_000)[: 10 * 1024 * 1024]
    answer = analyst.post("/ingest/review", {"text": text})
    assert answer.status_code == 413  # type: ignore[attr-defined]
    assert "more text than one report here may hold" in answer.text  # type: ignore[attr-defined]
    assert "2,000,000" in answer.text  # type: ignore[attr-defined]
    # As a browser posts the form: multipart, with the file field left empty.
    answer = analyst.http.post(
        "/ingest/review",
        data={"csrf": analyst.csrf, "text": text},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert answer.status_code == 413
    assert "more text than one report here may hold" in answer.text
    _still_up(analyst, portal, baseline)


def test_a_page_reloaded_goes_back_to_the_form(portal: Portal, analyst: Browsing) -> None:
    for path in ("/ingest/review", "/ingest/report", "/ingest/file"):
        answer = analyst.http.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/ingest"


def test_an_upload_over_the_limit(portal: Portal, analyst: Browsing, baseline: int) -> None:
    web = _web(portal)
    web.settings = dataclasses.replace(web.settings, web_upload_bytes=1024 * 1024)
    try:
        big = b"hxxp://evil[.]com/x\n" * (3 * 1024 * 1024 // 20)  # 3 MB: past the form's slack
        answer = upload(analyst, "/ingest/review", "big.txt", big)
        assert answer.status_code == 413
        assert "more than this page takes at once (1 MB)" in answer.text
        within_slack = b"x" * (1024 * 1024 + 10)  # past the limit, under the declared slack
        answer = upload(analyst, "/ingest/file", "big.json", within_slack, kind="stix")
        assert answer.status_code == 413
        assert "more than this page takes at once" in answer.text
    finally:
        web.settings = dataclasses.replace(web.settings, web_upload_bytes=20 * 1024 * 1024)
    _still_up(analyst, portal, baseline)


def test_a_pdf_that_is_not_a_pdf(portal: Portal, analyst: Browsing, baseline: int) -> None:
    answer = upload(analyst, "/ingest/review", "report.pdf", b"<html>not a pdf</html>")
    assert answer.status_code == 422
    assert "is named .pdf but is not a PDF" in answer.text
    broken = upload(analyst, "/ingest/review", "report.pdf", b"%PDF-1.4 and nothing else")
    assert broken.status_code == 422
    assert "The file could not be read" in broken.text and "report.pdf" in broken.text
    _still_up(analyst, portal, baseline)


def test_a_real_pdf_is_read(portal: Portal, analyst: Browsing) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in ("Indicators", "hxxps://evil-shop[.]net/payload.bin", "45.77.120[.]9"):
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    answer = upload(analyst, "/ingest/review", "report.pdf", bytes(pdf.output()))
    assert answer.status_code == 200, answer.text
    assert "url:https://evil-shop.net/payload.bin" in review_rows(answer.text)


def test_files_of_the_wrong_type(portal: Portal, analyst: Browsing, baseline: int) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    answer = upload(analyst, "/ingest/review", "screenshot.png", png)
    assert answer.status_code == 422 and "This kind of file is not taken here" in answer.text
    word = io.BytesIO()
    with zipfile.ZipFile(word, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    answer = upload(analyst, "/ingest/review", "report.docx", word.getvalue())
    assert answer.status_code == 422 and "This kind of file is not taken here" in answer.text
    # A binary file named as text: refused by what it holds, and said what it is.
    answer = upload(analyst, "/ingest/review", "notes.txt", png)
    assert answer.status_code == 422 and "a PNG image" in answer.text
    answer = upload(analyst, "/ingest/file", "bundle.json", png, kind="stix")
    assert answer.status_code == 422 and "a PNG image" in answer.text
    _still_up(analyst, portal, baseline)


def test_both_text_and_a_file(portal: Portal, analyst: Browsing) -> None:
    answer = upload(analyst, "/ingest/review", "note.txt", NOTE.encode(), text=NOTE)
    assert answer.status_code == 422 and "not both" in answer.text


def test_malformed_json(portal: Portal, analyst: Browsing, baseline: int) -> None:
    for kind in ("stix", "misp"):
        answer = upload(
            analyst, "/ingest/file", "broken.json", b'{"type": "bundle", "objects": [', kind=kind
        )
        assert answer.status_code == 422, kind
        assert "could not be read" in answer.text and "broken.json" in answer.text
    answer = upload(analyst, "/ingest/file", "x.json", b"{}", kind="pdf")
    assert answer.status_code == 422 and "Say what the file is" in answer.text
    answer = analyst.post("/ingest/file", {"kind": "stix"})
    assert answer.status_code == 422 and "Choose a file" in answer.text  # type: ignore[attr-defined]
    _still_up(analyst, portal, baseline)


def test_a_forged_review_is_refused(portal: Portal, analyst: Browsing) -> None:
    page = analyst.post("/ingest/review", {"text": NOTE}).text  # type: ignore[attr-defined]
    keep = list(review_rows(page))
    fields = store_form(page, keep)
    tampered = [(k, v[:-8] + "AAAAAAAA" if k == "state" else v) for k, v in fields]
    answer = post_fields(analyst, "/ingest/report", tampered)
    assert answer.status_code == 422
    assert "The form could not be read" in answer.text
    nonsense = [(k, "not base64 at all!" if k == "state" else v) for k, v in fields]
    assert post_fields(analyst, "/ingest/report", nonsense).status_code == 422
    bad_tlp = [(k, "purple" if k == "tlp" else v) for k, v in fields]
    assert post_fields(analyst, "/ingest/report", bad_tlp).status_code == 422
    # Values that the text does not hold are not stored, whatever the form says.
    forged = store_form(page, ["ipv4:9.9.9.9", "url:https://not-in-the-text.example/x"])
    answer = post_fields(analyst, "/ingest/report", forged)
    assert answer.status_code == 422 and "Keep at least one value" in answer.text
    mixed = store_form(page, [*keep, "ipv4:9.9.9.9"])
    done = post_fields(analyst, "/ingest/report", mixed, follow_redirects=False)
    assert done.status_code == 303
    names = set()
    viewer = portal.store.directory.viewer(portal.community.analyst)
    for obj in portal.store.objects.query(viewer, ObjectQuery(types=["indicator"])):
        names.add(obj.raw)
    assert not any("9.9.9.9" in raw for raw in names)
    assert len(names) == len(keep)


def test_no_csrf_no_store(portal: Portal, analyst: Browsing, baseline: int) -> None:
    page = analyst.post("/ingest/review", {"text": NOTE}).text  # type: ignore[attr-defined]
    fields = dict(store_form(page, list(review_rows(page))))
    answer = analyst.http.post("/ingest/report", data=fields)
    assert answer.status_code == 403
    answer = analyst.http.post("/ingest/review", data={"text": NOTE})
    assert answer.status_code == 403
    _still_up(analyst, portal, baseline)


def test_an_unknown_recipient_and_red_for_an_organisation(
    portal: Portal, analyst: Browsing, baseline: int
) -> None:
    page = analyst.post("/ingest/review", {"text": NOTE}).text  # type: ignore[attr-defined]
    keep = list(review_rows(page))
    answer = post_fields(
        analyst, "/ingest/report", store_form(page, keep, "amber", other="Nobody Such Org")
    )
    assert answer.status_code == 422
    assert "There is no organisation or sharing group “Nobody Such Org”" in answer.text
    assert 'value="Nobody Such Org"' in answer.text  # the choices are kept for a new try
    police = portal.community.police.id
    answer = post_fields(analyst, "/ingest/report", store_form(page, keep, "red", [police]))
    assert answer.status_code == 422
    assert "Nothing was stored" in answer.text
    assert "TLP:RED is shared with named people only" in answer.text
    _still_up(analyst, portal, baseline)
