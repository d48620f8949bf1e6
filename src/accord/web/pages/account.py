"""Signing in and out, the TOTP second factor, and a person's own account (language, time
zone, sessions, password).

The sign-in form answers alike for an unknown address and a wrong password. Failed attempts
are counted per account and per client address (`Portal.signin_failures`); once either has
used up its allowance the form refuses, before the password is checked, and says for how
long. Every sign-in, failure and sign-out is in the audit log.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.store.credentials import WeakPassword
from accord.web import i18n
from accord.web.pages.common import page
from accord.web.portal import Portal, portal_of
from accord.web.visitors import (
    SIGNIN_COOKIE,
    PageError,
    Redirect,
    Visitor,
    member,
    new_signin_token,
    posted,
    safe_next,
    same_origin,
    session_cookie,
    set_cookie,
    visitor_or_none,
)

router = APIRouter(include_in_schema=False)


def _signin_form(
    request: Request, email: str = "", error: str | None = None, wait: float = 0, status: int = 200
) -> Response:
    token = request.cookies.get(SIGNIN_COOKIE) or new_signin_token()
    response = page(
        request,
        None,
        "sign_in.html",
        {
            "email": email,
            "error": error,
            "minutes": max(1, math.ceil(wait / 60)),
            "next": safe_next(request.query_params.get("next")),
            "signin_token": token,
        },
        status,
    )
    set_cookie(request, response, SIGNIN_COOKIE, token, max_age=3600)
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request) -> Response:
    visitor = await visitor_or_none(request)
    if visitor is not None and not visitor.second_factor_due:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _signin_form(request)


def _check(
    portal: Portal, email: str, password: str, address: str
) -> tuple[str, float, str | None]:
    """("ok"|"wrong"|"wait", seconds to wait, user id)."""
    account_key = "=" + email.strip().lower()
    wait = max(portal.signin_failures.wait("@" + address), portal.signin_failures.wait(account_key))
    if wait > 0:
        return "wait", wait, None
    user = portal.store.credentials.check_password(email, password)
    if user is None:
        portal.signin_failures.take("@" + address)
        portal.signin_failures.take(account_key)
        portal.audit(
            None, None, "sign-in-failed", None, email=email.strip().lower()[:320], address=address
        )
        return "wrong", 0, None
    return "ok", 0, user.id


@router.post("/sign-in")
async def sign_in(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    signin_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    portal = portal_of(request)
    cookie = request.cookies.get(SIGNIN_COOKIE, "")
    if not same_origin(request) or not cookie or signin_token != cookie:
        raise PageError(403, "csrf")
    address = portal.address(request)
    outcome, wait, user_id = await run_in_threadpool(_check, portal, email, password, address)
    if outcome == "wait":
        return _signin_form(request, email, "too-many", wait, status=429)
    if outcome == "wrong" or user_id is None:
        return _signin_form(request, email, "wrong", status=401)
    old = request.cookies.get(session_cookie(request))
    if old:
        await run_in_threadpool(portal.store.web_sessions.revoke, old)
    token = await run_in_threadpool(
        portal.store.web_sessions.create,
        user_id,
        portal.lifetime,
        False,
        address,
        request.headers.get("user-agent"),
    )
    account = await run_in_threadpool(portal.store.credentials.account, user_id)
    assert account is not None
    await run_in_threadpool(
        portal.audit, user_id, account.user.org_id, "sign-in", None, address=address
    )
    target = safe_next(next)
    if account.totp_enabled:
        target = "/sign-in/totp?next=" + target
    elif account.totp_required:
        target = "/account/totp"
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, session_cookie(request), token, max_age=None)
    response.delete_cookie(SIGNIN_COOKIE, path="/")
    return response


async def _half_signed_in(request: Request) -> Visitor:
    visitor = await visitor_or_none(request)
    if visitor is None:
        raise Redirect("/sign-in")
    return visitor


@router.get("/sign-in/totp")
async def totp_page(
    request: Request, visitor: Annotated[Visitor, Depends(_half_signed_in)]
) -> Response:
    if not visitor.account.totp_enabled:
        raise Redirect("/account/totp" if visitor.second_factor_due else "/")
    return page(request, visitor, "totp.html", _totp_context(visitor, request))


def _totp_context(
    visitor: Visitor, request: Request, error: str | None = None
) -> dict[str, object]:
    return {
        "csrf": visitor.session.csrf,
        "error": error,
        "next": safe_next(request.query_params.get("next")),
    }


@router.post("/sign-in/totp")
async def totp_check(
    request: Request, visitor: Annotated[Visitor, Depends(_half_signed_in)]
) -> Response:
    form = await posted(request, visitor)
    portal = portal_of(request)
    address = portal.address(request)
    key = "=" + visitor.account.user.email
    wait = max(portal.signin_failures.wait("@" + address), portal.signin_failures.wait(key))
    if wait > 0:
        context = _totp_context(visitor, request, "too-many")
        context["minutes"] = max(1, math.ceil(wait / 60))
        return page(request, visitor, "totp.html", context, 429)
    code = str(form.get("code") or "")[:12]
    ok = await run_in_threadpool(portal.store.credentials.verify_totp, visitor.user_id, code)
    if not ok:
        portal.signin_failures.take("@" + address)
        portal.signin_failures.take(key)
        await run_in_threadpool(
            portal.audit,
            visitor.user_id,
            visitor.org_id,
            "sign-in-failed",
            None,
            second_factor=True,
            address=address,
        )
        return page(
            request, visitor, "totp.html", _totp_context(visitor, request, "wrong-code"), 401
        )
    await run_in_threadpool(portal.store.web_sessions.pass_second_factor, visitor.token)
    return RedirectResponse(safe_next(str(form.get("next") or "/")), status_code=303)


@router.get("/account/totp")
async def totp_setup_page(
    request: Request, visitor: Annotated[Visitor, Depends(_half_signed_in)]
) -> Response:
    if visitor.second_factor_due and visitor.account.totp_enabled:
        raise Redirect("/sign-in/totp")
    portal = portal_of(request)
    secret = portal.store.credentials.new_totp_secret()
    return page(request, visitor, "totp_setup.html", _setup_context(visitor, secret))


def _setup_context(visitor: Visitor, secret: str, error: str | None = None) -> dict[str, object]:
    return {
        "csrf": visitor.session.csrf,
        "secret": secret,
        "grouped": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "uri": portal_uri(visitor, secret),
        "error": error,
        "required": visitor.account.totp_required,
    }


def portal_uri(visitor: Visitor, secret: str) -> str:
    from accord.store.credentials import Credentials

    return Credentials.totp_uri(secret, visitor.account.user.email)


@router.post("/account/totp")
async def totp_setup(
    request: Request, visitor: Annotated[Visitor, Depends(_half_signed_in)]
) -> Response:
    if visitor.second_factor_due and visitor.account.totp_enabled:
        raise Redirect("/sign-in/totp")
    form = await posted(request, visitor)
    portal = portal_of(request)
    secret = str(form.get("secret") or "")[:64]
    code = str(form.get("code") or "")[:12]
    password = str(form.get("password") or "")[:2048]
    user = await run_in_threadpool(
        portal.store.credentials.check_password, visitor.account.user.email, password
    )
    if user is None or user.id != visitor.user_id:
        return page(
            request,
            visitor,
            "totp_setup.html",
            _setup_context(visitor, secret, "wrong-password"),
            401,
        )
    ok = await run_in_threadpool(
        portal.store.credentials.enable_totp, visitor.user_id, secret, code
    )
    if not ok:
        return page(
            request, visitor, "totp_setup.html", _setup_context(visitor, secret, "wrong-code"), 422
        )
    await run_in_threadpool(portal.store.web_sessions.pass_second_factor, visitor.token)
    await run_in_threadpool(
        portal.audit, visitor.user_id, visitor.org_id, "admin", visitor.user_id, totp="enabled"
    )
    return RedirectResponse("/account?done=totp", status_code=303)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    visitor = await visitor_or_none(request)
    if visitor is not None:
        await posted(request, visitor)
        portal = portal_of(request)
        await run_in_threadpool(portal.store.web_sessions.revoke, visitor.token)
        await run_in_threadpool(portal.audit, visitor.user_id, visitor.org_id, "sign-out", None)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(session_cookie(request), path="/")
    return response


@router.get("/account")
async def account_page(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    return page(request, visitor, "account.html", await _account_context(request, visitor))


async def _account_context(
    request: Request, visitor: Visitor, **extra: object
) -> dict[str, object]:
    portal = portal_of(request)
    sessions = await run_in_threadpool(portal.store.web_sessions.of_user, visitor.user_id)
    context: dict[str, object] = {
        "sessions": sessions,
        "this_session": visitor.session.id,
        "zones": COMMON_ZONES,
        "done": request.query_params.get("done"),
        "error": None,
    }
    context.update(extra)
    return context


COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Madrid",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Rome",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Kyiv",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Santiago",
    "America/Argentina/Buenos_Aires",
    "America/Sao_Paulo",
    "Africa/Lagos",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)


@router.post("/account")
async def account_save(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    form = await posted(request, visitor)
    portal = portal_of(request)
    action = str(form.get("action") or "")
    if action == "preferences":
        language = str(form.get("language") or "")
        zone = str(form.get("time_zone") or "")
        chosen_language = language if language in i18n.LANGUAGES else None
        chosen_zone = zone if zone and i18n.zone(zone).key == zone else None
        await run_in_threadpool(
            portal.store.credentials.set_preferences, visitor.user_id, chosen_language, chosen_zone
        )
        return RedirectResponse("/account?done=preferences", status_code=303)
    if action == "password":
        current = str(form.get("current") or "")[:2048]
        new = str(form.get("new") or "")[:2048]
        user = await run_in_threadpool(
            portal.store.credentials.check_password, visitor.account.user.email, current
        )
        if user is None or user.id != visitor.user_id:
            context = await _account_context(request, visitor, error="wrong-password")
            return page(request, visitor, "account.html", context, 401)
        try:
            await run_in_threadpool(portal.store.credentials.set_password, visitor.user_id, new)
        except WeakPassword as exc:
            context = await _account_context(request, visitor, error="weak-password", weak=str(exc))
            return page(request, visitor, "account.html", context, 422)
        await run_in_threadpool(
            portal.store.web_sessions.revoke_user, visitor.user_id, visitor.token
        )
        await run_in_threadpool(
            portal.audit,
            visitor.user_id,
            visitor.org_id,
            "admin",
            visitor.user_id,
            password="changed",
        )
        return RedirectResponse("/account?done=password", status_code=303)
    if action == "end-session":
        session_id = str(form.get("session") or "")[:12]
        if len(session_id) == 12:
            await run_in_threadpool(
                portal.store.web_sessions.revoke_by_id, visitor.user_id, session_id
            )
        return RedirectResponse("/account?done=session", status_code=303)
    raise PageError(422, "bad-form")
