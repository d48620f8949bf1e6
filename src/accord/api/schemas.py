"""The request and response shapes the OpenAPI document describes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ProblemItem(BaseModel):
    pointer: str = Field(description="JSON pointer (RFC 6901) to the offending field")
    detail: str


class ProblemDoc(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemItem] | None = None


class ObjectProblem(BaseModel):
    pointer: str
    property: str | None
    reason: str


class ObjectResult(BaseModel):
    index: int
    id: str | None
    type: str | None
    status: Literal["stored", "duplicate", "rejected", "not stored"]
    problems: list[ObjectProblem] = []
    warnings: list[ObjectProblem] = Field(
        default=[],
        description="stored all the same: e.g. a YARA or Sigma pattern that may "
        "not be valid (other tools' dialects vary)",
    )


class IngestResult(BaseModel):
    stored: int
    duplicates: int
    rejected: int
    not_stored: int
    spec_version: str | None
    objects: list[ObjectResult]


class ObjectPage(BaseModel):
    objects: list[dict[str, Any]]
    next: str | None = Field(description="cursor for the next page; absent on the last")


class ReasonDoc(BaseModel):
    relation: str
    via: str
    id: str
    type: str
    name: str | None
    tlp: str
    pattern: str | None = None
    confidence: int | None = None
    revoked: bool | None = None
    expired: bool | None = None
    benign: bool | None = None


class RelatedDoc(BaseModel):
    id: str
    type: str
    name: str | None
    tlp: str
    relationship: str
    attack_id: str | None = None


class ListHitDoc(BaseModel):
    source: Literal["warninglist", "allowlist"]
    name: str
    benign: bool = Field(description='the list\'s class is "benign" (kept for older clients)')
    class_: Literal["benign", "context"] = Field(
        alias="class",
        description='"benign": its values are benign by nature, it damps the score; '
        '"context": shared infrastructure (cloud, VPN, hosting, ...), shown only',
    )
    reason: str = Field(description="why the list has its class (docs/warninglists.md)")
    effect: Literal["damped", "none"] = Field(description="what it did to the score")
    score_factor: float = Field(description="0.3 when damped, else 1")
    via_parent: bool = Field(description="only a parent domain is on the list")
    note: str = Field(description="the effect, explained for people")


class LookupAnswer(BaseModel):
    query: str
    type: str | None
    value: str | None
    verdict: Literal["malicious", "suspicious", "benign", "unknown"]
    score: int = Field(ge=0, le=100)
    reasons: list[ReasonDoc]
    reasons_total: int = Field(description="reasons found; the strongest 50 are listed")
    first_seen: str | None
    last_seen: str | None
    sightings: int
    reporting_organisations: int
    related: list[RelatedDoc]
    lists: list[ListHitDoc]
    error: str | None = None


class BulkLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: list[str] = Field(min_length=1, max_length=10_000)
    type: str | None = Field(default=None, description="value type for all; detected if absent")


class BulkAnswer(BaseModel):
    answers: list[LookupAnswer]


class SightingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str | None = Field(default=None, description="a value the organisation saw")
    indicator: str | None = Field(default=None, description="or the id of an indicator it saw")
    count: int = Field(default=1, ge=1, le=999_999_999)
    first_seen: str | None = None
    last_seen: str | None = None
    tlp: Literal["clear", "green", "amber", "amber+strict", "red"] | None = Field(
        default=None, description="TLP of the sighting; node default if absent"
    )
    kind: Literal["seen", "false-positive", "expired"] = Field(
        default="seen", description="what was seen: docs/scoring.md"
    )
    anonymous: bool = Field(
        default=False,
        description="counted for everyone who may see the indicator; your organisation is "
        "not named (needs an indicator, or a value one you may see matches)",
    )


class SightingOut(BaseModel):
    created: list[str]
    sighted: list[str] = Field(description="indicators the sighting refers to")


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    sector: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, min_length=2, max_length=2)


class OrganisationOut(BaseModel):
    id: str
    name: str
    sector: str | None
    country: str | None


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    organisation: str = Field(description="organisation name or identity id")
    role: Literal["admin", "org-admin", "analyst", "reader", "sensor"] = "analyst"


class UserOut(BaseModel):
    id: str
    email: str
    organisation: str
    role: str
    api_key: str | None = Field(default=None, description="shown once, when created")
    has_password: bool | None = Field(
        default=None, description="the user has a portal password (in listings)"
    )
    totp_enabled: bool | None = Field(
        default=None, description="the user has a TOTP second factor (in listings)"
    )


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(
        description="the new portal password: 12 to 1024 characters, not the e-mail address"
    )
    current_password: str | None = Field(
        default=None,
        description="the user's present password: needed when users change their own",
    )


class SessionOut(BaseModel):
    id: str = Field(description="a name for the session (not its token)")
    created: str
    last_seen: str
    address: str | None
    user_agent: str | None


class RequireTotpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    required: bool = Field(description="the organisation's users need a TOTP second factor")


class RequireTotpOut(BaseModel):
    organisation: str
    name: str
    required: bool
    sessions_ended: int | None = Field(
        default=None,
        description="portal sessions ended because they gave no second factor (on a change)",
    )


class KeyOut(BaseModel):
    id: str
    created: str
    revoked: bool
    api_key: str | None = None


class AuditEntryDoc(BaseModel):
    seq: int
    at: str
    user_id: str | None
    org_id: str | None
    action: str
    target: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditEntryDoc]
    next: str | None


class PeerIn(BaseModel):
    """A peer node to add (or change): `accord peer add` over the API."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, description="a short name for the peer")
    url: str | None = Field(
        default=None, max_length=2048, description="the peer's TAXII 2.1 API root"
    )
    key: str | None = Field(
        default=None, max_length=2048, description="the API key the peer gave this node"
    )
    card: dict[str, Any] | None = Field(
        default=None, description="the peer's card (`accord node card` there); else fetched"
    )
    ca_file: str | None = Field(
        default=None,
        max_length=4096,
        description="absolute path on this node of the CA certificates for the peer's TLS",
    )
    pull: bool = False
    push: bool = False
    community: bool = Field(default=False, description="GREEN crosses to the peer")
    interval: int | None = Field(
        default=None, ge=5, le=31_536_000, description="seconds between scheduled runs"
    )
    collection: str | None = Field(
        default=None, min_length=1, max_length=300, description="the peer's collection id"
    )
    new_key: bool = Field(default=False, description="mint a new key for the peer's account")


class PeerOut(BaseModel):
    """A peer as listed: never the key this node presents to it."""

    name: str
    url: str | None
    collection: str
    node_id: str
    operator_org: str
    hosted_organizations: list[str]
    pull: bool
    push: bool
    community: bool
    interval: int | None
    has_key: bool
    ca_file: str | None
    created: str


class PeerAdded(PeerOut):
    account: str = Field(description="the peer's account on this node (role peer)")
    account_key: str | None = Field(
        description="a key for that account, shown once, for `accord peer add` on the peer"
    )


class PeerStatusOut(BaseModel):
    name: str
    pull: bool
    push: bool
    last_pull: str | None
    pull_lag_seconds: float | None
    last_pull_error: str | None
    pull_cursor: str | None
    last_push: str | None
    push_lag_seconds: float | None
    last_push_error: str | None
    push_cursor: str | None
    last_attempt: str | None


class SyncReportOut(BaseModel):
    """One pull or push, as `accord peer pull --json` reports it."""

    peer: str
    direction: Literal["pull", "push"]
    pages: int
    objects: int = Field(description="received (pull) or sent (push)")
    stored: int
    duplicates: int
    refused: int
    refusals: list[str] = Field(description="the first reasons, for people")
    cursor: str | None
    error: str | None
    seconds: float
