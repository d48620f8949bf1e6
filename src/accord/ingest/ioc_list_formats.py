"""Reading IOC lists line by line: plain lists, LOKI ``value;comment`` files, maltrail trails
and CSV files, into typed observables with their comments and references.

Every value goes through the project's detector and normaliser (`accord.model.observables`),
so a list's values meet the observable index exactly. A line that holds no observable is
reported with its number and the reading goes on. Files are read as streams: memory does not
grow with the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from accord.model.observables import (
    KINDS,
    Observable,
    ObservableError,
    detect,
    hash_kind,
    normalise,
    refang,
)
from accord.model.wording import with_article

KIND_CHOICES: Final = ("auto", "ip", "domain", "url", "email", "hash", *sorted(KINDS))
NOT_AN_OBSERVABLE: Final = "not an IP address, network, domain, URL, e-mail address or hash"


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One value of a list, typed and normalised."""

    line: int
    observable: Observable
    port: int | None = None
    """For maltrail's ``ip:port`` entries."""
    description: str | None = None
    references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BadLine:
    line: int
    text: str
    reason: str

    def describe(self) -> str:
        return f"line {self.line}: {self.reason}: {self.text[:120]!r}"


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """``--columns value=1,comment=3``: 1-based columns; "value" and "comment" may repeat."""

    value: tuple[int, ...]
    comment: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> ColumnMap:
        values: list[int] = []
        comments: list[int] = []
        for part in text.split(","):
            name, equals, number = part.strip().partition("=")
            if not equals or not number.strip().isdigit() or int(number) < 1:
                raise ValueError(f"--columns: expected NAME=N (N from 1), got {part.strip()!r}")
            target = {"value": values, "comment": comments}.get(name.strip().lower())
            if target is None:
                raise ValueError(
                    f"--columns: unknown column name {name.strip()!r}: use value, comment"
                )
            target.append(int(number) - 1)
        if not values:
            raise ValueError("--columns: name the value column, e.g. value=1")
        return cls(tuple(values), tuple(comments))


def typed(raw: str, kind: str = "auto") -> Observable | None:
    """`raw` (defanged or not) as an observable of `kind` ("auto": whatever the detector says;
    "ip" and "hash" take any address or hash kind); None when it is not one."""
    text = refang(raw)
    if kind == "auto":
        return detect(text)
    try:
        if kind == "ip":
            return normalise("ipv6" if ":" in text else "ipv4", text)
        if kind == "hash":
            found = hash_kind(text)
            return normalise(found, text) if found else None
        return normalise(kind, text)
    except ObservableError:
        return None


_IP_PORT: Final = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})")
_REFERENCE: Final = re.compile(r"#+\s*Reference:\s*(\S+)", re.IGNORECASE)
_INLINE_COMMENT: Final = re.compile(r"\s+#+\s*")
_HEADER_NOTICE: Final = re.compile(r"copyright|licen[cs]e|see the file", re.IGNORECASE)


def read_text(path: Path, kind: str = "auto") -> Iterator[ListEntry | BadLine]:
    """A plain, LOKI or maltrail list file (`text_entries`)."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        yield from text_entries(handle, kind)


def text_entries(lines: Iterable[str], kind: str = "auto") -> Iterator[ListEntry | BadLine]:
    """A plain, LOKI or maltrail list: one value a line; ``#`` comments. A block of
    ``# Reference: URL`` lines (maltrail) and other comments describes the values below it,
    up to the next block; ``value;comment`` (LOKI) and ``value # comment`` carry their own."""
    references: list[str] = []
    notes: list[str] = []
    seen_values = False  # since the current block of comments began
    any_values = False
    for number, raw_line in enumerate(lines, 1):
        line = raw_line.strip()
        if not line:
            # A paragraph of comments that no value follows directly (a file's header, a
            # note about the list) describes nothing; references stay until their values.
            if not seen_values and not references:
                notes = []
            continue
        if line.startswith(("#", "//")):
            if not any_values and _HEADER_NOTICE.search(line):
                continue
            if seen_values:
                references, notes, seen_values = [], [], False
            reference = _REFERENCE.match(line)
            if reference:
                references.append(reference.group(1))
            else:
                note = line.lstrip("#/ ").strip()
                if note and not set(note) <= set("#=-*"):
                    notes.append(note)
            continue
        seen_values = any_values = True
        yield _text_entry(number, line, kind, references, notes)


def _text_entry(
    number: int, line: str, kind: str, references: list[str], notes: list[str]
) -> ListEntry | BadLine:
    value, comment = line, None
    inline = _INLINE_COMMENT.search(value)
    if inline:
        value, comment = value[: inline.start()].strip(), value[inline.end() :]
    if ";" in value:
        left, _, right = value.partition(";")
        if typed(left, kind) is not None:  # LOKI: value;comment
            value, comment = left, right
    port = None
    found = _IP_PORT.fullmatch(value)
    if found and int(found.group(2)) <= 65535:
        value, port = found.group(1), int(found.group(2))
    observable = typed(value, kind)
    if observable is None:
        reason = NOT_AN_OBSERVABLE if kind == "auto" else f"not {with_article(kind)} value"
        if value.startswith("/"):
            reason = "a URL path without a host (Accord indexes whole URLs)"
        return BadLine(number, line, reason)
    parts = [*notes, comment.strip()] if comment and comment.strip() else notes
    return ListEntry(
        number,
        observable,
        port,
        "; ".join(parts) or None,
        tuple(references),
    )


# Header words that name a column of indicator values.
_VALUE_WORDS: Final = frozenset(
    """value indicator ioc observable ip ipv4 ipv6 address domain fqdn hostname host url uri
    md5 sha1 sha256 sha512 hash email target""".split()  # noqa: SIM905
)


def _words(header: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", header.lower()))


def read_csv(
    path: Path, kind: str = "auto", columns: ColumnMap | None = None
) -> Iterator[ListEntry | BadLine]:
    """CSV (or TSV, ``;``- or ``|``-separated): the delimiter is sniffed. Without a column map
    a first row with no observable in it is a header, and its names pick the value columns
    (IP, FQDN, SHA256, URL, ...); the other columns describe the values. With a map, the
    named columns do, and a first row whose value is no observable is a header."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        yield from csv_entries(handle, kind, columns)


def csv_entries(
    handle: TextIO, kind: str = "auto", columns: ColumnMap | None = None
) -> Iterator[ListEntry | BadLine]:
    """The entries of CSV text (`read_csv`); `handle` is opened with ``newline=""``."""
    sample = handle.read(65536)
    handle.seek(0)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(handle, dialect)
    header: list[str] | None = None
    value_columns: tuple[int, ...] | None = columns.value if columns else None
    first = True
    for row in reader:
        number = reader.line_num
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if first:
            first = False
            if _is_header(cells, kind, value_columns):
                header = cells
                if value_columns is None:
                    picked = [i for i, name in enumerate(cells) if _words(name) & _VALUE_WORDS]
                    value_columns = tuple(picked) or None
                continue
        yield from _csv_row(number, cells, kind, header, value_columns, columns)


def _is_header(cells: list[str], kind: str, value_columns: tuple[int, ...] | None) -> bool:
    wanted = value_columns if value_columns is not None else range(len(cells))
    return not any(typed(cells[i], kind) for i in wanted if i < len(cells) and cells[i])


def _csv_row(
    number: int,
    cells: list[str],
    kind: str,
    header: list[str] | None,
    value_columns: tuple[int, ...] | None,
    columns: ColumnMap | None,
) -> Iterator[ListEntry | BadLine]:
    wanted = value_columns if value_columns is not None else tuple(range(len(cells)))
    if columns is not None:
        described = [cells[i] for i in columns.comment if i < len(cells) and cells[i]]
    else:
        described = [
            f"{header[i] if header and i < len(header) else f'column {i + 1}'}: {cell}"
            for i, cell in enumerate(cells)
            if cell and i not in wanted
        ]
    description = "; ".join(described) or None
    found_any = False
    for column in wanted:
        cell = cells[column] if column < len(cells) else ""
        if not cell:
            continue
        observable = typed(cell, kind)
        if observable is None:
            if value_columns is None:
                continue  # no header: only the cells that are observables count
            name = header[column] if header and column < len(header) else f"column {column + 1}"
            yield BadLine(number, cell, f"{name}: {NOT_AN_OBSERVABLE}")
            continue
        found_any = True
        yield ListEntry(number, observable, None, description)
    if not found_any and value_columns is None:
        yield BadLine(number, ",".join(cells), NOT_AN_OBSERVABLE)


def looks_like_csv(path: Path) -> bool:
    if path.suffix.lower() in (".csv", ".tsv"):
        return True
    with path.open(encoding="utf-8", errors="replace") as handle:
        return _csv_like(path.name, handle.read(4096))


def _csv_like(name: str, head: str) -> bool:
    if Path(name).suffix.lower() in (".csv", ".tsv"):
        return True
    first = io.StringIO(head).readline()
    return first.count(",") >= 2 and not first.lstrip().startswith("#")


def _is_csv(kind: str, columns: ColumnMap | None, fmt: str, csv_like: Callable[[], bool]) -> bool:
    if kind not in KIND_CHOICES:
        raise ValueError(f"unknown --type {kind!r}: use one of {', '.join(KIND_CHOICES)}")
    if fmt == "csv" or (fmt == "auto" and (columns is not None or csv_like())):
        return True
    if fmt not in ("auto", "text"):
        raise ValueError(f"unknown list format {fmt!r}: use auto, text or csv")
    return False


def read_list(
    path: Path, kind: str = "auto", columns: ColumnMap | None = None, fmt: str = "auto"
) -> Iterator[ListEntry | BadLine]:
    """Entries and bad lines of a list file, in file order; `fmt` is "auto", "text" or "csv"."""
    if _is_csv(kind, columns, fmt, lambda: looks_like_csv(path)):
        return read_csv(path, kind, columns)
    return read_text(path, kind)


def read_list_data(
    data: bytes,
    name: str,
    kind: str = "auto",
    columns: ColumnMap | None = None,
    fmt: str = "auto",
) -> Iterator[ListEntry | BadLine]:
    """`read_list` for a list given as bytes (an upload) named `name`: UTF-8, a byte order
    mark dropped, bad bytes replaced."""
    text = data.decode("utf-8-sig", errors="replace")
    if _is_csv(kind, columns, fmt, lambda: _csv_like(name, text[:4096])):
        return csv_entries(io.StringIO(text, newline=""), kind, columns)
    return text_entries(io.StringIO(text), kind)
