"""Benign lists for the look-up: the MISP warninglists every organisation shares, and the
calling organisation's own allowlist.

The warninglists index is compiled once and memory-mapped (accord.intel.warninglists), and
followed: when the background job has compiled a newer index (its source changed on disk),
the next check within `FOLLOW_SECONDS` maps it (`BenignLists.follow`). An
organisation's allowlist is read once and kept for a couple of seconds per worker, so that a
bulk look-up of ten thousand values costs one query for it, not ten thousand.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from accord.intel.scoring import list_effect
from accord.intel.warninglists import WarningLists
from accord.intel.warninglists.classes import LIST_CLASSES, class_of
from accord.intel.warninglists.refresh import FOLLOW_SECONDS, newer
from accord.model.observables import Observable, detect
from accord.model.visibility import Viewer
from accord.store.allowlist_matching import AllowlistMatcher
from accord.store.allowlists import AllowlistEntry
from accord.store.node import Store

log = logging.getLogger("accord.intel.benign")

ALLOWLIST_CACHE_SECONDS = 2.0
WARNINGLISTED_MEMO = 100_000  # values whose `warninglisted` answer is remembered
ALLOWLIST_REASON = "your organisation's allowlist"
ALLOWLIST_FLAG = "on your organisation's allowlist"  # how `extraction_flagger` says it

# A hook for benign-list checks (warninglists, allowlists): given the observable, the names
# of the lists it is on and whether any of them says "benign".
BenignCheck = Callable[[Observable], list["ListHit"]]


@dataclass(frozen=True, slots=True)
class ListHit:
    """The value is on a list: a MISP warninglist, or the organisation's allowlist."""

    source: Literal["warninglist", "allowlist"]
    name: str
    benign: bool
    """The list's class is "benign" (its values are benign by nature, or the organisation's
    allowlist): it damps the score. False: a "context" list (shared infrastructure), shown
    and explained, no effect on the score (`accord.intel.scoring.list_effect`)."""
    via_parent: bool = False  # only a parent domain is on the list (shown, does not damp)
    reason: str = ""  # why the list has its class (accord.intel.warninglists.classes)

    @property
    def list_class(self) -> Literal["benign", "context"]:
        return "benign" if self.benign else "context"

    @property
    def damps(self) -> bool:
        """Whether it damps the score: a benign list that names the value itself."""
        return self.benign and not self.via_parent

    def as_json(self) -> dict[str, Any]:
        found = list_effect(self.source, self.list_class, self.via_parent)
        return {
            "source": self.source,
            "name": self.name,
            "benign": self.benign,
            "class": self.list_class,
            "reason": self.reason,
            "effect": found.effect,
            "score_factor": found.factor,
            "via_parent": self.via_parent,
            "note": found.note,
        }


class BenignLists:
    """Builds the ``benign_check`` of a look-up for one viewer."""

    def __init__(
        self,
        store: Store,
        warninglists: WarningLists | None,
        ignore: frozenset[str] = frozenset(),
        classes: Iterable[tuple[str, str]] = (),
        cache_dir: Path | None = None,
    ) -> None:
        """``classes``: this node's own class for some lists ((name, "benign" or
        "context") pairs, `Settings.warninglist_classes`), over the reviewed table; a name
        the lists do not have is a ValueError. ``cache_dir``: where the index is compiled,
        and where `follow` looks for a newer one."""
        self.store = store
        self.warninglists = warninglists
        self.ignore = ignore  # list names this node does not use
        self.classes = tuple(classes)
        self.cache_dir = cache_dir
        # name -> (benign, reason) for the lists this node classes itself: one dict look-up
        # per hit, and only when the node has any.
        self.overrides = _overrides(warninglists, self.classes)
        self._allowlists: dict[str, tuple[float, AllowlistMatcher[AllowlistEntry]]] = {}
        self._lock = threading.Lock()
        self._warninglisted: dict[str, bool] = {}
        self._follow_lock = threading.Lock()
        self._follow_at = time.monotonic() + FOLLOW_SECONDS

    @property
    def version(self) -> str:
        """Which compiled lists these are (their index file's name, which holds their
        fingerprint): part of the key of what is kept built from them (a viewer's matcher)."""
        return "" if self.warninglists is None else self.warninglists.path.name

    def follow(self, force: bool = False) -> bool:
        """Take the newer index the background job compiled, if the lists' source changed
        (`accord.intel.warninglists.refresh`); checked at most every `FOLLOW_SECONDS` (unless
        ``force``), by one thread at a time (the others go on with the lists as they are).
        True when it took one."""
        now = time.monotonic()
        if self.warninglists is None or (now < self._follow_at and not force):
            return False
        if not self._follow_lock.acquire(blocking=False):
            return False
        try:
            self._follow_at = now + FOLLOW_SECONDS
            try:
                found = newer(self.warninglists, self.cache_dir)
                if found is None:
                    return False
                overrides = _overrides(found, self.classes)
            except (OSError, RuntimeError, ValueError) as exc:
                # A list the node's setting names is gone, say: keep the lists in use.
                log.error("the warninglists changed on disk but are not taken: %s", exc)
                return False
            self.warninglists, self.overrides = found, overrides
            with self._lock:
                self._warninglisted = {}
            log.info("warninglists now from %s", found.path.name)
            return True
        finally:
            self._follow_lock.release()

    @classmethod
    def load(
        cls,
        store: Store,
        ignore: frozenset[str] = frozenset(),
        cache_dir: Path | None = None,
        classes: Iterable[tuple[str, str]] = (),
    ) -> BenignLists:
        """With the compiled warninglists (compiled first, once, if they are not yet)."""
        return cls(store, WarningLists.load(cache_dir), ignore, classes, cache_dir)

    def _allowlist(self, org_id: str) -> AllowlistMatcher[AllowlistEntry]:
        now = time.monotonic()
        with self._lock:
            cached = self._allowlists.get(org_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        matcher = self.store.allowlists.matcher(org_id)
        with self._lock:
            self._allowlists[org_id] = (now + ALLOWLIST_CACHE_SECONDS, matcher)
        return matcher

    def warninglisted(self, value: str) -> bool:
        """Whether an indexed value (its text) is itself on a warninglist this node uses,
        not only its parent domain: such a value does not correlate (`Lookup`'s
        ``exclude``). Remembered: the lists do not change while the node runs, and the
        values correlations pass through (networks, parent domains, shared hosts) recur
        from one look-up to the next. Allowlists are the correlation reader's to apply."""
        memo = self._warninglisted  # the lists' own: `follow` starts a new one
        found = memo.get(value)
        if found is None:
            observable = detect(value)
            found = (
                observable is not None
                and self.warninglists is not None
                and any(
                    hit.list_name not in self.ignore and not _via_parent(observable, hit.matched)
                    for hit in self.warninglists.check(observable)
                )
            )
            if len(memo) >= WARNINGLISTED_MEMO:
                memo.clear()
            memo[value] = found
        return found

    def for_viewer(
        self, viewer: Viewer, allowlist: AllowlistMatcher[AllowlistEntry] | None = None
    ) -> BenignCheck:
        """``allowlist``: the organisation's allowlist as the caller read it (a cache keyed by
        its entries must be checked with those), instead of the copy kept a couple of
        seconds."""
        self.follow()
        if allowlist is None:
            allowlist = self._allowlist(viewer.org_id) if viewer.org_id else None
        warninglists = self.warninglists
        ignore = self.ignore
        overrides = self.overrides

        def check(observable: Observable) -> list[ListHit]:
            hits: list[ListHit] = []
            if warninglists is not None:
                for hit in warninglists.check(observable):
                    if hit.list_name in ignore:
                        continue
                    # The class was compiled into the index (`classes`); the node may
                    # override it.
                    benign, reason = (
                        overrides.get(hit.list_name, (hit.list_class == "benign", hit.reason))
                        if overrides
                        else (hit.list_class == "benign", hit.reason)
                    )
                    hits.append(
                        ListHit(
                            "warninglist",
                            hit.list_name,
                            benign,
                            _via_parent(observable, hit.matched),
                            reason,
                        )
                    )
            if allowlist:
                hits.extend(
                    ListHit(
                        "allowlist",
                        f"allowlist: {entry.display}",
                        True,
                        reason=ALLOWLIST_REASON,
                    )
                    for entry in allowlist.matches(observable)
                )
            return hits

        return check


def list_flagger(warninglists: WarningLists) -> Callable[[Observable], list[str]]:
    """The flagger of an IOC list import (`accord.ingest.ioc_lists.Flagger`): the names of
    the warninglists a value is on, its parent domains' included. ``accord ingest list`` and
    the portal's list upload label (or skip) such values."""

    def names(observable: Observable) -> list[str]:
        return [hit.list_name for hit in warninglists.check(observable)]

    return names


def extraction_flagger(check: BenignCheck) -> Callable[[Observable], list[str]]:
    """A flagger for report extraction (`accord.ingest.extract.Flagger`) from a viewer's
    benign check: why a value found in a report may not be an indicator, for each list of
    the "benign" class (and the organisation's allowlist) that names the value itself.

    "Context" lists (datacenter and VPN ranges, shared hosting) do not flag: anyone can
    rent an address there, and that is where command-and-control servers live. Nor does a
    list that names only a parent domain (a phishing host under a shared domain is still an
    indicator). The look-up answer shows both."""

    def reasons(observable: Observable) -> list[str]:
        return [
            f"on the warninglist {hit.name!r}"
            if hit.source == "warninglist"
            else f"{ALLOWLIST_FLAG} ({hit.name.removeprefix('allowlist: ')})"
            for hit in check(observable)
            if hit.damps
        ]

    return reasons


def _overrides(
    warninglists: WarningLists | None, classes: Iterable[tuple[str, str]]
) -> dict[str, tuple[bool, str]]:
    """This node's own classes for some lists, checked against the lists it has."""
    found: dict[str, tuple[bool, str]] = {}
    known = set(warninglists.list_names) if warninglists is not None else set()
    for name, list_class in classes:
        if list_class not in LIST_CLASSES:
            raise ValueError(
                f"warninglist class of {name!r}: {list_class!r} is not one of 'benign', 'context'"
            )
        if warninglists is not None and name not in known:
            raise ValueError(
                f"the node setting warninglists.classes names {name!r}, which is not a "
                "warninglist of this node (docs/warninglists.md lists them)"
            )
        table_class, table_reason = class_of(name)
        found[name] = (
            list_class == "benign",
            f"{list_class} by this node's setting (the reviewed table says "
            f"{table_class}: {table_reason})",
        )
    return found


def _via_parent(observable: Observable, matched: str) -> bool:
    """Whether a list matched only a parent domain of the value (or of a URL's host)."""
    if observable.kind == "domain":
        return matched != observable.value
    if observable.kind in ("url", "email") and observable.host:
        return matched not in (observable.value, observable.host)
    return False
