"""MISP warninglists: known-benign and well-known values, compiled once and cached on disk.

`WarningLists.load().check(observable)` names every list a value is on. See
docs/warninglists.md for how the lists compile and where the cache lives.
"""

from __future__ import annotations

from accord.intel.warninglists.index import WarningHit, WarningLists, default_cache_dir

__all__ = ["WarningHit", "WarningLists", "default_cache_dir"]
