"""Scheduled pulls: the feeds whose interval has passed, each claimed, pulled and audited.

The node's background worker (`accord.jobs`, docs/jobs.md) runs `pull_due_feeds` every
``ACCORD_FEED_POLL_SECONDS`` (default 30; 0 turns it off). A claim is a lease written in the
database (``Feeds.claim_due``), so that of several workers or nodes over one database, one
pulls a feed at a time.
"""

from __future__ import annotations

import logging

from accord.federation.feed_pull import pull
from accord.settings import Settings
from accord.store.audit import Event
from accord.store.node import Store
from accord.store.organisations import NotFound

log = logging.getLogger("accord.federation.feed_scheduler")


def pull_due_feeds(store: Store, settings: Settings) -> int:
    """Pull every due feed once, each audited as a write by the feed's user; answers how many
    were pulled. A feed's error is its report's (kept on the feed), not an exception: one
    broken peer does not stop the others."""
    due = store.feeds.claim_due()
    for feed in due:
        report = pull(store, feed, settings.default_tlp)
        if report.error:
            log.warning("feed %s: %s", feed.name, report.error)
        try:
            org_id: str | None = store.directory.user_by_id(feed.as_user).org_id
        except NotFound:
            org_id = None
        store.audit.append(  # a write like any other: who, what, how many
            Event(
                action="write",
                user_id=feed.as_user,
                org_id=org_id,
                target=feed.id,
                detail={
                    "via": "scheduled feed pull",
                    "feed": feed.name,
                    "received": report.received,
                    "stored": report.stored,
                    "duplicates": report.duplicates,
                    "rejected": report.rejected,
                    "error": report.error,
                },
            )
        )
    return len(due)
