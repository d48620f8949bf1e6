"""The warninglists of a running node, kept current with their source on disk (an upgraded
`pymispwarninglists`, or changed files in ``ACCORD_WARNINGLISTS_DIR``), without a restart and
without the network.

Two halves, because compiling is slow and picking up is not:

- `refresh_warninglists`, a periodic background job (`accord.jobs.definitions`): when the
  lists' fingerprint (each file's size and modification time) changed, it compiles the new
  index into the cache folder (10-15 s for the full set), off every request's path. Run
  twice, or by two workers, it does no harm: the second finds the index compiled (the file
  is written under a temporary name and renamed) and only maps it.
- `newer`, what each process holding the lists asks now and then
  (`accord.intel.benign.BenignLists.follow`, at most every `FOLLOW_SECONDS`): a stat of the
  list files and of one cache file; when the job has compiled a newer index, that index,
  mapped in milliseconds. A process never compiles on a request's path: until the job has
  run on its machine (the cache folder is per machine), it keeps the lists it has.
"""

from __future__ import annotations

import logging
from pathlib import Path

from accord.intel.warninglists.index import WarningLists, index_path
from accord.intel.warninglists.source import ListSource
from accord.settings import Settings
from accord.store.node import Store

log = logging.getLogger("accord.intel.warninglists")

FOLLOW_SECONDS = 30.0


def refresh_warninglists(store: Store, settings: Settings) -> dict[str, object]:
    """Compile the lists' index if their source changed since it was last compiled (nothing
    when the node does not use warninglists)."""
    del store  # the lists are files; what the node's processes use is their cache
    if not settings.warninglists:
        return {"used": False}
    lists = WarningLists.load()
    if lists.info.built:
        log.info("warninglists compiled anew (%s, %.1f s)", lists.path.name, lists.info.seconds)
    return {"used": True, "built": lists.info.built, "index": lists.path.name}


def newer(
    current: WarningLists, cache_dir: Path | None = None, source: ListSource | None = None
) -> WarningLists | None:
    """The lists as compiled from their source now, when that is not ``current`` and the
    index is compiled already; else None (unchanged, or not compiled yet)."""
    path = index_path(source, cache_dir)
    if path == current.path or not path.is_file():
        return None
    return WarningLists.load(cache_dir, source)
