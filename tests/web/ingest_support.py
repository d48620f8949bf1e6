"""Reading the ingest pages in tests: the review table's rows and keep boxes, the state the
review form carries, and posting a review back as a browser would."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from portal_support import Browsing

_ROW = re.compile(r"<tr(?: class=\"flagged\")?>\s*<td>(.*?)</tr>", re.S)
_KEEP = re.compile(r'name="keep" value="([^"]*)"( checked)?( data-flagged)?')
_STATE = re.compile(r'name="state" value="([^"]*)"')
_NAME = re.compile(r'id="report-name" name="name" value="([^"]*)"')


@dataclass
class Row:
    key: str  # "type:value"
    checked: bool
    flagged: bool
    html: str

    @property
    def kind(self) -> str:
        return self.key.partition(":")[0]

    @property
    def value(self) -> str:
        return self.key.partition(":")[2]


def review_rows(page: str) -> dict[str, Row]:
    """The review table's rows that have a keep box, by "type:value"."""
    rows: dict[str, Row] = {}
    for match in _ROW.finditer(page):
        keep = _KEEP.search(match.group(1))
        if keep is None:
            continue
        key = html.unescape(keep.group(1))
        rows[key] = Row(key, bool(keep.group(2)), bool(keep.group(3)), match.group(1))
    return rows


def review_state(page: str) -> str:
    found = _STATE.search(page)
    assert found is not None, "the review page has no state field"
    return html.unescape(found.group(1))


def store_form(
    page: str,
    keep: list[str],
    tlp: str = "amber",
    recipients: list[str] | None = None,
    name: str | None = None,
    other: str = "",
) -> list[tuple[str, str]]:
    """The fields a browser posts from the review form (with the boxes ``keep`` ticked)."""
    found = _NAME.search(page)
    fields: list[tuple[str, str]] = [
        ("state", review_state(page)),
        ("name", name if name is not None else html.unescape(found.group(1) if found else "")),
        ("tlp", tlp),
        ("recipients_other", other),
    ]
    fields += [("recipient", recipient) for recipient in recipients or []]
    fields += [("keep", key) for key in keep]
    return fields


def post_fields(who: Browsing, path: str, fields: list[tuple[str, str]], **kwargs: Any) -> Any:
    """A urlencoded form with repeated fields (the CSRF token first)."""
    data: dict[str, list[str]] = {"csrf": [who.csrf]}
    for key, value in fields:
        data.setdefault(key, []).append(value)
    return who.http.post(path, data=data, **kwargs)  # type: ignore[arg-type]


def upload(who: Browsing, path: str, name: str, data: bytes, **fields: str) -> Any:
    """A multipart form with one file, as the ingest page's forms post it."""
    return who.http.post(
        path,
        data={"csrf": who.csrf, **fields},
        files={"file": (name, data, "application/octet-stream")},
    )
