"""The search page: browse the objects you may see by words, type, TLP, creator, label and
dates, a page at a time (`accord.intel.search.browse`, which ``GET /api/v1/objects`` calls
too, so the page and the API answer alike). A GET form: it works without JavaScript, and htmx
swaps only the results (and the next pages) when it is there. Objects of AMBER and above
shown on a page are recorded in the audit log, as the API records them.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from accord.intel.read_audit import audit_reads
from accord.intel.search import BadFilter, BrowseFilters, BrowsePage, browse, listed
from accord.model.search_text import MAX_SEARCH_CHARS
from accord.model.stix_identifiers import SDO_TYPES, SRO_TYPES
from accord.model.tlp import Tlp
from accord.store.cursors import BadCursor
from accord.web.pages.common import is_htmx, page
from accord.web.portal import Portal, portal_of
from accord.web.visitors import Visitor, member

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_TYPES = 50  # types asked at once
# The filters of the form, by the names ``GET /api/v1/objects`` gives them.
TEXT_FIELDS = ("q", "tlp", "creator", "label", "modified_since", "modified_until", "order")
TYPES = sorted(SDO_TYPES | SRO_TYPES)


def _filters(params: QueryParams) -> BrowseFilters:
    given = {name: (params.get(name) or "")[:2000] for name in TEXT_FIELDS}
    return BrowseFilters(
        types=[kind for kind in params.getlist("type")[:MAX_TYPES] if kind],
        tlp=given["tlp"],
        creator=given["creator"],
        label=given["label"],
        modified_since=given["modified_since"],
        modified_until=given["modified_until"],
        q=given["q"],
        order=given["order"] or "newest",  # people want the newest first; the API, storage order
    )


def _link(filters: BrowseFilters, cursor: str | None) -> str:
    """The search page's address for these filters (and a page of them)."""
    pairs: list[tuple[str, str]] = [("type", kind) for kind in filters.types]
    for name in TEXT_FIELDS:
        value = getattr(filters, name)
        if value:
            pairs.append((name, value))
    if cursor:
        pairs.append(("cursor", cursor))
    return "/search?" + urlencode(pairs)


def _browse(
    portal: Portal, visitor: Visitor, filters: BrowseFilters, cursor: str | None
) -> BrowsePage:
    found = browse(portal.store, visitor.viewer, filters, cursor, PAGE_SIZE)
    audit_reads(portal.store, visitor.viewer, visitor.user_id, found.objects, "portal /search")
    return found


@router.get("/search")
async def search(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    portal = portal_of(request)
    filters = _filters(request.query_params)
    cursor = request.query_params.get("cursor") or None
    error: str | None = None  # the field at fault (the API's parameter name), or "cursor"
    rows: list[Any] = []
    next_link = None
    status = 200
    try:
        found = await run_in_threadpool(_browse, portal, visitor, filters, cursor)
    except BadFilter as exc:
        error, status = exc.parameter, 422
    except BadCursor:
        error, status = "cursor", 400
    else:
        rows = [listed(obj) for obj in found.objects]
        next_link = _link(filters, found.next) if found.next else None
    context = {
        "filters": filters,
        "rows": rows,
        "error": error,
        "next_link": next_link,
        "first_link": _link(filters, None) if cursor else None,
        "creators": {
            org.id: org.name for org in await run_in_threadpool(portal.store.directory.orgs)
        },
        "types": TYPES,
        "levels": [(level.slug, level.label) for level in Tlp],
        "max_chars": MAX_SEARCH_CHARS,
    }
    template = "search_results.html" if is_htmx(request) else "search.html"
    return page(request, visitor, template, context, status)
