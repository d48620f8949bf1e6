"""Administration of accounts: the users an administrator manages, their API keys, their
portal passwords and second factors.

Who may act on whom is `accord.model.roles`, the rule the API and the command line ask:
`may_manage` to add a user with a role to an organisation; `may_act_on` to open a user's
page, list, mint and revoke their keys, set their password and end their portal sessions;
`may_reset_second_factor` to forget their TOTP. A user or key the administrator may not act
on answers exactly like one that does not exist (the 404 page): an org-admin learns nothing
of other organisations' accounts. Lists are the API's too: a node admin sees every user, an
org-admin their organisation's (``GET /api/v1/users``).

A new key is shown once, on the page that answers the form that made it (never in an
address, never again). A password set here ends every portal session of its user. Every
change is in the audit log as the API writes it (action ``admin``, ``change`` says what).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accord.model.roles import Role, may_act_on, may_manage, may_reset_second_factor
from accord.store.credentials import WeakPassword, check_new_password
from accord.store.node import Store
from accord.store.organisations import AlreadyExists, NotFound, Organisation, User
from accord.web.pages.admin_frame import admin, admin_page, record, text
from accord.web.portal import portal_of
from accord.web.visitors import PageError, Redirect, Visitor, member, posted

router = APIRouter(include_in_schema=False)

MAX_ID = 64  # a user id is a UUID; a key id twelve hex digits


def _offered(store: Store, actor: User) -> tuple[list[Organisation], list[Role]]:
    """The organisations and roles the add-user form offers: those `may_manage` allows."""
    orgs = [o for o in store.directory.orgs() if any(may_manage(actor, r, o.id) for r in Role)]
    roles = [r for r in Role if any(may_manage(actor, r, o.id) for o in orgs)]
    return orgs, roles


def _users_context(store: Store, actor: User) -> dict[str, Any]:
    org = None if actor.role is Role.ADMIN else actor.org_id
    names = {o.id: o.name for o in store.directory.orgs()}
    states = store.credentials.states(org)
    orgs, roles = _offered(store, actor)
    return {
        "users": [
            {
                "user": user,
                "org": names.get(user.org_id, user.org_id),
                "opens": may_act_on(actor, user),
                "state": states.get(user.id),
            }
            for user in store.directory.users(org)
        ],
        "orgs": orgs,
        "roles": roles,
        "form": {},
        "error": None,
    }


@router.get("/admin")
async def users_page(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    actor = admin(visitor)
    context = await run_in_threadpool(_users_context, portal_of(request).store, actor)
    return admin_page(request, visitor, "admin_users.html", "users", context)


def _add_user(store: Store, actor: User, form: dict[str, str]) -> tuple[str, int, User | None, str]:
    """(error code or "", status, the new user, their first key)."""
    email, password = form["email"], form["password"]
    if "@" not in email or len(email) < 3:
        return "bad-email", 422, None, ""
    try:
        role = Role.parse(form["role"])
        org = store.directory.org(form["org"])
    except (ValueError, NotFound):
        return "bad-form", 422, None, ""
    if not may_manage(actor, role, org.id):
        return "not-allowed", 403, None, ""
    if password:
        try:
            check_new_password(password, email)
        except WeakPassword:
            return "weak-password", 422, None, ""
    try:
        user, key = store.directory.add_user(email, org.id, role)
    except AlreadyExists:
        return "exists", 409, None, ""
    if password:
        store.credentials.set_password(user.id, password)
    return "", 201, user, key


@router.post("/admin/users")
async def add_user(request: Request, visitor: Annotated[Visitor, Depends(member)]) -> Response:
    actor = admin(visitor)
    form = await posted(request, visitor)
    store = portal_of(request).store
    fields = {
        "email": text(form, "email").lower(),
        "org": text(form, "org", 100),
        "role": text(form, "role", 20),
        "password": str(form.get("password") or "")[:2048],
    }
    error, status, user, key = await run_in_threadpool(_add_user, store, actor, fields)
    if user is None:
        context = await run_in_threadpool(_users_context, store, actor)
        context.update(error=error, form={k: v for k, v in fields.items() if k != "password"})
        return admin_page(request, visitor, "admin_users.html", "users", context, status)
    await record(request, visitor, user.id, "add user", email=user.email, role=user.role.value)
    if fields["password"]:
        await record(request, visitor, user.id, "set password", sessions_ended=0)
    context = await run_in_threadpool(_user_context, store, actor, user)
    context.update(new_key=key, done="added")
    return admin_page(request, visitor, "admin_user.html", "users", context, status)


def _target(store: Store, actor: User, user_id: str, rule: Callable[[User, User], bool]) -> User:
    """The user ``user_id`` if ``rule`` lets ``actor`` act on them; else the missing page."""
    if len(user_id) > MAX_ID:
        raise PageError(404, "not-found")
    try:
        target = store.directory.user_by_id(user_id)
    except NotFound:
        target = None
    if target is None or not rule(actor, target):
        raise PageError(404, "not-found")
    return target


def _user_context(store: Store, actor: User, target: User) -> dict[str, Any]:
    return {
        "target": target,
        "org": store.directory.org(target.org_id),
        "account": store.credentials.account(target.id),
        "keys": store.directory.keys(target.id),
        "sessions": len(store.web_sessions.of_user(target.id)),
        "is_self": target.id == actor.id,
        "may_reset": may_reset_second_factor(actor, target),
        "new_key": None,
        "done": None,
        "error": None,
    }


async def _user_page(
    request: Request, visitor: Visitor, target: User, status: int = 200, **extra: object
) -> Response:
    store = portal_of(request).store
    context = await run_in_threadpool(_user_context, store, visitor.account.user, target)
    context.update(extra)
    return admin_page(request, visitor, "admin_user.html", "users", context, status)


@router.get("/admin/users/{user_id}")
async def user_page(
    request: Request, user_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    actor = admin(visitor)
    store = portal_of(request).store
    target = await run_in_threadpool(_target, store, actor, user_id, may_act_on)
    done = request.query_params.get("done")
    return await _user_page(request, visitor, target, done=done)


@router.post("/admin/users/{user_id}/keys")
async def new_key(
    request: Request, user_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    actor = admin(visitor)
    await posted(request, visitor)
    store = portal_of(request).store
    target = await run_in_threadpool(_target, store, actor, user_id, may_act_on)
    key = await run_in_threadpool(store.directory.new_key, target.email)
    await record(request, visitor, target.id, "new key", key=key.split("_")[1])
    return await _user_page(request, visitor, target, 201, new_key=key, done="key")


@router.post("/admin/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, key_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    actor = admin(visitor)
    await posted(request, visitor)
    portal = portal_of(request)
    owner = (
        None
        if len(key_id) > MAX_ID
        else await run_in_threadpool(portal.store.directory.key_owner, key_id)
    )
    if owner is None or not may_act_on(actor, owner):
        raise PageError(404, "not-found")  # an unknown key and another's answer alike
    await run_in_threadpool(portal.store.directory.revoke_key, key_id)
    portal.forget_keys()
    await record(request, visitor, owner.id, "revoke key", key=key_id)
    return RedirectResponse(f"/admin/users/{owner.id}?done=revoked", status_code=303)


@router.post("/admin/users/{user_id}/password")
async def set_password(
    request: Request, user_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    actor = admin(visitor)
    form = await posted(request, visitor)
    store = portal_of(request).store
    target = await run_in_threadpool(_target, store, actor, user_id, may_act_on)
    if target.id == actor.id:
        # One's own password is changed on the account page, with the present one.
        raise Redirect("/account")
    password = str(form.get("password") or "")[:2048]
    try:
        await run_in_threadpool(store.credentials.set_password, target.id, password)
    except WeakPassword:
        return await _user_page(request, visitor, target, 422, error="weak-password")
    ended = await run_in_threadpool(store.web_sessions.revoke_user, target.id)
    await record(request, visitor, target.id, "set password", sessions_ended=ended)
    return RedirectResponse(f"/admin/users/{target.id}?done=password", status_code=303)


@router.post("/admin/users/{user_id}/totp-reset")
async def reset_totp(
    request: Request, user_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    actor = admin(visitor)
    await posted(request, visitor)
    store = portal_of(request).store
    target = await run_in_threadpool(_target, store, actor, user_id, may_reset_second_factor)
    account = await run_in_threadpool(store.credentials.account, target.id)
    await run_in_threadpool(store.credentials.reset_totp, target.id)
    ended = await run_in_threadpool(store.web_sessions.revoke_user, target.id)
    await record(
        request,
        visitor,
        target.id,
        "reset second factor",
        had_totp=account is not None and account.totp_enabled,
        sessions_ended=ended,
    )
    return RedirectResponse(f"/admin/users/{target.id}?done=totp", status_code=303)


@router.post("/admin/users/{user_id}/sessions/end")
async def end_sessions(
    request: Request, user_id: str, visitor: Annotated[Visitor, Depends(member)]
) -> Response:
    """End every portal session of a user (``DELETE /api/v1/users/{email}/sessions``); their
    API keys are not touched. One's own are ended on the account page."""
    actor = admin(visitor)
    await posted(request, visitor)
    store = portal_of(request).store
    target = await run_in_threadpool(_target, store, actor, user_id, may_act_on)
    if target.id == actor.id:
        raise Redirect("/account")
    ended = await run_in_threadpool(store.web_sessions.revoke_user, target.id)
    await record(request, visitor, target.id, "end sessions", sessions_ended=ended)
    return RedirectResponse(f"/admin/users/{target.id}?done=sessions", status_code=303)
