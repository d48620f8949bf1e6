"""Pulling a feed: the objects a remote TAXII 2.1 collection added since the feed's cursor,
page by page (following ``next``, TAXII 2.1 section 3.4), stored under the feed's user with
provenance, with the cursor moved only past what is stored.

Resuming exactly: the cursor moves as `accord.federation.page_walk` says, after each page
is stored. An interrupted pull (a crash, a kill, a lost connection) restarts from it: it may
fetch the last page's objects again, which the store recognises as duplicates, and it cannot
skip any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from accord.federation.page_walk import resumable_pages
from accord.federation.taxii_client import Page, TaxiiClient, TaxiiClientError
from accord.ingest.stix import Ingester, IngestOptions, IngestReport
from accord.ingest.version_keys import version_key
from accord.model.tlp import Tlp
from accord.model.visibility import Recipients
from accord.store.feeds import Feed
from accord.store.node import Store

PAGE_SIZE = 1000


@dataclass(slots=True)
class PullReport:
    feed: str
    pages: int = 0
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    cursor: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def client_for(feed: Feed, ca_file: str | None = None) -> TaxiiClient:
    """A client for the feed's server. ``ca_file``: the CAs that may vouch for its TLS
    certificate (None: the system's trust store). A feed does not store one (the feeds table
    has no column for it yet): ``accord feed pull --ca-file`` gives it per pull."""
    assert feed.url is not None
    if feed.username is None:
        return TaxiiClient(feed.url, key=feed.secret, ca_file=ca_file)
    return TaxiiClient(feed.url, username=feed.username, password=feed.secret, ca_file=ca_file)


def store_page(
    store: Store, feed: Feed, ingester: Ingester, options: IngestOptions, page: Page
) -> IngestReport:
    """Store one page's objects (STIX 2.0 ones upgraded) and record their provenance."""
    newer = [o for o in page.objects if "spec_version" in o]
    older = [o for o in page.objects if "spec_version" not in o]
    source = f"feed {feed.name}"
    report = ingester.ingest_objects(newer, "2.1", source, options)
    if older:
        report.objects.extend(ingester.ingest_objects(older, "2.0", source, options).objects)
    kept = {r.id for r in report.objects if r.status in ("stored", "duplicate") and r.id}
    keys = [
        key
        for obj in page.objects
        if obj.get("id") in kept
        and (key := version_key(obj.get("id"), obj.get("modified"), obj.get("created")))
    ]
    store.feeds.record(feed.id, keys)
    return report


def pull(
    store: Store,
    feed: Feed,
    default_tlp: Tlp,
    page_size: int = PAGE_SIZE,
    progress: Callable[[int], None] | None = None,
    on_page: Callable[[PullReport], None] | None = None,
    client: TaxiiClient | None = None,
) -> PullReport:
    """Pull what the feed's collection added since its cursor. ``on_page`` is called after
    each page is stored and before the cursor moves (where an interruption costs most)."""
    if feed.kind != "taxii" or feed.url is None or feed.collection is None:
        raise ValueError(f"feed {feed.name!r} is not a TAXII feed; nothing to pull")
    report = PullReport(feed.name, cursor=feed.cursor)
    user = store.directory.user_by_id(feed.as_user)
    ingester = Ingester(store, user, default_tlp)
    recipients = Recipients(frozenset(feed.org_ids), frozenset(feed.group_ids))
    options = IngestOptions(tlp=feed.tlp, recipients=recipients, partial=True)
    owned = client is None
    remote = client or client_for(feed)
    try:
        pages = resumable_pages(
            remote,
            feed.collection,
            feed.cursor,
            page_size,
            {"version": "all", "spec_version": "2.0,2.1"},
        )
        for page, moved in pages:
            outcome = store_page(store, feed, ingester, options, page)
            report.pages += 1
            report.received += len(page.objects)
            report.stored += outcome.count("stored")
            report.duplicates += outcome.count("duplicate")
            report.rejected += outcome.count("rejected")
            if progress is not None:
                progress(len(page.objects))
            if on_page is not None:
                on_page(report)
            if moved is not None:
                report.cursor = moved
                store.feeds.set_cursor(feed.id, moved)
    except TaxiiClientError as exc:
        report.error = str(exc)
    except BaseException as exc:
        report.error = f"interrupted: {exc!r}"
        raise
    finally:
        if owned:
            remote.close()
        store.feeds.finish(feed.id, report.error)
    return report
