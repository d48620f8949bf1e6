"""A member reports a sighting: "we saw this value" or "we saw this indicator" (or a false
positive). The one path the API (`POST /api/v1/sightings`) and the portal's look-up page
share: which indicators the report is about is decided through the visibility rule, then the
sighting is stored through `accord.ingest.sightings` and audited."""

from __future__ import annotations

from dataclasses import dataclass

from accord.ingest.sightings import SightingError, SightingRequest, record_sighting
from accord.model.observables import ObservableError, parse_query
from accord.model.tlp import Tlp
from accord.model.visibility import Viewer
from accord.store.audit import Event
from accord.store.node import Store
from accord.store.organisations import User


class ReportRefused(ValueError):
    """The report cannot be stored; ``field`` is what is wrong (value, indicator, first_seen,
    or "" for the report as a whole), ``missing`` when it names nothing the reporter may see
    (answered like a missing object)."""

    def __init__(self, message: str, field: str, missing: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.missing = missing


@dataclass(frozen=True, slots=True)
class Reported:
    created: list[str]  # ids of the sighting objects stored
    sighted: list[str]  # ids of the indicators (or observables) they sight


def report_sighting(
    store: Store,
    user: User,
    viewer: Viewer,
    sighting: SightingRequest,
    default_tlp: Tlp,
    value: str | None = None,
    indicator: str | None = None,
    via: str = "api",
) -> Reported:
    """Store and audit the sighting of ``value`` or ``indicator`` (exactly one)."""
    if (value is None) == (indicator is None):
        raise ReportRefused("give either value or indicator", "value")
    observable = None
    indicators: list[str] = []
    if indicator is not None:
        found = store.objects.get(viewer, indicator)
        if found is None or found.type != "indicator":
            raise ReportRefused(f"no indicator {indicator} that you may see", "indicator", True)
        indicators = [found.id]
    else:
        assert value is not None
        try:
            observable = parse_query(value)
        except ObservableError as exc:
            raise ReportRefused(str(exc), "value") from None
        matches = store.index.search(viewer, observable)
        indicators = sorted(
            {m.obj.id for m in matches if m.relation == "exact" and m.obj.type == "indicator"}
        )
    try:
        report, created, sighted = record_sighting(
            store, user, sighting, indicators, observable, default_tlp
        )
    except SightingError as exc:
        raise ReportRefused(str(exc), "first_seen") from None
    if not report.ok:
        reasons = "; ".join(o.describe() for o in report.objects if o.status == "rejected")
        raise ReportRefused(f"the sighting could not be stored: {reasons}", "")
    store.audit.append(
        Event(
            action="write",
            user_id=user.id,
            org_id=viewer.org_id,
            target=sighted[0] if sighted else None,
            detail={"sighting": created, "via": via} if via != "api" else {"sighting": created},
        )
    )
    return Reported(created, sighted)
