"""An organisation's webhooks (docs/webhooks.md): list, add, look at and remove them.

Who may is one rule, `accord.model.roles.may_keep_webhooks`: the node admin for every
organisation, an org-admin for their own. A webhook is added in the caller's own organisation
and reads as the caller (it delivers what they may see). Another organisation's webhook
answers exactly like one that does not exist (404, the same body). Every change is audited.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from accord.api.auth import Caller
from accord.api.context import Node, caller_of, node_of
from accord.api.jsonbody import JsonRoute
from accord.api.problems import Problem
from accord.api.responses import JSONResponse
from accord.api.routes.objects import ERRORS
from accord.federation.webhook_targets import TargetRefused, resolve
from accord.model.roles import Role, may_keep_webhooks
from accord.model.tlp import Tlp
from accord.model.webhooks import WebhookFilters
from accord.store.objects import now_key
from accord.store.organisations import NotFound
from accord.store.webhooks import Webhook

router = APIRouter(tags=["webhooks"], route_class=JsonRoute)

TlpName = Literal["clear", "green", "amber", "amber+strict", "red"]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=8, max_length=2000, description="https:// (or http://) URL")
    types: list[str] = Field(default=[], max_length=100, description="STIX types; none: all")
    max_tlp: TlpName | None = Field(
        default=None, description="every TLP level up to this one (default: amber+strict)"
    )
    tlps: list[TlpName] = Field(default=[], description="or exactly these levels")
    labels: list[str] = Field(default=[], max_length=100, description="any of these; none: all")


class FiltersOut(BaseModel):
    types: list[str]
    tlps: list[str]
    labels: list[str]


class WebhookOut(BaseModel):
    id: str
    organisation: str
    user: str = Field(description="the user whose view it delivers")
    url: str
    filters: FiltersOut
    created: str
    cursor: int = Field(description="delivered up to this position of the store")
    last_success: str | None
    last_error: str | None
    failures: int = Field(description="failures in a row since the last success")
    next_attempt: str | None = Field(description="after a failure: not before then")
    delivering: bool
    secret: str | None = Field(
        default=None, description="signs the deliveries: shown once, when the webhook is added"
    )


def _managed(node: Node, caller: Caller, hook_id: str) -> Webhook:
    """The webhook ``hook_id``, if the caller may keep it; one of another organisation and
    one that does not exist answer alike."""
    user = caller.require()
    try:
        hook = node.store.webhooks.get(hook_id)
    except NotFound:
        hook = None
    if hook is None or not may_keep_webhooks(user, hook.org_id):
        raise Problem(404, f"no webhook {hook_id!r} that you may manage")
    return hook


@router.get("/webhooks", response_model=list[WebhookOut], responses=ERRORS)
def list_webhooks(request: Request, caller: Annotated[Caller, Depends(caller_of)]) -> JSONResponse:
    """The webhooks of the caller's organisation (a node admin: of every organisation)."""
    user = caller.require(Role.ADMIN, Role.ORG_ADMIN)
    org = None if user.role is Role.ADMIN else user.org_id
    now = now_key()
    return JSONResponse([hook.as_json(now) for hook in node_of(request).store.webhooks.all(org)])


@router.post("/webhooks", response_model=WebhookOut, responses=ERRORS, status_code=201)
def add_webhook(
    request: Request, body: WebhookIn, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    """Add a webhook to the caller's organisation, delivering what the caller may see. The
    answer holds its secret, which is never shown again."""
    user = caller.require(Role.ADMIN, Role.ORG_ADMIN)
    node = node_of(request)
    try:
        filters = WebhookFilters.build(
            body.types,
            None if body.max_tlp is None else Tlp.parse(body.max_tlp),
            [Tlp.parse(level) for level in body.tlps],
            body.labels,
        )
    except ValueError as exc:
        raise Problem(422, str(exc), [{"pointer": "/types", "detail": str(exc)}]) from None
    try:
        resolve(body.url, node.settings.webhook_allow_private)
    except TargetRefused as exc:
        raise Problem(422, str(exc), [{"pointer": "/url", "detail": str(exc)}]) from None
    hook, secret = node.store.webhooks.add(user, body.url, filters)
    node.audit(
        caller, "admin", hook.id, change="add webhook", url=hook.url, filters=filters.as_json()
    )
    return JSONResponse(hook.as_json(now_key()) | {"secret": secret}, status_code=201)


@router.get("/webhooks/{hook_id}", response_model=WebhookOut, responses=ERRORS)
def get_webhook(
    request: Request, hook_id: str, caller: Annotated[Caller, Depends(caller_of)]
) -> JSONResponse:
    """A webhook and how its deliveries go."""
    return JSONResponse(_managed(node_of(request), caller, hook_id).as_json(now_key()))


@router.delete("/webhooks/{hook_id}", status_code=204, responses=ERRORS)
def remove_webhook(
    request: Request, hook_id: str, caller: Annotated[Caller, Depends(caller_of)]
) -> None:
    """Remove a webhook: its deliveries stop."""
    node = node_of(request)
    hook = _managed(node, caller, hook_id)
    node.store.webhooks.remove(hook.id)
    node.audit(caller, "admin", hook.id, change="remove webhook", url=hook.url)
