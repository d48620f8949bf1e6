"""Walking a TAXII 2.1 listing so that a walk cut at any point resumes exactly.

Pages come in ``date_added`` order (TAXII 2.1 section 3.3) and a walk starts ``added_after``
a cursor. Objects sharing one ``date_added`` may straddle a page boundary, so the cursor
trails by one distinct timestamp: once a page is stored, everything added at or before the
*previous* page's ``X-TAXII-Date-Added-Last`` is stored, as long as this page ends later;
the last page moves it to its own end. A walk restarted from the cursor may fetch the last
page's objects again, which the store recognises as duplicates, and cannot skip any. A
server's ``next`` token is not kept across walks: medallion's tokens are server-side state
that expires and advances as it is read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from accord.federation.taxii_client import Page, TaxiiClient
from accord.model.timestamps import timestamp_key


def _key(stamp: str | None) -> str | None:
    if stamp is None:
        return None
    try:
        return timestamp_key(stamp)
    except ValueError:
        return None


def resumable_pages(
    client: TaxiiClient,
    collection: str,
    cursor: str | None,
    page_size: int,
    match: Mapping[str, str | Sequence[str]],
) -> Iterator[tuple[Page, str | None]]:
    """Each page, with the cursor to store once the page is stored (None: it stays)."""
    previous: str | None = None  # the last page's X-TAXII-Date-Added-Last, as a key
    current = cursor
    for page in client.pages(collection, added_after=cursor, limit=page_size, match=match):
        moved: str | None = None
        last = _key(page.last_added)
        if last is not None:
            if previous is not None and last > previous and previous != current:
                moved = previous
            previous = max(previous or last, last)
        if not page.more and previous is not None and previous != (moved or current):
            moved = previous
        if moved is not None:
            current = moved
        yield page, moved
