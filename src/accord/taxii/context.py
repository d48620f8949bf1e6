"""What the TAXII routes share: the node (store, settings, authenticator), the caller, and
the TAXII 2.1 framing of every answer (section 1.6.8 media types, section 3.4 headers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response

from accord.intel import read_audit
from accord.model.visibility import Viewer
from accord.settings import Settings
from accord.store.node import Store
from accord.store.organisations import User
from accord.store.taxii import Entry
from accord.taxii.errors import TaxiiError
from accord.taxii.media import TAXII_21, acceptable


class Caller(Protocol):
    """Who is calling, as the node's authenticator answers it."""

    @property
    def user(self) -> User | None: ...

    @property
    def viewer(self) -> Viewer: ...


class Authenticator(Protocol):
    """The node's authenticator (``accord.api.auth.Authenticator``): raises an exception
    with an HTTP ``status`` (and ``detail``, ``headers``) when the caller is not let in."""

    def caller(self, request: Request, anonymous_ok: bool) -> Caller:
        """The caller of ``request`` (its Authorization header, its client address for the
        limits on failed authentications)."""
        ...


@dataclass(frozen=True, slots=True)
class TaxiiNode:
    """What the TAXII routes share; kept on the application's state."""

    store: Store
    settings: Settings
    authenticator: Authenticator

    def caller(self, request: Request) -> Caller:
        """The authenticated caller; the authenticator's refusals become TAXII errors."""
        try:
            return self.authenticator.caller(request, anonymous_ok=False)
        except Exception as exc:
            status = getattr(exc, "status", None)
            if not isinstance(status, int) or not 400 <= status < 500:
                raise
            headers = dict(getattr(exc, "headers", None) or {})
            if status == 401:
                headers["WWW-Authenticate"] = 'Basic realm="accord", Bearer realm="accord"'
            raise TaxiiError(status, str(getattr(exc, "detail", exc)), headers) from None


def taxii_node(request: Request) -> TaxiiNode:
    node = request.app.state.taxii
    assert isinstance(node, TaxiiNode)
    return node


def begin(request: Request) -> tuple[TaxiiNode, Caller]:
    """Negotiate (406 for an Accept this server cannot answer) and authenticate."""
    if not acceptable(request.headers.get("accept")):
        raise TaxiiError(
            406, f"this server answers in {TAXII_21}; the Accept header asks for something else"
        )
    node = taxii_node(request)
    return node, node.caller(request)


def taxii_response(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(body, status, headers=headers, media_type=TAXII_21)


def date_added_headers(entries: Sequence[Entry]) -> dict[str, str]:
    """``X-TAXII-Date-Added-First`` and ``-Last`` of a page (TAXII 2.1 section 3.4)."""
    if not entries:
        return {}
    return {
        "X-TAXII-Date-Added-First": entries[0].date_added,
        "X-TAXII-Date-Added-Last": entries[-1].date_added,
    }


def audit_reads(node: TaxiiNode, caller: Caller, entries: Sequence[Entry], via: str) -> None:
    """Reads of AMBER and above are recorded, as on the REST API (`accord.intel.read_audit`)."""
    user_id = caller.user.id if caller.user else None
    read_audit.audit_reads(node.store, caller.viewer, user_id, entries, via)
