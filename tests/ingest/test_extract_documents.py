"""Documents to text: HTML, PDF (made here with fpdf2), Markdown, AsciiDoc, encodings; and
every real report under ../shared/data/reports/ extracts without an error."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from accord.ingest.extract import DocumentError, read_document, scan
from accord.ingest.extract.text import guess_format, rejoin_pdf_lines

SHA256 = "3cb8174becb3c89318ed01ccd76e71cbeb8bc9e0fcbce8e110d40cd71af20fa2"


def make_pdf(lines: list[str]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def found(document_text: str) -> set[tuple[str, str]]:
    return {(f.kind, f.value) for f in scan(document_text)}


def test_html_cells_and_blocks_stay_apart() -> None:
    page = (
        "<html><head><style>a{}</style><script>var x='1.1.1.1'</script></head><body>"
        "<p>C2: <code>hxxp://evil[.]com/gate.php</code></p>"
        "<table><tr><td>5.6.7[.]8</td><td>evil2[.]net</td></tr></table>"
        "<div>sha256</div><div>" + SHA256 + "</div></body></html>"
    )
    document = read_document(page.encode(), "post.html")
    assert document.format == "html"
    values = found(document.text)
    assert ("url", "http://evil.com/gate.php") in values
    assert ("ipv4", "5.6.7.8") in values and ("domain", "evil2.net") in values
    assert ("sha256", SHA256) in values
    assert ("ipv4", "1.1.1.1") not in values  # scripts are not text


def test_pdf_text_and_a_hash_split_over_two_lines() -> None:
    data = make_pdf(
        ["Indicators", "hxxps://evil[.]com/payload.bin", "9.8.7[.]6", SHA256[:40], SHA256[40:]]
    )
    document = read_document(data, "report.pdf")
    assert document.format == "pdf"
    values = found(document.text)
    assert ("url", "https://evil.com/payload.bin") in values
    assert ("ipv4", "9.8.7.6") in values
    assert ("sha256", SHA256) in values


def test_rejoin_is_safe() -> None:
    two_hashes = SHA256 + "\n" + SHA256
    assert rejoin_pdf_lines(two_hashes) == two_hashes  # whole hashes are never glued
    assert rejoin_pdf_lines("hxxps://evil[.]com/a/\nb.php x") == "hxxps://evil[.]com/a/b.php x"


def test_broken_pdf_is_a_clear_error() -> None:
    with pytest.raises(DocumentError, match=r"bad\.pdf"):
        read_document(b"%PDF-1.4 nothing else", "bad.pdf")


def test_markdown_and_asciidoc() -> None:
    markdown = "## C2\n```\nbad-shop[.]net\n```\n* `hxxp://a.evil[.]com/x`\n[ref](https://vendor.example/x)"
    values = found(read_document(markdown.encode(), "README.md").text)
    assert ("domain", "bad-shop.net") in values and ("url", "http://a.evil.com/x") in values
    adoc = "|`++https://cuturl[.]app/sot2qq++`\n|`B623F4A6CD5947CA0016D3E33A07EB72E8C176BA`|x.exe"
    values = found(read_document(adoc.encode(), "README.adoc").text)
    assert ("url", "https://cuturl.app/sot2qq") in values
    assert ("sha1", "b623f4a6cd5947ca0016d3e33a07eb72e8c176ba") in values


def test_encodings() -> None:
    assert read_document("évil 1.2.3[.]4".encode("cp1252"), "x.txt").text.startswith("évil")
    assert "1.2.3" in read_document("1.2.3[.]4".encode("utf-16"), "x.txt").text
    assert guess_format("x.bin", b"%PDF-1.7") == "pdf"


def test_every_shared_report_extracts(shared_data: Path) -> None:
    files = [p for p in (shared_data / "reports").rglob("*") if p.is_file()]
    assert len(files) > 400
    total = 0
    for path in files:
        document = read_document(path.read_bytes(), path.name)
        total += len(scan(document.text))
    assert total > 10_000
