"""Scheduled pulls in the server: a background task that, every few seconds, claims the
feeds whose interval has passed and pulls each in a worker thread.

A claim is a lease written in the database (``Feeds.claim_due``), so that of several server
workers (``accord serve --workers N``) or nodes over one PostgreSQL, one pulls a feed at a
time. ``ACCORD_FEED_POLL_SECONDS`` (default 30; 0 turns the scheduler off) sets how often
it looks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from accord.federation.feed_pull import pull
from accord.settings import Settings
from accord.store.audit import Event
from accord.store.node import Store
from accord.store.organisations import NotFound

log = logging.getLogger("accord.federation.feed_scheduler")


class FeedScheduler:
    def __init__(self, store: Store, settings: Settings, poll_seconds: float | None = None):
        self.store = store
        self.settings = settings
        if poll_seconds is None:
            poll_seconds = float(os.environ.get("ACCORD_FEED_POLL_SECONDS", "30"))
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> FeedScheduler:
        if self.poll_seconds > 0:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await asyncio.to_thread(self.run_due)
            except Exception:  # a broken feed or database must not stop the scheduler
                log.exception("scheduled feed pulls failed")

    def run_due(self) -> int:
        """Pull every due feed once; answers how many were pulled."""
        due = self.store.feeds.claim_due()
        for feed in due:
            report = pull(self.store, feed, self.settings.default_tlp)
            if report.error:
                log.warning("feed %s: %s", feed.name, report.error)
            try:
                org_id: str | None = self.store.directory.user_by_id(feed.as_user).org_id
            except NotFound:
                org_id = None
            self.store.audit.append(  # a write like any other: who, what, how many
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
