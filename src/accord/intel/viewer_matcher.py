"""A viewer's matcher with the node's benign lists: what `accord match` and
``POST /api/v1/match`` both build, so that the command and the API give the same hits.

`accord.match.matcher_source.matcher_for` compiles (or loads from its disk cache) what a
viewer may see; the benign flags of its indicators (a value warninglisted, or on the
viewer's organisation's allowlist: left out of the hits unless asked) are compiled in, so the
lists they came from are part of the cache's key (`BenignFlags.version`): a change of lists
is a new matcher.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from accord.intel.benign import BenignLists
from accord.match.matcher import Matcher
from accord.match.matcher_source import Benign, MatcherInfo, matcher_for
from accord.model.observable_types import Observable
from accord.model.visibility import Viewer
from accord.settings import Settings
from accord.store.allowlist_matching import AllowlistMatcher
from accord.store.node import Store


@dataclass(frozen=True, slots=True)
class BenignFlags:
    """How a viewer's matcher flags benign indicators, and a digest of what that read."""

    check: Benign
    version: str
    """Digest of the warninglist settings and the organisation's allowlist: the matcher's
    cache key (`matcher_for`'s ``benign_version``)."""


def node_lists(store: Store, settings: Settings) -> BenignLists:
    """The node's benign lists: the warninglists it uses (none when ``settings`` turn them
    off) and the organisations' allowlists."""
    if settings.warninglists:
        return BenignLists.load(
            store, settings.warninglists_ignore, classes=settings.warninglist_classes
        )
    return BenignLists(store, None)


def benign_flags(
    store: Store, settings: Settings, lists: BenignLists, viewer: Viewer
) -> BenignFlags:
    """A value is benign for ``viewer`` when a list names it and damps its score (as the
    look-up's benign check says: `accord.intel.benign`)."""
    # One read of the allowlist for both the check and the digest: the copy `lists` keeps
    # for a couple of seconds could be older than the entries, and a matcher compiled with
    # it would be kept under the newer entries' digest.
    allowlist = store.allowlists.entries(viewer.org_id) if viewer.org_id else []
    # The lists' version read before the check is built from them: should a newer index be
    # taken meanwhile, the matcher goes under the older key, which is not asked for again.
    lists.follow()
    compiled = lists.version
    check = lists.for_viewer(
        viewer,
        AllowlistMatcher(
            ((entry.kind, entry.value, entry.suffix, None, None), entry) for entry in allowlist
        ),
    )

    def benign(observable: Observable) -> bool:
        return any(hit.damps for hit in check(observable))

    version = hashlib.sha256(
        repr(
            (
                settings.warninglists,
                compiled,  # the compiled lists: a newer index is a new matcher
                sorted(lists.ignore),
                sorted(settings.warninglist_classes),
                [entry.display for entry in allowlist],
            )
        ).encode()
    ).hexdigest()
    return BenignFlags(benign, version)


def viewer_matcher(
    store: Store,
    settings: Settings,
    lists: BenignLists,
    viewer: Viewer,
    cache_dir: Path | None,
    flags: BenignFlags | None = None,
    since: str | None = None,
) -> tuple[Matcher, MatcherInfo]:
    """The viewer's matcher (from the disk cache in ``cache_dir`` when current, refreshed or
    rebuilt otherwise: `matcher_for`); ``flags`` when the caller has them already; ``since``:
    only intelligence added or modified since then, not cached."""
    flags = flags or benign_flags(store, settings, lists, viewer)
    return matcher_for(store, viewer, cache_dir, flags.check, flags.version, since=since)


__all__ = ["BenignFlags", "benign_flags", "node_lists", "viewer_matcher"]
