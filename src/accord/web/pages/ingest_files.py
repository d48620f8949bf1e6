"""Files in: STIX bundles, MISP events and IOC lists (plain, LOKI, maltrail, CSV), each
stored through the path its command takes (``accord ingest``, ``accord ingest misp``,
``accord ingest list``), and the outcome of every object shown.

A bundle is stored whole or not at all, as the API takes it: one bad object and nothing is
stored, and the table says which object (its index in the bundle) and why. A MISP file's
events are each stored whole or not at all; a list's good lines are stored and its bad
lines reported, as the command does. Every upload that reaches the store is audited as the
API's writes are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from accord.ingest.extract.text import binary_kind
from accord.ingest.ioc_lists import ListIngester, ListOptions, ListReport, list_totals
from accord.ingest.misp import MispImporter, MispReport, read_bytes
from accord.ingest.stix import Ingester, IngestOptions, IngestReport, ingest_totals
from accord.intel.benign import list_flagger
from accord.web.pages.common import page
from accord.web.pages.ingest import INGESTERS, limits, start_page, status_of
from accord.web.portal import Portal, portal_of
from accord.web.sharing import Sharing, SharingRefused, chosen
from accord.web.uploads import FormRefused, Upload, posted_within, upload_of
from accord.web.visitors import Visitor, member, require

router = APIRouter(include_in_schema=False)

KINDS: Final = ("stix", "misp", "list")
MAX_ROWS: Final = 1000
"""Objects listed per file; the rejected ones first, the rest counted beyond."""


@dataclass(slots=True)
class Outcome:
    """What became of a file, for the page."""

    kind: str
    name: str
    parts: list[dict[str, Any]] = field(default_factory=list)  # a bundle, or MISP events
    listed: dict[str, Any] | None = None  # an IOC list's summary
    error: str | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        if self.error is not None:
            return False
        if self.listed is not None:
            return not self.listed["rejected"] and not self.listed["bad_lines"]
        return all(part["ok"] for part in self.parts)


@router.post("/ingest/file")
async def ingest_file(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    require(visitor, *INGESTERS)
    portal = portal_of(request)
    limit = portal.settings.web_upload_bytes
    try:
        form = await posted_within(request, visitor, limit)
        upload = await upload_of(form, "file", limit)
    except FormRefused as exc:
        return await start_page(
            request, visitor, exc.code, status=status_of(exc.code), section="file"
        )
    kind = str(form.get("kind") or "")
    try:
        sharing = chosen(form, portal.settings.default_tlp)
    except ValueError:
        kind = ""
    if kind not in KINDS:
        return await start_page(request, visitor, "bad-kind", status=422, section="file")
    if upload is None or not upload.data.strip():
        return await start_page(request, visitor, "no-file", status=422, section="file")
    binary = binary_kind(upload.data)
    if binary is not None:
        return await start_page(request, visitor, "wrong-type", binary, 422, section="file")
    outcome = await run_in_threadpool(ingest_upload, portal, visitor, kind, upload, sharing)
    context = {**limits(portal), "outcome": outcome, "tlp_chosen": sharing.tlp.label}
    return page(request, visitor, "ingest_result.html", context, 200 if outcome.ok else 422)


def ingest_upload(
    portal: Portal, visitor: Visitor, kind: str, upload: Upload, sharing: Sharing
) -> Outcome:
    """Store the file through its kind's path and audit the write."""
    outcome = Outcome(kind, upload.name)
    try:
        recipients = sharing.recipients(portal.store)
    except SharingRefused as exc:
        outcome.error, outcome.detail = "no-recipient", exc.name
        return outcome
    user, default = visitor.account.user, portal.settings.default_tlp
    via = f"portal ingest {kind}"
    if kind == "stix":
        options = IngestOptions(tlp=sharing.tlp, recipients=recipients)
        report = Ingester(portal.store, user, default).ingest_bytes(
            upload.data, upload.name, options
        )
        outcome.parts.append(_part(report))
        totals = ingest_totals([report])
    elif kind == "misp":
        # MISP events carry their own audience (distribution, sharing groups), as in
        # `accord ingest misp`: the chosen recipients are not added to it.
        importer = MispImporter(portal.store, user, default)
        found: list[MispReport] = list(
            importer.ingest_document(
                read_bytes(upload.data, upload.name), IngestOptions(tlp=sharing.tlp)
            )
        )
        outcome.parts.extend(_part(item.report, item.event_uuid, item.warnings) for item in found)
        totals = {
            "events": [item.event_uuid for item in found if item.event_uuid],
            **ingest_totals([item.report for item in found]),
        }
    else:
        lists = portal.lookups.lists
        warninglists = lists.warninglists if lists is not None else None
        flagger = list_flagger(warninglists) if warninglists is not None else None
        ingester = ListIngester(portal.store, user, default, flagger=flagger)
        wanted = ListOptions(ingest=IngestOptions(tlp=sharing.tlp, recipients=recipients))
        listed = ingester.ingest_data(upload.data, upload.name, wanted)
        outcome.listed = _listed(listed)
        totals = list_totals([listed])
    if outcome.parts and all(part["error"] for part in outcome.parts):
        outcome.error, outcome.detail = "unreadable", outcome.parts[0]["error"]
    # Audited whatever came of it, as the API audits every bundle posted to it.
    portal.audit(visitor.user_id, visitor.org_id, "write", None, via=via, **totals)
    return outcome


def _part(
    report: IngestReport, event: str | None = None, warnings: list[str] | None = None
) -> dict[str, Any]:
    """One bundle (or MISP event): its counts and the objects to list, rejected first."""
    rejected = [obj for obj in report.objects if obj.status == "rejected"]
    others = [obj for obj in report.objects if obj.status != "rejected"]
    listed = sorted((rejected + others)[:MAX_ROWS], key=lambda obj: obj.index)
    return {
        "source": report.source,
        "event": event,
        "warnings": list(warnings or ())[:100],
        "error": report.error,
        "ok": report.ok,
        "stored": report.count("stored"),
        "duplicates": report.count("duplicate"),
        "rejected": report.count("rejected"),
        "not_stored": report.count("not stored"),
        "total": len(report.objects),
        "more": len(report.objects) - len(listed),
        "objects": [
            {
                "index": obj.index,
                "id": obj.id,
                "type": obj.type,
                "status": obj.status,
                "problems": [(problem.property, problem.reason) for problem in obj.problems],
            }
            for obj in listed
        ],
    }


def _listed(report: ListReport) -> dict[str, Any]:
    summary = report.summary()
    summary["bad_line_details"] = summary["bad_line_details"][:MAX_ROWS]
    summary["rejections"] = summary["rejections"][:MAX_ROWS]
    return summary
