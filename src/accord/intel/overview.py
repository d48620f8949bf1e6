"""The node at a glance, as one member may see it (the portal's dashboard): objects by type
and TLP level, objects added and sightings per day, the values most objects share, the
organisation's own most looked-up values, and how its feeds are pulled.

Every number comes from a store query that applies the visibility rule to what it counts
(`accord.store.overview`, `accord.store.sightings`), so nothing here counts a hidden
object. The looked-up values are the viewer organisation's own audit entries only. Showing
shared values shows content of the objects that hold them: the AMBER-and-above ones are
recorded as read (`accord.intel.read_audit`), as the API records the objects it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from accord.intel.read_audit import audit_reads
from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.correlation.exclusion import Exclude
from accord.store.feeds import FeedStatus
from accord.store.node import Store
from accord.store.overview import (
    ObjectCounts,
    SharedValue,
    aggregating,
    holders_at_least,
    object_counts,
    shared_values,
)
from accord.store.sightings import sightings_per_day

WINDOW_DAYS: Final = 90  # days of the charts, today included
LOOKUP_DAYS: Final = 30  # days of look-ups counted for the most looked-up values
TOP: Final = 10  # values listed (shared, looked up)
AUDITED_HOLDERS: Final = 1000  # objects recorded as read behind the shared values listed


@dataclass(frozen=True, slots=True)
class Overview:
    counts: ObjectCounts
    days: list[str]  # UTC days, oldest first, WINDOW_DAYS of them
    added: list[int]  # objects, by the day their latest version was added
    seen: list[int]  # sightings ("seen"), per day
    shared: list[SharedValue]
    looked_up: list[tuple[str, int]]  # value, times
    feeds: list[FeedStatus]
    now: str  # when it was made, as a stored timestamp (a feed is due by then or not)

    def chart(self) -> dict[str, object]:
        """The charts' data, for the page's script (a JSON block: CSP allows no inline
        code)."""
        return {"days": self.days, "added": self.added, "seen": self.seen}

    def active_days(self) -> list[tuple[str, int, int]]:
        """The days with anything added or sighted, newest first: the charts as a table."""
        rows = zip(self.days, self.added, self.seen, strict=True)
        return [row for row in reversed(list(rows)) if row[1] or row[2]]


def day_range(first: date, last: date) -> list[str]:
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def dense(found: Mapping[str, int], days: list[str]) -> list[int]:
    """The counts of ``days`` in order, 0 for a day without any."""
    return [found.get(day, 0) for day in days]


def start_of(day: date) -> str:
    """The first instant of a UTC day as a stored timestamp."""
    return f"{day.isoformat()}T00:00:00.000000Z"


def overview(
    store: Store,
    viewer: Viewer,
    user_id: str | None,
    every_feed: bool,
    exclude: Exclude | None = None,
    today: date | None = None,
) -> Overview:
    """The dashboard of ``viewer``; ``every_feed``: the node's feeds (for its admin), else
    only those of the viewer's organisation."""
    moment = datetime.now(UTC)
    today = today or moment.date()
    first = today - timedelta(days=WINDOW_DAYS - 1)
    since = start_of(first)
    days = day_range(first, today)
    with aggregating(store.engine) as conn:
        counts = object_counts(conn, viewer, since)
        seen = sightings_per_day(conn, viewer, since)
        shared = shared_values(conn, viewer, TOP, exclude)
        shown = holders_at_least(conn, viewer, shared, Tlp.AMBER, AUDITED_HOLDERS)
    audit_reads(store, viewer, user_id, shown, via="portal dashboard")
    looked_up: list[tuple[str, int]] = []
    if viewer.org_id is not None:
        looked_up = store.audit.most_looked_up(
            viewer.org_id, start_of(today - timedelta(days=LOOKUP_DAYS - 1)), TOP
        )
    feeds = store.feeds.statuses(None if every_feed else viewer.org_id)
    return Overview(
        counts,
        days,
        dense(counts.added, days),
        dense(seen, days),
        shared,
        looked_up,
        feeds,
        moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )
