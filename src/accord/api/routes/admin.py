"""Organisations, users and API keys. Node admins manage everything; org-admins manage the
users and keys of their own organisation; anyone may list organisations and manage their
own keys. Every change is audited."""

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
from accord.model.roles import Role
from accord.store.organisations import AlreadyExists, Directory, NotFound, User

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


def _may_manage(caller: Caller, target_org: str) -> None:
    user = caller.require()
    if user.role == Role.ADMIN:
        return
    if user.role == Role.ORG_ADMIN and user.org_id == target_org:
        return
    raise Problem(403, "only node admins, or org-admins of that organisation, may do this")


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
    users = node_of(request).store.directory.users(org)
    return JSONResponse([_user_json(u) for u in users])


@router.post("/users", response_model=UserOut, responses=ERRORS, status_code=201)
def add_user(
    request: Request, body: UserIn, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    node = node_of(request)
    try:
        org = node.store.directory.org(body.organisation)
    except NotFound as exc:
        raise Problem(422, str(exc), [{"pointer": "/organisation", "detail": str(exc)}]) from None
    _may_manage(caller, org.id)
    role = Role(body.role)
    if role == Role.ADMIN:
        caller.require(Role.ADMIN)
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
    if owner is None:
        raise Problem(404, f"no API key {key_id!r}")
    if user.id != owner.id:
        _may_manage(caller, owner.org_id)
    directory.revoke_key(key_id)
    node.auth.forget()
    node.audit(caller, "admin", owner.id, change="revoke key", key=key_id)


def _own_or_managed(node: Node, caller: Caller, email: str) -> User:
    """The user ``email``, whose keys the caller may handle: their own, or as a manager."""
    target = _target(node.store.directory, email)
    if caller.require().id != target.id:
        _may_manage(caller, target.org_id)
    return target


def _target(directory: Directory, email: str) -> User:
    try:
        return directory.user(email)
    except NotFound as exc:
        raise Problem(404, str(exc)) from None
