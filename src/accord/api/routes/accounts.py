"""The portal's sign-in, administered over the API (docs/accounts.md): a user's password,
their TOTP second factor and their portal sessions, and whether an organisation requires a
second factor. The API itself takes only keys: a password set here opens the portal, never
the API.

Who may do what is `accord.model.roles`, as for keys: a password is set, and sessions are
listed and ended, by the user themselves or by whoever manages the account (`may_act_on`); a
second factor is reset only by a manager (`may_reset_second_factor`); an organisation's
requirement is set by the node admin or that organisation's org-admins
(`may_set_org_policy`). A user the caller may not act on answers exactly like one that does
not exist (404, the same body). Every change is audited, without the secret.

Users who change their own password give the present one: an API key alone (stolen, say)
must not become a portal password that outlives the key's revocation. Wrong present
passwords count as failed authentications (`Settings.auth_failure_burst`), so the route does
not let a key holder guess the password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from accord.api.auth import Caller
from accord.api.context import Node, caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.limits import retry_after
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.routes.objects import ERRORS
from accord.api.schemas import PasswordIn, RequireTotpIn, RequireTotpOut, SessionOut
from accord.model.roles import may_act_on, may_reset_second_factor, may_set_org_policy
from accord.store.credentials import WeakPassword, check_new_password
from accord.store.organisations import NotFound, Organisation, User

router = APIRouter(tags=["accounts"], route_class=JsonRoute)


@router.put("/users/{email}/password", status_code=204, responses=ERRORS)
def set_password(
    request: Request, email: str, body: PasswordIn, caller: Annotated[Caller, Depends(caller_of)]
) -> None:
    """Set a user's portal password and end every portal session of theirs (a new password
    signs out everywhere). Users changing their own send `current_password` too."""
    node = node_of(request)
    target = _account(node, caller, email, may_act_on)
    if target.id == caller.require().id:
        _check_present_password(node, request, target, body.current_password)
    try:
        check_new_password(body.password, target.email)
    except WeakPassword as exc:
        raise Problem(422, str(exc), [{"pointer": "/password", "detail": str(exc)}]) from None
    node.store.credentials.set_password(target.id, body.password)
    ended = node.store.web_sessions.revoke_user(target.id)
    node.audit(caller, "admin", target.id, change="set password", sessions_ended=ended)


@router.delete("/users/{email}/totp", status_code=204, responses=ERRORS)
def reset_totp(request: Request, email: str, caller: Annotated[Caller, Depends(caller_of)]) -> None:
    """Forget a user's TOTP second factor (a lost phone) and end their portal sessions. Only
    whoever manages the account may: never its own user."""
    node = node_of(request)
    if email.strip().lower() == caller.require().email:
        raise Problem(
            403,
            "your own second factor is reset by whoever manages your account (an org-admin "
            "of your organisation, or the node admin)",
        )
    target = _account(node, caller, email, may_reset_second_factor)
    account = node.store.credentials.account(target.id)
    had = account is not None and account.totp_enabled
    node.store.credentials.reset_totp(target.id)
    ended = node.store.web_sessions.revoke_user(target.id)
    node.audit(
        caller,
        "admin",
        target.id,
        change="reset second factor",
        had_totp=had,
        sessions_ended=ended,
    )


@router.get("/users/{email}/sessions", response_model=list[SessionOut], responses=ERRORS)
def list_sessions(
    request: Request, email: str, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    """A user's portal sessions, newest first (their tokens are never kept)."""
    node = node_of(request)
    target = _account(node, caller, email, may_act_on)
    return JSONResponse(
        [
            {"id": i, "created": c, "last_seen": s, "address": a, "user_agent": u}
            for i, c, s, a, u in node.store.web_sessions.of_user(target.id)
        ]
    )


@router.delete("/users/{email}/sessions", status_code=204, responses=ERRORS)
def end_sessions(
    request: Request, email: str, caller: Annotated[Caller, Depends(caller_of)]
) -> None:
    """End every portal session of a user (API keys are not touched)."""
    node = node_of(request)
    target = _account(node, caller, email, may_act_on)
    ended = node.store.web_sessions.revoke_user(target.id)
    node.audit(caller, "admin", target.id, change="end sessions", sessions_ended=ended)


@router.get(
    "/organisations/{organisation}/require-totp",
    response_model=RequireTotpOut,
    responses=ERRORS,
)
def get_require_totp(
    request: Request, organisation: str, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    """Whether an organisation requires a second factor of its users in the portal: for the
    node admin and the organisation's own members."""
    node = node_of(request)
    org = _organisation(node, organisation)
    user = caller.require()
    if not may_set_org_policy(user, org.id) and user.org_id != org.id:
        raise Problem(403, f"only {org.name}'s members and the node admin may read this")
    required = org.id in node.store.credentials.orgs_requiring_totp()
    return JSONResponse({"organisation": org.id, "name": org.name, "required": required})


@router.put(
    "/organisations/{organisation}/require-totp",
    response_model=RequireTotpOut,
    responses=ERRORS,
)
def set_require_totp(
    request: Request,
    organisation: str,
    body: RequireTotpIn,
    caller: Annotated[Caller, Depends(caller_of)],
) -> JSONResponse:
    """Require a TOTP second factor of an organisation's users in the portal, or stop. When
    it is turned on, its users' portal sessions without a second factor end. For the node
    admin, and an org-admin for their own organisation."""
    node = node_of(request)
    org = _organisation(node, organisation)
    user = caller.require()
    if not may_set_org_policy(user, org.id):
        # Organisations are public (`GET /organisations`): a refusal reveals nothing.
        raise Problem(
            403,
            f"{user.role.with_article} may not change what {org.name} requires to sign in "
            "(the node admin, or an org-admin of the organisation)",
        )
    node.store.credentials.require_totp(org.id, body.required)
    ended = node.store.web_sessions.revoke_without_second_factor(org.id) if body.required else 0
    node.audit(
        caller,
        "admin",
        org.id,
        change="require second factor" if body.required else "second factor optional",
        sessions_ended=ended,
    )
    return JSONResponse(
        {
            "organisation": org.id,
            "name": org.name,
            "required": body.required,
            "sessions_ended": ended,
        }
    )


def _account(node: Node, caller: Caller, email: str, rule: Callable[[User, User], bool]) -> User:
    """The user ``email``, if the caller may do this to them by ``rule``. An unknown user and
    one the caller may not act on answer alike (404, the same body)."""
    actor = caller.require()
    try:
        target = node.store.directory.user(email)
    except NotFound:
        target = None
    if target is None or not rule(actor, target):
        raise Problem(404, f"no user {email!r} whose account you may manage")
    return target


def _organisation(node: Node, name_or_id: str) -> Organisation:
    try:
        return node.store.directory.org(name_or_id)
    except NotFound:
        raise Problem(404, f"no organisation {name_or_id!r}") from None


def _check_present_password(node: Node, request: Request, user: User, present: str | None) -> None:
    """Users who change their own password prove they know the present one; a wrong one
    counts as a failed authentication, per address and account, like a wrong key."""
    failures = node.auth.failures
    counted = ("@" + node.auth.address(request), "=user:" + user.email)
    wait = max(failures.wait(key) for key in counted)
    if wait > 0:
        raise Problem(
            429,
            f"too many failed authentications; try again in {wait:.0f} s",
            headers=retry_after(wait),
        )
    account = node.store.credentials.account(user.id)
    if account is None or not account.has_password:
        raise Problem(
            403,
            "you have no portal password yet: your first one is set by whoever manages your "
            "account (an org-admin of your organisation, or the node admin)",
        )
    if not present:
        detail = "give your present password to change your own"
        raise Problem(422, detail, [{"pointer": "/current_password", "detail": detail}])
    if node.store.credentials.check_password(user.email, present) is None:
        for key in counted:
            failures.take(key)
        raise Problem(403, "the present password is not right")
