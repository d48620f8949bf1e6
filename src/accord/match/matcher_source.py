"""A viewer's matcher, built from the store through the visibility rule and kept on disk.

`matcher_for(store, viewer, cache_dir)` answers the compiled matcher (`accord.match.matcher`)
of everything `viewer` may see now:

- **Built** from the latest indicator versions the viewer may see, with the values their
  patterns name (`accord.store.indicator_values`: the rule is applied in the query, so AMBER
  and AMBER+STRICT come only to their audience). Revoked and expired (``valid_until``
  passed) indicators are left out; one that expires later carries its expiry into the
  matcher, which stops naming it then (`accord.match.matcher`). A pattern
  whose values do not say everything (`simple` false: LIKE, MATCHES, ranges, qualifiers) is
  also put in the matcher's pattern index, judged on each value.
- **Cached** in `cache_dir` under a name derived from the store, the viewer's principals and
  the caller's `benign_version` (the warninglists and allowlist the benign flags came from);
  the file records the store's newest sequence number and its count of latest indicators.
- **Refreshed**: when the store has moved on, the versions written since are read; if they
  are all new indicators they are added to the cached matcher, otherwise (a new version of an
  indicator already in it, a revocation, a deletion, an expiry marked by the decay job:
  `accord.store.change_marks`) it is rebuilt. Either way it is saved.

The cache file holds what the viewer may see, so it is written readable by its owner only.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from accord.match.matcher import Entry, Matcher, Target, dumps, loads
from accord.model.observable_types import Observable
from accord.model.timestamps import parse_timestamp
from accord.model.visibility import Viewer
from accord.store.gc_pause import collector_paused
from accord.store.indicator_values import IndicatorValueReader, IndicatorValues
from accord.store.node import Store

Benign = Callable[[Observable], bool]

_MAGIC: Final = b"accord-matcher\n"


@dataclass(frozen=True, slots=True)
class MatcherInfo:
    how: str
    """"built", "cached" or "refreshed"."""
    seconds: float
    indicators: int
    newest_seq: int
    path: Path | None


def _principals(viewer: Viewer) -> str:
    """What the rule reads of the viewer: two viewers with the same see the same."""
    return repr((viewer.is_member, sorted(viewer.principals), viewer.crossing))


def cache_path(store: Store, viewer: Viewer, cache_dir: Path, benign_version: str) -> Path:
    key = hashlib.sha256(
        "\n".join(
            [store.engine.url.render_as_string(), _principals(viewer), benign_version]
        ).encode()
    ).hexdigest()[:32]
    return cache_dir / "matchers" / f"{key}.bin"


class _Builder:
    """Targets and entries as indicator pages arrive."""

    def __init__(self, matcher: Matcher, benign: Benign | None) -> None:
        self.matcher = matcher
        self.benign = benign
        self.ids: set[str] = set(matcher.target_ids())

    def add(self, items: Iterable[IndicatorValues]) -> bool:
        """Add the indicators; False if one of them is already in the matcher (or revoked):
        then only a rebuild is right."""
        matcher = self.matcher
        for item in items:
            stored = item.obj
            if stored.id in self.ids:
                return False
            if stored.revoked:
                continue
            body = orjson.loads(stored.raw)
            expires = _expiry(body.get("valid_until"))
            if expires is not None and expires <= time.time():
                continue
            pattern = body.get("pattern") if body.get("pattern_type", "stix") == "stix" else None
            benign = self.benign is not None and any(
                self.benign(value.observable) for value in item.values
            )
            number = matcher.add_target(
                Target(
                    stored.id,
                    body.get("name") if isinstance(body.get("name"), str) else None,
                    stored.tlp.name.lower().replace("_", "+"),
                    pattern if isinstance(pattern, str) else None,
                    benign,
                ),
                expires,
            )
            self.ids.add(stored.id)
            simple = True
            for value in item.values:
                matcher.add(Entry(value.observable, number))
                simple = simple and value.simple
            if isinstance(pattern, str) and (not simple or not item.values):
                version = "2.0" if body.get("spec_version") == "2.0" else "2.1"
                matcher.add_pattern(number, pattern, version)
        return True


def _expiry(stamp: object) -> float | None:
    """A valid_until (validated at ingest) as epoch seconds."""
    if not isinstance(stamp, str):
        return None
    try:
        return parse_timestamp(stamp).timestamp()
    except ValueError:
        return None


def _state(reader: IndicatorValueReader) -> tuple[int, int]:
    return reader.newest_seq(), reader.latest_count()


def matcher_for(
    store: Store,
    viewer: Viewer,
    cache_dir: Path | None,
    benign: Benign | None = None,
    benign_version: str = "",
    since: str | None = None,
) -> tuple[Matcher, MatcherInfo]:
    """The viewer's matcher, from the cache when it is current. ``since`` (timestamp_key
    form): only indicators modified or stored here at or after it (a retro-hunt of new
    intelligence over old logs), built for the occasion and not cached."""
    started = time.perf_counter()
    reader = IndicatorValueReader(store.engine)
    newest, count = _state(reader)
    path = (
        cache_path(store, viewer, cache_dir, benign_version)
        if cache_dir is not None and since is None
        else None
    )
    cached = _read(path) if path is not None else None
    if cached is not None:
        matcher, cached_newest, cached_count = cached
        if (cached_newest, cached_count) == (newest, count):
            return matcher, MatcherInfo(
                "cached", time.perf_counter() - started, len(matcher), newest, path
            )
        # Every latest indicator stored since is new (none replaced or deleted one of those
        # the cache was made from) when the count grew by exactly their number.
        # A change marked without a version (an expiry) is in no version read since.
        if (
            cached_newest < newest
            and count == cached_count + reader.latest_count(cached_newest)
            and not reader.marked_after(cached_newest)
        ):
            assert path is not None
            builder = _Builder(matcher, benign)
            with collector_paused():
                pages = reader.pages(viewer, after_seq=cached_newest)
                fresh = all(builder.add(page) for page in pages)
            if fresh:
                matcher.freeze()
                _write(path, matcher, newest, count)
                return matcher, MatcherInfo(
                    "refreshed", time.perf_counter() - started, len(matcher), newest, path
                )
    matcher = Matcher([])
    builder = _Builder(matcher, benign)
    with collector_paused():
        for page in reader.pages(viewer, since=since):
            builder.add(page)
        matcher.freeze()
    if path is not None:
        _write(path, matcher, newest, count)
    return matcher, MatcherInfo("built", time.perf_counter() - started, len(matcher), newest, path)


def _read(path: Path) -> tuple[Matcher, int, int] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(_MAGIC):
        return None
    header_end = data.find(b"\n", len(_MAGIC))
    try:
        newest_text, count_text = data[len(_MAGIC) : header_end].split(b" ")
        newest, count = int(newest_text), int(count_text)
    except ValueError:
        return None
    matcher = loads(data[header_end + 1 :])
    return None if matcher is None else (matcher, newest, count)


def _write(path: Path, matcher: Matcher, newest: int, count: int) -> None:
    """Written whole to a temporary file and renamed: a reader never sees half a matcher."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = _MAGIC + f"{newest} {count}\n".encode() + dumps(matcher)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".matcher-")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
