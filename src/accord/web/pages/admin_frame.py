"""What the administration pages share: who may open them, their tabs, and how a change is
recorded.

The pages are for node admins and org-admins (`ADMINS`); anyone else gets the page of a
missing one. Which tab a role sees follows what the API and the command line let that role
do: organisations and the allowlist for both (an org-admin's own), sharing groups and feeds
for the node admin alone (the command line's ``accord group add`` and ``accord feed add``
are the node operator's; a feed makes the node fetch an address, which is not an
organisation's to choose); peers too (`accord peer` is the node operator's, and a peer's
name and address are not for anyone else to learn). The rules themselves are
`accord.model.roles`.
"""

from __future__ import annotations

from typing import Any

from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from accord.model.roles import Role
from accord.store.organisations import User
from accord.web.pages.common import ADMINS, page
from accord.web.portal import portal_of
from accord.web.visitors import PageError, Visitor, require

# (path, code of its name in the templates, the roles that see it)
TABS: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("/admin", "users", ADMINS),
    ("/admin/organisations", "organisations", ADMINS),
    ("/admin/groups", "groups", (Role.ADMIN,)),
    ("/admin/allowlist", "allowlist", ADMINS),
    ("/admin/feeds", "feeds", (Role.ADMIN,)),
    ("/admin/peers", "peers", (Role.ADMIN,)),
)

VIA = "portal"  # the ``via`` of the audit entries these pages write


def admin(visitor: Visitor, *roles: Role) -> User:
    """The visitor as an administrator (of ``roles``, default `ADMINS`); others get the
    missing page's answer."""
    require(visitor, *(roles or ADMINS))
    return visitor.account.user


def admin_page(
    request: Request,
    visitor: Visitor,
    template: str,
    tab: str,
    context: dict[str, Any],
    status: int = 200,
) -> HTMLResponse:
    tabs = [(path, code) for path, code, roles in TABS if visitor.may(*roles)]
    return page(request, visitor, template, {"tabs": tabs, "tab": tab, **context}, status)


async def record(
    request: Request, visitor: Visitor, target: str | None, change: str, **detail: object
) -> None:
    """Audit an administrative change as the API does (action ``admin``, the target, what
    changed), saying it came from the portal."""
    await run_in_threadpool(
        portal_of(request).audit,
        visitor.user_id,
        visitor.org_id,
        "admin",
        target,
        change=change,
        via=VIA,
        **detail,
    )


def text(form: Any, name: str, limit: int = 320) -> str:
    """A form field as text, trimmed; a field longer than ``limit`` is a bad form (422)."""
    value = str(form.get(name) or "").strip()
    if len(value) > limit or "\x00" in value:
        raise PageError(422, "bad-form")
    return value
