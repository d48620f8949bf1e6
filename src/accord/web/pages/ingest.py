"""Report ingest: paste a report's text or upload its file, review what was found, store it
as a STIX report with the indicators kept.

Two steps, with a person between them, over the functions ``accord ingest report`` uses
(`accord.ingest.extract.report`):

1. ``POST /ingest/review`` reads the document and finds its values (`read_report`,
   `review_text`), flagged by the built-in checks and by the node's warninglists and the
   organisation's allowlist (`accord.intel.benign.extraction_flagger`); each value is also
   looked up, as on the look-up page (audited alike), to say whether the node already knows
   it. Nothing is stored. The review form carries the text back (`accord.web.review_state`).
2. ``POST /ingest/report`` finds the values again in that text, keeps those ticked, and
   stores the report and its indicators through the STIX ingester, whole or not at all, at
   the TLP and for the recipients chosen. The write is audited as the API's writes are.

Files of STIX bundles, MISP events and IOC lists are taken by `accord.web.pages.ingest_files`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.ingest.extract import DocumentError, Finding
from accord.ingest.extract.report import (
    ReportOptions,
    Review,
    read_report,
    report_objects,
    review_text,
    stix_pattern,
)
from accord.ingest.stix import Ingester, IngestOptions, IngestReport, ingest_totals
from accord.intel.benign import ALLOWLIST_FLAG, extraction_flagger
from accord.model.roles import Role
from accord.web import review_state
from accord.web.pages.common import page
from accord.web.portal import Portal, portal_of
from accord.web.review_state import BadState, ReviewState
from accord.web.sharing import Sharing, SharingRefused, choices, chosen
from accord.web.uploads import FormRefused, Upload, posted_within, upload_of
from accord.web.visitors import PageError, Visitor, member, require

router = APIRouter(include_in_schema=False)

INGESTERS: Final = tuple(role for role in Role if role.may_ingest)
MAX_TEXT: Final = 2_000_000
"""Characters of a report's text (pasted, or read from its file)."""
MAX_VALUES: Final = 5_000
"""Values found in one report that the review table shows; more: the command line."""
PASTED: Final = "pasted text"
REPORT_SUFFIXES: Final = (
    ".pdf",
    ".html",
    ".htm",
    ".xhtml",
    ".md",
    ".markdown",
    ".adoc",
    ".asciidoc",
    ".asc",
    ".txt",
    ".text",
    ".log",
)


class ReviewRefused(Exception):
    """The document cannot be reviewed: ``code`` for the page, ``detail`` from the reader."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(slots=True)
class Choices:
    """What the person chose on the review form, shown again when it comes back."""

    name: str = ""
    sharing: Sharing | None = None
    keep: frozenset[tuple[str, str]] | None = None  # None: the default (unflagged ones)


@dataclass(slots=True)
class Stored:
    report_id: str | None = None
    outcome: IngestReport | None = None
    error: str | None = None
    detail: str | None = None
    rejections: list[dict[str, Any]] = field(default_factory=list)


# --- the start page ----------------------------------------------------------------------


@router.get("/ingest")
async def ingest_page(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    require(visitor, *INGESTERS)
    return await start_page(request, visitor)


async def start_page(
    request: Request,
    visitor: Visitor,
    error: str | None = None,
    detail: str | None = None,
    status: int = 200,
    text: str = "",
    section: str = "report",
) -> Response:
    """The ingest page: the report form and the file form (with a message when one of them
    was refused: ``error`` a code the template words, ``detail`` the reader's own words)."""
    portal = portal_of(request)
    offered = await run_in_threadpool(choices, portal.store, visitor, portal.settings.default_tlp)
    context = {
        **offered,
        **limits(portal),
        "error": error,
        "detail": detail,
        "section": section,
        "text": text if len(text) <= 100_000 else "",
        "accept": ",".join(REPORT_SUFFIXES),
    }
    return page(request, visitor, "ingest.html", context, status)


@router.get("/ingest/review")
@router.get("/ingest/report")
@router.get("/ingest/file")
async def back_to_the_form(
    request: Request, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    """A result page reloaded, or its address followed: the forms again (a review is never
    kept, so there is nothing to show at these addresses)."""
    require(visitor, *INGESTERS)
    return RedirectResponse("/ingest", status_code=303)


def limits(portal: Portal) -> dict[str, Any]:
    return {
        "upload_mb": portal.settings.web_upload_bytes // (1024 * 1024),
        "max_text": MAX_TEXT,
        "max_values": MAX_VALUES,
    }


def status_of(code: str) -> int:
    return 413 if code == "too-large" else 422


# --- step 1: the review -------------------------------------------------------------------


@router.post("/ingest/review")
async def review(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    require(visitor, *INGESTERS)
    portal = portal_of(request)
    limit = portal.settings.web_upload_bytes
    try:
        form = await posted_within(request, visitor, limit)
        upload = await upload_of(form, "file", limit)
    except FormRefused as exc:
        return await start_page(request, visitor, exc.code, status=status_of(exc.code))
    text = str(form.get("text") or "")
    if upload is not None and text.strip():
        return await start_page(request, visitor, "both", status=422, text=text)
    if upload is None and not text.strip():
        return await start_page(request, visitor, "empty", status=422)
    if len(text) > MAX_TEXT:
        return await start_page(request, visitor, "too-much-text", status=413)
    try:
        state = await run_in_threadpool(read_input, upload, text)
        context = await run_in_threadpool(review_context, portal, visitor, state, Choices())
    except ReviewRefused as exc:
        shown = text if upload is None else ""
        return await start_page(request, visitor, exc.code, exc.detail, 422, shown)
    return page(request, visitor, "ingest_review.html", context)


def read_input(upload: Upload | None, text: str) -> ReviewState:
    """The text of a pasted report or of an uploaded file, with the facts of its file."""
    if upload is None:
        name, data, format = PASTED, text.encode("utf-8"), "text"
    else:
        name, data, format = upload.name, upload.data, None
        suffix = name[name.rfind(".") :].lower() if "." in name else ""
        if suffix not in REPORT_SUFFIXES:
            raise ReviewRefused("wrong-type", suffix or None)
        if suffix == ".pdf" and not data.lstrip()[:5] == b"%PDF-":
            raise ReviewRefused("not-pdf")
        if not data.strip():
            raise ReviewRefused("empty-file")
    try:
        source, document = read_report(data, name, format)
    except DocumentError as exc:
        raise ReviewRefused("unreadable", str(exc)) from None
    if len(document.text) > MAX_TEXT:
        raise ReviewRefused("document-too-long")
    return ReviewState(document.text, source)


def _options(portal: Portal, visitor: Visitor) -> ReportOptions:
    """How the portal reads a report for this person: flagged by the node's warninglists
    and the organisation's allowlist, besides the built-in checks."""
    lists = portal.lookups.lists
    flagger = extraction_flagger(lists.for_viewer(visitor.viewer)) if lists else None
    return ReportOptions(flagger=flagger, created_by_ref=visitor.org_id)


def review_context(
    portal: Portal, visitor: Visitor, state: ReviewState, chose: Choices
) -> dict[str, Any]:
    """What the review page shows: every value found, its flags, whether the node knows it,
    the keep boxes (as chosen, else ticked for the unflagged), and the store form."""
    found = review_text(state.text, state.source, _options(portal, visitor))
    if len(found.findings) > MAX_VALUES:
        raise ReviewRefused("too-many-values", str(len(found.findings)))
    answers = _look_up(portal, visitor, found.findings)
    rows = [_row(finding, chose.keep, answers.get(finding.value)) for finding in found.findings]
    sharing = chose.sharing or Sharing(portal.settings.default_tlp)
    return {
        **choices(portal.store, visitor, portal.settings.default_tlp),
        **limits(portal),
        "source": state.source,
        "state": review_state.encode(state),
        "rows": rows,
        "found": len(rows),
        "flagged": sum(1 for row in rows if row["flags"]),
        "known": sum(1 for row in rows if row["known"]),
        "kept": sum(1 for row in rows if row["keep"]),
        "name": chose.name or _default_name(state),
        "tlp_chosen": sharing.tlp.slug,
        "picked": sharing.picked,
        "recipients_other": sharing.other,
    }


def _default_name(state: ReviewState) -> str:
    """A file's name; for pasted text, its first line (a note's title, usually)."""
    if state.source.name != PASTED:
        return state.source.name
    for line in state.text.splitlines():
        if line.strip():
            return line.strip()[:120]
    return PASTED


def _look_up(portal: Portal, visitor: Visitor, findings: list[Finding]) -> dict[str, Any]:
    """The look-up of every value the index keeps, by value: one bulk look-up, audited as
    the look-up page's (the person learns what the node knows of each)."""
    values = list(dict.fromkeys(f.value for f in findings if f.observable is not None))
    if not values:
        return {}
    body = portal.lookups.bulk(visitor.viewer, values, None, visitor.user_id, None)
    answers = orjson.loads(body)["answers"]
    return dict(zip(values, answers, strict=True))


def _row(
    finding: Finding, keep: frozenset[tuple[str, str]] | None, answer: dict[str, Any] | None
) -> dict[str, Any]:
    indicator = stix_pattern(finding) is not None
    key = (finding.kind, finding.value)
    known = bool(answer and not answer.get("error") and answer.get("reasons_total"))
    context = finding.context
    raw = " ".join(finding.raw.split())
    at = context.find(raw) if raw else -1
    before, match, after = (
        (context[:at], raw, context[at + len(raw) :]) if at >= 0 else (context, "", "")
    )
    return {
        "key": f"{finding.kind}:{finding.value}",
        "kind": finding.kind,
        "value": finding.value,
        "raw": finding.raw if finding.defanged else None,
        "port": finding.port,
        "count": finding.count,
        "flags": _flags(finding),
        "indicator": indicator,
        "keep": indicator and (key in keep if keep is not None else not finding.flagged),
        "known": known,
        "lists": _context_lists(answer),
        "verdict": answer.get("verdict") if known and answer else None,
        "score": answer.get("score") if known and answer else None,
        "context": (before, match, after),
    }


def _context_lists(answer: dict[str, Any] | None) -> list[str]:
    """The "context" warninglists that name the value: shown, not flagged (see
    `extraction_flagger`)."""
    if not answer:
        return []
    return [
        str(hit["name"])
        for hit in answer.get("lists", ())
        if hit.get("source") == "warninglist"
        and hit.get("class") == "context"
        and not hit.get("via_parent")
    ]


def _flags(finding: Finding) -> list[dict[str, Any]]:
    """A finding's flags, one per kind with its reasons: a value on ten warninglists is one
    flag that names them."""
    by_code: dict[str, list[str]] = {}
    for flag in finding.flags:
        code = flag.code
        # The flagger's reasons all come as "warninglist" (`accord.ingest.extract.flags`);
        # the organisation's allowlist is told apart (`extraction_flagger`'s words).
        if code == "warninglist" and flag.reason.startswith(ALLOWLIST_FLAG):
            code = "allowlist"
        by_code.setdefault(code, []).append(flag.reason)
    return [{"code": code, "reasons": reasons} for code, reasons in by_code.items()]


# --- step 2: store ------------------------------------------------------------------------


@router.post("/ingest/report")
async def store_report(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    require(visitor, *INGESTERS)
    portal = portal_of(request)
    try:
        form = await posted_within(request, visitor, portal.settings.web_upload_bytes)
    except FormRefused as exc:
        raise PageError(status_of(exc.code), exc.code) from None
    try:
        state = review_state.decode(str(form.get("state") or ""), MAX_TEXT)
        sharing = chosen(form, portal.settings.default_tlp)
    except (BadState, ValueError):
        raise PageError(422, "bad-form") from None
    name = " ".join(str(form.get("name") or "").split())[:255] or state.source.name
    keep = frozenset(
        (kind, value)
        for kind, _, value in (str(item).partition(":") for item in form.getlist("keep"))
        if value
    )
    chose = Choices(name, sharing, keep)
    stored = await run_in_threadpool(store_kept, portal, visitor, state, chose)
    if stored.error is None and stored.report_id is not None:
        return RedirectResponse(f"/objects/{stored.report_id}", status_code=303)
    try:
        context = await run_in_threadpool(review_context, portal, visitor, state, chose)
    except ReviewRefused:  # a text the review step would have refused: not from this page
        raise PageError(422, "bad-form") from None
    context.update(error=stored.error, detail=stored.detail, rejections=stored.rejections)
    return page(request, visitor, "ingest_review.html", context, 422)


def store_kept(portal: Portal, visitor: Visitor, state: ReviewState, chose: Choices) -> Stored:
    """Store the report with the values kept, whole or not at all, and audit the write."""
    assert chose.sharing is not None
    if len(chose.keep or ()) > MAX_VALUES:
        return Stored(error="too-many-values")
    try:
        recipients = chose.sharing.recipients(portal.store)
    except SharingRefused as exc:
        return Stored(error="no-recipient", detail=exc.name)
    options = ReportOptions(
        flagger=_options(portal, visitor).flagger,
        created_by_ref=visitor.org_id,
        name=chose.name,
        keep=chose.keep or frozenset(),
    )
    found: Review = review_text(state.text, state.source, options)
    if not found.included:
        return Stored(error="keep-none")
    objects = report_objects(found, options)
    ingester = Ingester(portal.store, visitor.account.user, portal.settings.default_tlp)
    outcome = ingester.ingest_objects(
        objects,
        "2.1",
        state.source.name,
        IngestOptions(tlp=chose.sharing.tlp, recipients=recipients),
    )
    portal.audit(
        visitor.user_id,
        visitor.org_id,
        "write",
        found.report_id,
        via="portal ingest report",
        **ingest_totals([outcome]),
    )
    if not outcome.ok:
        return Stored(found.report_id, outcome, "rejected", None, rejections(outcome))
    return Stored(found.report_id, outcome)


def rejections(outcome: IngestReport) -> list[dict[str, Any]]:
    """The rejected objects of an ingest and why, for the page's table."""
    return [
        {
            "index": report.index,
            "id": report.id,
            "type": report.type,
            "problems": [(problem.property, problem.reason) for problem in report.problems],
        }
        for report in outcome.objects
        if report.status == "rejected"
    ]
