"""The compiled matchers of the last few viewers who asked ``POST /api/v1/match``, in memory.

A viewer's matcher (`accord.intel.viewer_matcher`) is built through the visibility rule and
kept on disk (`accord.match.matcher_source`); loading it from there still costs most of a
second for a million indicators, too much per request. So the server keeps the last `KEPT`
in memory, keyed as the disk cache is (the store, the viewer's principals, the benign lists'
digest), each with the store's state it was made in (newest sequence number, count of latest
indicators). A request whose viewer's matcher is held and whose state has not moved uses it;
otherwise `matcher_for` refreshes or rebuilds it (through the disk cache), once for every
request waiting on that key.

Threads: a matcher's STIX pattern index has one Hyperscan scratch space, so one request at a
time matches with a given matcher (`Held.lock`); requests of other viewers go on meanwhile.
A matcher is never changed once held: a refresh makes a new one (`matcher_for` loads it
afresh from the disk), so a request still using the old one finishes with it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from accord.intel.benign import BenignLists
from accord.intel.viewer_matcher import benign_flags, viewer_matcher
from accord.intel.warninglists.index import default_cache_dir
from accord.match.matcher import Matcher
from accord.match.matcher_source import MatcherInfo, cache_path
from accord.model.visibility import Viewer
from accord.settings import Settings
from accord.store.node import Store

KEPT: Final = 4
"""Matchers held in memory (least recently used out first): a few sensors' organisations."""


@dataclass
class Held:
    """One viewer's matcher and the store's state it was made in."""

    matcher: Matcher
    info: MatcherInfo
    state: tuple[int, int]
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Held while matching (see the module's docstring)."""


@dataclass
class ViewerMatchers:
    """The in-memory matchers of a server; `Node.matchers`."""

    kept: int = KEPT
    cache_dir: Path | None = None
    """Where `matcher_for` keeps matchers on disk (default: `default_cache_dir()`)."""
    builds: int = 0
    """Matchers obtained from `matcher_for` (built, refreshed or loaded from disk)."""
    _held: OrderedDict[str, Held] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _key_locks: dict[str, threading.Lock] = field(default_factory=dict)

    def held(self, store: Store, settings: Settings, lists: BenignLists, viewer: Viewer) -> Held:
        """The viewer's matcher, current with the store."""
        flags = benign_flags(store, settings, lists, viewer)
        cache_dir = self.cache_dir or default_cache_dir()
        key = str(cache_path(store, viewer, cache_dir, flags.version))
        reader = store.indicator_values
        state = (reader.newest_seq(), reader.latest_count())
        found = self._get(key, state)
        if found is not None:
            return found
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            found = self._get(key, state)  # made meanwhile by another request
            if found is not None:
                return found
            matcher, info = viewer_matcher(store, settings, lists, viewer, cache_dir, flags)
            # `matcher_for` read the store's state after `state` was read: the matcher is at
            # least that current, so `state` is a safe (at worst early) mark of it.
            held = Held(matcher, info, state)
            with self._lock:
                self.builds += 1
                self._held[key] = held
                self._held.move_to_end(key)
                while len(self._held) > self.kept:
                    gone, _ = self._held.popitem(last=False)
                    self._key_locks.pop(gone, None)
            return held

    @contextmanager
    def matching(
        self, store: Store, settings: Settings, lists: BenignLists, viewer: Viewer
    ) -> Iterator[Matcher]:
        """The viewer's matcher, for this thread alone while the block runs."""
        held = self.held(store, settings, lists, viewer)
        with held.lock:
            yield held.matcher

    def _get(self, key: str, state: tuple[int, int]) -> Held | None:
        with self._lock:
            found = self._held.get(key)
            if found is None or found.state != state:
                return None
            self._held.move_to_end(key)
            return found


__all__ = ["KEPT", "Held", "ViewerMatchers"]
