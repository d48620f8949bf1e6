"""What the portal's look-up card shows beside an answer: the sightings of the value per day,
and the reporting organisations the reader may know by name.

Both are read for the objects that answered the look-up (its reasons, which the reader may
see) and through the visibility rule: the sightings the reader may count
(`accord.store.sightings.sightings_per_day`, the rule of the answer's own sighting count),
and only the organisations that something the reader may read names
(`accord.store.reporters`): never the reporter of an anonymous sighting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from accord.intel.overview import day_range, dense
from accord.model.visibility import Viewer
from accord.store.node import Store
from accord.store.reporters import Reporter, named_reporters
from accord.store.sightings import sightings_per_day

SHORTEST_DAYS: Final = 90  # the chart shows at least the last 90 days
LONGEST_DAYS: Final = 730  # and at most two years, from the first sighting


@dataclass(frozen=True, slots=True)
class ValueHistory:
    days: list[str]  # UTC days, oldest first (empty: no sighting)
    seen: list[int]  # per day
    reporters: list[Reporter]

    def chart(self) -> dict[str, object]:
        return {"days": self.days, "seen": self.seen}

    def active_days(self) -> list[tuple[str, int]]:
        """The days with sightings, newest first: the chart as a table."""
        return [(day, n) for day, n in reversed(list(zip(self.days, self.seen, strict=True))) if n]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def value_history(
    store: Store, viewer: Viewer, ids: list[str], today: date | None = None
) -> ValueHistory:
    """``ids``: the objects that answered the look-up (its reasons)."""
    if not ids:
        return ValueHistory([], [], [])
    today = today or datetime.now(UTC).date()
    with store.engine.connect() as conn:
        found = sightings_per_day(conn, viewer, ids=ids)
        reporters = named_reporters(conn, viewer, ids)
    known = [day for day in map(_day, found) if day is not None and day <= today]
    if not known:
        return ValueHistory([], [], reporters)
    first = max(
        min(min(known), today - timedelta(days=SHORTEST_DAYS - 1)),
        today - timedelta(days=LONGEST_DAYS - 1),
    )
    days = day_range(first, today)
    return ValueHistory(days, dense(found, days), reporters)
