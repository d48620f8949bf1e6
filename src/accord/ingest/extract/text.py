"""Documents to text: plain text, Markdown and AsciiDoc as they are, HTML through an HTML5
parser (selectolax), PDF through pypdf. Pure functions of bytes; the caller reads files.

Text is what the scanner sees and what offsets point into. Block elements and table cells
become line breaks and tabs, so that two cells never run together into one value.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from typing import Final

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from selectolax.lexbor import LexborHTMLParser

FORMATS: Final = ("text", "markdown", "asciidoc", "html", "pdf")
_SUFFIX_FORMAT: Final[dict[str, str]] = {
    ".txt": "text",
    ".text": "text",
    ".log": "text",
    ".csv": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".adoc": "asciidoc",
    ".asciidoc": "asciidoc",
    ".asc": "asciidoc",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
}


class DocumentError(ValueError):
    """A document that cannot be read as text; the message says why."""


@dataclass(frozen=True, slots=True)
class Document:
    """A document's text and what it was."""

    name: str
    format: str
    text: str


def guess_format(name: str, data: bytes) -> str:
    """The format of a document, by its content first (a PDF or HTML header), then its name."""
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF-"):
        return "pdf"
    lowered = head[:200].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        return "html"
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return _SUFFIX_FORMAT.get(suffix, "text")


def read_document(data: bytes, name: str, format: str | None = None) -> Document:
    """The text of document `data` (named `name`, for the format and for messages).

    A `DocumentError` for a PDF that cannot be read, and for binary data given as text (an
    image, an archive, a Word file, a program): scanning its bytes as text would find
    nothing but noise, and say nothing of why."""
    kind = format or guess_format(name, data)
    if kind == "pdf":
        return Document(name, kind, pdf_text(data, name))
    binary = binary_kind(data)
    if binary is not None:
        raise DocumentError(
            f"{name}: not a text document but {binary}: give a PDF, HTML, Markdown, "
            "AsciiDoc or text file"
        )
    text = decode(data)
    if kind == "html":
        text = html_text(text)
    return Document(name, kind, text)


# The first bytes of binary formats people upload by mistake.
_MAGIC: Final = (
    (b"PK\x03\x04", "a ZIP archive (Word, Excel and OpenDocument files are ZIP archives)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (.doc, .xls)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "an ELF program"),
)
# Control characters that text holds (tab, line feed, form feed, carriage return; NUL is
# dropped by `decode`, for UTF-16 without its byte order mark).
_TEXT_CONTROLS: Final = frozenset(b"\t\n\x0b\x0c\r\x00\x1b")
BINARY_SHARE: Final = 0.05
"""Above this share of other control bytes in its first 8 KiB, data is not text: random
bytes hold about 9%, text none."""


def binary_kind(data: bytes) -> str | None:
    """What `data` is when it is not text ("a PNG image", "binary data"), else None."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data.startswith(b"MZ") and b"\x00" in data[2:64]:  # a DOS header, not a word
        return "a Windows program"
    head = data[:8192]
    controls = sum(1 for byte in head if byte < 32 and byte not in _TEXT_CONTROLS)
    return "binary data" if head and controls > BINARY_SHARE * len(head) else None


def decode(data: bytes) -> str:
    """Bytes to text: a BOM if there is one, else UTF-8, else Windows-1252 (what reports
    that are not UTF-8 are, in practice); NUL bytes dropped."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[3:].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    return text.replace("\x00", "") if "\x00" in text else text


# Before these tags a line break (or a tab, between cells) keeps neighbouring blocks apart.
_BLOCK_BREAK: Final = re.compile(
    r"<(?:br|hr|/?p|/?div|/?li|/?tr|/?h[1-6]|/?pre|/?table|/?blockquote|/?dt|/?dd|/?section"
    r"|/?article|/?header|/?footer|/?ul|/?ol|/?code(?=[^>]*\bclass=)|/?figure)\b",
    re.IGNORECASE,
)
_CELL_BREAK: Final = re.compile(r"<(?:/td|/th)\b", re.IGNORECASE)
_BLANK_LINES: Final = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def html_text(markup: str) -> str:
    """The visible text of an HTML page: no scripts or styles, blocks on their own lines."""
    markup = _CELL_BREAK.sub(lambda m: "\t" + m.group(0), markup)
    markup = _BLOCK_BREAK.sub(lambda m: "\n" + m.group(0), markup)
    tree = LexborHTMLParser(markup)
    tree.strip_tags(["script", "style", "noscript", "template", "svg", "head"])
    root = tree.body or tree.root
    if root is None:
        return ""
    text = root.text(separator="", deep=True)
    return _BLANK_LINES.sub("\n\n", text)


# A hex run cut by a line break inside a PDF table cell: both halves hex, no space.
_SPLIT_HEX: Final = re.compile(
    r"(?<![0-9A-Fa-f])([0-9A-Fa-f]{8,127})[ \t]*\n[ \t]*([0-9A-Fa-f]{1,120})(?![0-9A-Za-z])"
)
_HASH_LENGTHS: Final = frozenset({32, 40, 64, 128})
# A URL or defanged host cut after a character a value cannot end with.
_SPLIT_URL: Final = re.compile(
    r"((?:h[xt]{2}ps?|https?|fxp|ftp)\S*?[/.\-_?=&%\]\[])\n(?=[\w/%\[\]().?=&-]+(?:\s|$))",
    re.IGNORECASE,
)


def rejoin_pdf_lines(text: str) -> str:
    """Mend values that a PDF's layout broke over two lines, where it is safe: a hex run
    whose halves make exactly one hash length when the second half alone is no hash, and a
    URL broken after a character it cannot end with."""

    def join_hex(match: re.Match[str]) -> str:
        first, second = match.group(1), match.group(2)
        if len(second) in _HASH_LENGTHS or len(first) + len(second) not in _HASH_LENGTHS:
            return match.group(0)
        return first + second

    text = _SPLIT_HEX.sub(join_hex, text)
    return _SPLIT_URL.sub(r"\1", text)


def pdf_text(data: bytes, name: str = "document") -> str:
    """The text of a PDF, page by page (a form feed between pages), values mended."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception as exc:  # pypdf raises several kinds here
                raise DocumentError(f"{name}: the PDF is encrypted ({exc})") from None
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"{name}: not a readable PDF ({exc})") from None
    except Exception as exc:  # a damaged PDF makes pypdf raise many other kinds
        raise DocumentError(f"{name}: not a readable PDF ({type(exc).__name__})") from None
    return rejoin_pdf_lines("\n\f\n".join(pages))
