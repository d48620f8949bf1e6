"""The STIX patterns of the stored indicators that the observable index does not answer in
full, compiled into pattern indexes in memory: what lets a look-up of `a.evil.example` find
`[domain-name:value LIKE '%.evil.example']`, and a match of observed-data find every
indicator whose pattern it may satisfy.

    patterns = IndicatorPatterns(store)          # one per store, shared by threads
    patterns.refresh(conn)                       # cheap when nothing changed
    seqs = patterns.matching(observation)        # versions whose pattern matches it alone
    seqs = patterns.candidates(observation)      # versions whose pattern it may help match

What it holds and why it may hold it:

- The listing it reads (`accord.store.pattern_indicators`) is every latest, unrevoked
  indicator without a `simple` row in the observable index, read WITHOUT the visibility
  rule. This is a prefilter only: it answers object versions (sequence numbers), never an
  object, and its callers read those versions through the rule
  (`ObservableIndex.search_many` with ``versions``, `ObservableIndex.visible_versions`) in
  the same statement as everything else they read, so a hidden indicator that the prefilter
  finds costs one index probe inside a query that runs anyway, and answers nothing.
- Keys are version sequence numbers, not ids: a version never changes, so an entry can
  only go stale (its object got a newer version, was revoked, or deleted), and a stale
  entry answers nothing because the read asks for the latest version. New versions are
  added incrementally; nothing is removed until the next rebuild.
- Segments: a `PatternIndex` is compiled once (its Hyperscan databases) and never added to
  afterwards. The versions stored since the last build go into a small new segment; when
  there are `MAX_SEGMENTS` of them, or `REBUILD_SECONDS` passed, or a version was deleted
  in this process, everything is rebuilt in a background thread while the old segments
  keep answering.
- Freshness: a write or delete in this process is seen at the next call (the store's
  in-process change counters, `UnindexedPatterns.changes`); another process's writes
  within `REFRESH_SECONDS` (the store's newest sequence number, asked at most that often).
- Threads: matching holds one lock (a Hyperscan database has one scratch space), per
  observation, so a bulk look-up lets a single one in between; building holds another.

A pattern that cannot be evaluated on an observation (`PatternEvaluationError`) simply does
not match: a look-up never says that a pattern, perhaps hidden, failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Final

import orjson
from sqlalchemy import Connection

from accord.match.patterns import PatternError, PatternEvaluationError, observations
from accord.match.patterns.index import PatternIndex
from accord.match.patterns.observations import Observation
from accord.model.patterns import fast_path_observables
from accord.store.node import Store
from accord.store.pattern_indicators import PAGE, UnindexedPattern, UnindexedPatterns

log = logging.getLogger(__name__)

REFRESH_SECONDS: Final = 1.0
"""How often the store is asked whether another process stored new versions."""
REBUILD_SECONDS: Final = 900.0
"""How often everything is rebuilt anyway: drops stale entries, and finds an older version
that became the latest again after another process deleted the newest."""
MAX_SEGMENTS: Final = 8
"""Segments of new versions kept beside the first before everything is rebuilt."""


def _pattern_of(row: UnindexedPattern) -> tuple[str, str] | None:
    """(pattern, STIX version of its grammar) of a listed indicator whose pattern is a STIX
    pattern that the observable index does not answer in full; None otherwise."""
    try:
        body = orjson.loads(row.raw)
    except orjson.JSONDecodeError:
        return None
    pattern = body.get("pattern") if isinstance(body, dict) else None
    if not isinstance(pattern, str) or body.get("pattern_type") != "stix":
        return None
    found = fast_path_observables(pattern)
    if found is not None and found.simple:
        return None  # only `=`: whatever of it a look-up can ask, the observable index has
    version = body.get("pattern_version")
    return pattern, "2.0" if isinstance(version, str) and version.startswith("2.0") else "2.1"


class _Segment:
    """A compiled pattern index over some listed versions; never changed once built."""

    __slots__ = ("index", "seqs")

    def __init__(self, rows: Sequence[UnindexedPattern]) -> None:
        self.index = PatternIndex()
        self.seqs: set[int] = set()
        for row in rows:
            found = _pattern_of(row)
            if found is None:
                continue
            pattern, version = found
            for grammar in (version, "2.0" if version == "2.1" else "2.1"):
                try:
                    self.index.add(row.seq, pattern, grammar)
                except PatternError:
                    continue
                self.seqs.add(row.seq)
                break
            else:
                log.debug("indicator %s: its pattern does not compile; not indexed", row.id)
        self.index.compile()


class IndicatorPatterns:
    """The pattern indexes of one store's indicators (the module's docstring says what they
    hold). Build one per store and share it: `accord.intel.lookup.service.LookupService`
    holds the node's."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self.listing = UnindexedPatterns(store.engine)
        self.clock = clock
        self._segments: tuple[_Segment, ...] = ()
        self._cursor = 0  # the newest sequence number read so far
        self._built = False
        self._changes: tuple[int, int] = (-1, -1)
        self._next_check = 0.0
        self._rebuild_at = 0.0
        self._rebuilding = False
        self._match_lock = threading.Lock()
        self._build_lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(segment.index) for segment in self._segments)

    # -- keeping it fresh -------------------------------------------------------------------

    def refresh(self, connection: Connection | None = None) -> None:
        """Take in what was stored since the last call: nothing to ask when this process
        wrote nothing and `REFRESH_SECONDS` have not passed; the first call builds (and
        other threads wait for it)."""
        now = self.clock()
        changes = self.listing.changes()
        if self._built and changes == self._changes and now < self._next_check:
            return
        if not self._build_lock.acquire(blocking=not self._built):
            return  # another thread is at it; the current segments answer meanwhile
        try:
            if not self._built:
                self._build(connection)
                return
            deleted = changes[1] != self._changes[1]
            self._changes, self._next_check = changes, now + REFRESH_SECONDS
            if deleted or now >= self._rebuild_at or len(self._segments) > MAX_SEGMENTS:
                self._rebuild_later()
                return
            newest = self.listing.newest_seq(connection)
            if newest <= self._cursor:
                return
            rows = self._read(self._cursor, connection)
            self._cursor = max(newest, rows[-1].seq if rows else 0)
            if rows:
                segment = _Segment(rows)
                if segment.seqs:
                    self._segments = (*self._segments, segment)
        finally:
            self._build_lock.release()

    def _read(self, after: int, connection: Connection | None) -> list[UnindexedPattern]:
        rows: list[UnindexedPattern] = []
        while True:
            page = self.listing.after_unfiltered(after, PAGE, connection)
            rows.extend(page)
            if len(page) < PAGE:
                return rows
            after = page[-1].seq

    def _build(self, connection: Connection | None) -> None:
        """Everything anew (under the build lock)."""
        changes = self.listing.changes()  # before reading: a change meanwhile is seen again
        newest = self.listing.newest_seq(connection)
        rows = self._read(0, connection)
        segment = _Segment(rows)
        self._segments = (segment,) if segment.seqs else ()
        self._cursor = max(newest, rows[-1].seq if rows else 0)
        self._changes = changes
        now = self.clock()
        self._next_check = now + REFRESH_SECONDS
        self._rebuild_at = now + REBUILD_SECONDS
        self._built = True

    def _rebuild_later(self) -> None:
        """Rebuild in a thread of its own; the current segments answer until it is done."""
        if self._rebuilding:
            return
        self._rebuilding = True

        def run() -> None:
            try:
                with self._build_lock:
                    self._build(None)
            except Exception:  # the next call tries again
                log.exception("rebuilding the indicator pattern index failed")
            finally:
                self._rebuilding = False

        threading.Thread(target=run, name="accord-pattern-index", daemon=True).start()

    def warm(self) -> None:
        """Build now, in a thread of its own (a server starting): the first look-up waits
        for it instead of building in its own thread."""
        if self._built:
            return
        threading.Thread(target=self._warm, name="accord-pattern-index", daemon=True).start()

    def _warm(self) -> None:
        try:
            self.refresh()
        except Exception:  # the first look-up tries again
            log.exception("building the indicator pattern index failed")

    def rebuild(self) -> None:
        """Everything anew, now, in this thread (tests, and `accord` commands)."""
        with self._build_lock:
            self._build(None)

    # -- asking it ---------------------------------------------------------------------------

    def matching(self, observation: Observation) -> list[int]:
        """Versions whose pattern matches ``observation`` judged on its own (a look-up's
        value); those that cannot be evaluated on it do not match."""
        found: list[int] = []
        errors: list[tuple[Hashable, PatternEvaluationError]] = []
        for segment in self._segments:
            with self._match_lock:
                keys = segment.index.match(observation, errors)
            found.extend(key for key in keys if isinstance(key, int))
        return found

    def candidates(self, observations: Sequence[Observation]) -> list[int]:
        """Versions whose pattern has a bracket that one of ``observations`` may satisfy:
        those to judge, on the whole list, by the engine."""
        found: set[int] = set()
        for segment in self._segments:
            for observation in observations:
                with self._match_lock:
                    keys = segment.index.candidate_keys(observation)
                found.update(key for key in keys if isinstance(key, int))
        return sorted(found)


observation_of = observations.of_value
"""A looked-up value as the engine reads it (`observations.of_value`)."""
