"""Organisations, users and API keys. Who may act on which account is one rule,
`accord.model.roles.may_act_on`: node admins on everyone; org-admins on the users of their own
organisation ranked below them (analysts, readers, sensors); everyone on their own keys.
Anyone may list organisations. Every change is audited.

A user or key the caller may not act on answers exactly like one that does not exist (404,
same body): the answers do not tell an org-admin which addresses or keys exist elsewhere."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from accord.api.auth import Caller
from accord.api.context import Node, caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.routes.objects import ERRORS
from accord.api.schemas import KeyOut, OrganisationIn, OrganisationOut, UserIn, UserOut
from accord.model.roles import Role, may_act_on, may_manage
from accord.store.organisations import AlreadyExists, NotFound, User

router = APIRouter(tags=["administration"], route_class=JsonRoute)


def _user_json(user: User, key: str | None = None) -> dict[str, object]:
    found: dict[str, object] = {
        "id": user.id,
        "email": user.email,
        "organisation": user.org_id,
        "role": user.role.value,
    }
    if key is not None:
        found["api_key"] = key
    return found


@router.get("/organisations", response_model=list[OrganisationOut], responses=ERRORS)
def list_organisations(
    request: Request, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    orgs = node_of(request).store.directory.orgs()
    return JSONResponse(
        [{"id": o.id, "name": o.name, "sector": o.sector, "country": o.country} for o in orgs]
    )


@router.post("/organisations", response_model=OrganisationOut, responses=ERRORS, status_code=201)
def add_organisation(
    request: Request, body: OrganisationIn, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    caller.require(Role.ADMIN)
    node = node_of(request)
    try:
        org = node.store.directory.add_org(body.name, body.sector, body.country)
    except AlreadyExists as exc:
        raise Problem(409, str(exc), [{"pointer": "/name", "detail": str(exc)}]) from None
    node.audit(caller, "admin", org.id, change="add organisation", name=org.name)
    return JSONResponse(
        {"id": org.id, "name": org.name, "sector": org.sector, "country": org.country},
        status_code=201,
    )


@router.get("/users", response_model=list[UserOut], responses=ERRORS)
def list_users(request: Request, caller: Annotated[Caller, Depends(caller_of)]) -> JSONResponse:
    user = caller.require(Role.ADMIN, Role.ORG_ADMIN)
    org = None if user.role == Role.ADMIN else user.org_id
    store = node_of(request).store
    users = store.directory.users(org)
    states = store.credentials.states(org)  # whether each may sign in to the portal
    listed = []
    for u in users:
        found = _user_json(u)
        state = states.get(u.id)
        if state is not None:
            found["has_password"] = state.has_password
            found["totp_enabled"] = state.totp_enabled
        listed.append(found)
    return JSONResponse(listed)


@router.post("/users", response_model=UserOut, responses=ERRORS, status_code=201)
def add_user(
    request: Request, body: UserIn, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    node = node_of(request)
    try:
        org = node.store.directory.org(body.organisation)
    except NotFound as exc:
        raise Problem(422, str(exc), [{"pointer": "/organisation", "detail": str(exc)}]) from None
    role = Role(body.role)
    if not may_manage(caller.require(), role, org.id):
        raise Problem(
            403,
            f"{caller.require().role.with_article} may not add a user with role {role.value} "
            f"to {org.name}: node admins add anyone, org-admins the analysts, readers and "
            "sensors of their own organisation",
        )
    try:
        user, key = node.store.directory.add_user(body.email, org.id, role)
    except AlreadyExists as exc:
        raise Problem(409, str(exc), [{"pointer": "/email", "detail": str(exc)}]) from None
    node.audit(caller, "admin", user.id, change="add user", email=user.email, role=role.value)
    return JSONResponse(_user_json(user, key), status_code=201)


@router.get("/users/{email}/keys", response_model=list[KeyOut], responses=ERRORS)
def list_keys(
    request: Request, email: str, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    node = node_of(request)
    target = _own_or_managed(node, caller, email)
    keys = node.store.directory.keys(target.id)
    return JSONResponse([{"id": k, "created": c, "revoked": r} for k, c, r in keys])


@router.post("/users/{email}/keys", response_model=KeyOut, responses=ERRORS, status_code=201)
def new_key(
    request: Request, email: str, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    node = node_of(request)
    target = _own_or_managed(node, caller, email)
    key = node.store.directory.new_key(target.email)
    key_id = key.split("_")[1]
    node.audit(caller, "admin", target.id, change="new key", key=key_id)
    created = node.store.directory.keys(target.id)[-1][1]
    return JSONResponse(
        {"id": key_id, "created": created, "revoked": False, "api_key": key}, status_code=201
    )


@router.delete("/keys/{key_id}", status_code=204, responses=ERRORS)
def revoke_key(
    request: Request, key_id: str, caller: Annotated[Caller, Depends(caller_of)]
) -> None:
    node = node_of(request)
    directory = node.store.directory
    user = caller.require()
    owner = directory.key_owner(key_id)
    if owner is None or not may_act_on(user, owner):
        # An unknown key and one the caller may not revoke answer alike.
        raise Problem(404, f"no API key {key_id!r} that you may revoke")
    directory.revoke_key(key_id)
    node.auth.forget()
    node.audit(caller, "admin", owner.id, change="revoke key", key=key_id)


def _own_or_managed(node: Node, caller: Caller, email: str) -> User:
    """The user ``email``, whose keys the caller may handle: their own, or as a manager. An
    unknown user and one the caller may not act on answer alike (404, the same body)."""
    actor = caller.require()
    try:
        target = node.store.directory.user(email)
    except NotFound:
        target = None
    if target is None or not may_act_on(actor, target):
        raise Problem(404, f"no user {email!r} whose keys you may manage")
    return target
