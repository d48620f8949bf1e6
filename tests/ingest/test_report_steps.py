"""The report's steps taken apart (as the portal takes them): read, review, store what a
person kept; binary files refused as documents; lists read from bytes as from files."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from accord.ingest.extract import DocumentError, read_document
from accord.ingest.extract.report import (
    ReportOptions,
    read_report,
    report_bundle,
    report_objects,
    review_text,
)
from accord.ingest.extract.text import binary_kind
from accord.ingest.ioc_list_formats import read_list, read_list_data

NOTE = """\
INDICATORS:
- hxxps://gloverstech[.]com/tJWz9/0.526635390798647.dat
- 158.220.80[.]167
- documentation address 192.0.2.44 (not an indicator)
- CVE-2021-44228
"""


def test_the_steps_give_what_report_bundle_gives() -> None:
    review, objects = report_bundle(NOTE, "note.txt")
    source, document = read_report(NOTE, "note.txt")
    again = review_text(document.text, source)
    assert (again.report_id, again.sha256, again.size) == (
        review.report_id,
        review.sha256,
        review.size,
    )
    assert [f.value for f in again.included] == [f.value for f in review.included]
    made = report_objects(again)
    assert [o["id"] for o in made] == [o["id"] for o in objects]


def test_keep_takes_only_values_the_text_holds() -> None:
    source, document = read_report(NOTE, "note.txt")
    keep = {
        ("ipv4", "192.0.2.44"),  # flagged: kept because a person ticked it
        ("ipv4", "158.220.80.167"),
        ("ipv4", "9.9.9.9"),  # not in the text: ignored
        ("cve", "CVE-2021-44228"),  # in the text, but no indicator
    }
    options = ReportOptions(keep=keep)
    review = review_text(document.text, source, options)
    assert {(f.kind, f.value) for f in review.included} == {
        ("ipv4", "192.0.2.44"),
        ("ipv4", "158.220.80.167"),
    }
    report, *indicators = report_objects(review, options)
    assert sorted(i["name"] for i in indicators) == ["158.220.80.167", "192.0.2.44"]
    assert report["object_refs"] == [i["id"] for i in indicators]
    assert "chosen in review" in report["description"]
    flagged = next(i for i in indicators if i["name"] == "192.0.2.44")
    assert flagged["indicator_types"] == ["anomalous-activity"] and flagged["x_accord_flags"]
    assert review_text(document.text, source, ReportOptions(keep=())).included == []


def test_binary_data_is_not_a_document() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as made:
        made.writestr("word/document.xml", "<w:document/>")
    cases = {
        "a.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "a.docx": archive.getvalue(),
        "a.exe": b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200),
        "a.txt": os.urandom(4096),
    }
    for name, data in cases.items():
        assert binary_kind(data) is not None, name
        with pytest.raises(DocumentError, match="not a text document"):
            read_document(data, name)
    text = "C2 at 1.2.3[.]4, MZ header notes\n"
    for data in (text.encode(), text.encode("utf-16"), text.encode("utf-16-le"), b"MZ is fine"):
        assert binary_kind(data) is None
    assert "1.2.3" in read_document(text.encode("utf-16-le"), "x.txt").text


def test_lists_read_from_bytes_as_from_files(tmp_path: Path) -> None:
    lists = {
        "iocs.csv": "value,comment\n45.77.120.9,C2\nnot a value,x\nevil-shop[.]net,phish\n",
        "trail.txt": "# Reference: https://example.org/x\nevil-shop[.]net\n1.2.3.4:8080\nnope\n",
    }
    for name, text in lists.items():
        path = tmp_path / name
        path.write_text(text)
        from_file = list(read_list(path))
        from_bytes = list(read_list_data(text.encode(), name))
        assert from_bytes == from_file and from_file, name
