"""What a sensor export asks of the intelligence layer (`accord.export.indicator_items.Judge`):
which benign lists name a value, and an indicator's score now.

The lists are those of the look-up (`accord.intel.benign`): a value named by a benign-class
warninglist or by the viewer's organisation's allowlist is one a sensor should not alert on
(a "context" list, shared hosting or cloud ranges, does not count, nor a list that names only
a parent domain: the look-up's own rule, `ListHit.damps`). The score is
`accord.intel.scoring.indicator_score`: confidence, decay by age per observable kind,
sightings, false-positive votes; the explicit analyst's score where there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from accord.intel.benign import BenignCheck, BenignLists
from accord.intel.scoring import indicator_score
from accord.model.observable_types import Observable
from accord.model.timestamps import timestamp_key
from accord.model.visibility import Viewer
from accord.store.sightings import SightingTotals


class ExportJudge:
    """The lists and scores of one export, for one viewer, at one instant."""

    def __init__(self, check: BenignCheck | None, now: datetime) -> None:
        self.check = check
        self.now = now
        self.now_key = timestamp_key(now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    @classmethod
    def for_viewer(cls, lists: BenignLists | None, viewer: Viewer, now: datetime) -> ExportJudge:
        return cls(lists.for_viewer(viewer) if lists is not None else None, now)

    def lists(self, observable: Observable) -> list[str]:
        if self.check is None:
            return []
        return [hit.name for hit in self.check(observable) if hit.damps]

    def score(
        self, obj: Mapping[str, Any], kind: str, sightings: SightingTotals | None, received: str
    ) -> int:
        return indicator_score(
            obj, kind, self.now, sightings, received=received, now_key=self.now_key
        ).score
