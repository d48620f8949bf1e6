"""The portal's fixtures: `portal` (in-process, tests/web/portal_support.py)."""

from __future__ import annotations

from portal_support import portal  # noqa: F401  (a fixture)
