"""A small TAXII 2.1 client over httpx, for pulling feeds (``accord feed pull``).

It speaks to any TAXII 2.1 server (Accord, medallion, ...): server discovery (section 4.1),
collections (5.1), objects with ``added_after``, ``match[...]``, ``limit`` and ``next``
(5.4, sections 3.4 and 3.5), reading the ``X-TAXII-Date-Added-First`` and ``-Last``
headers, and adding objects (5.5). Authentication is HTTP Basic (user and password) or a
Bearer key.

Over HTTPS the server's certificate is always verified (`accord.federation.tls`): against the
system's trust store, or against ``ca_file``'s CAs only. A refused handshake is a
`TaxiiClientError` that names the cause (expired, unknown CA, hostname mismatch).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from accord.federation.tls import TlsFileError, client_context, handshake_failure

# The TAXII 2.1 media type (section 1.6.8), spelt here too so that the client, which talks to
# any TAXII server over HTTP, needs nothing of the server package (accord.taxii.media).
TAXII_21 = "application/taxii+json;version=2.1"


class TaxiiClientError(Exception):
    """A TAXII server answered with an error (or not in TAXII)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status


@dataclass(slots=True)
class Page:
    """One page of a listing."""

    objects: list[dict[str, Any]]
    more: bool
    next: str | None
    first_added: str | None  # X-TAXII-Date-Added-First
    last_added: str | None  # X-TAXII-Date-Added-Last
    raw: dict[str, Any] = field(default_factory=dict)


class TaxiiClient:
    """A connection to one API root. ``url`` may also be the server's discovery URL
    (``.../taxii2/``): its default API root is used. ``ca_file``: a PEM file of the CAs that
    may vouch for the server's certificate (None: the system's trust store)."""

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        key: str | None = None,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        ca_file: str | None = None,
    ) -> None:
        headers = {"Accept": TAXII_21}
        auth: httpx.Auth | None = None
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        elif username is not None:
            auth = httpx.BasicAuth(username, password or "")
        try:
            verify = client_context(ca_file)
        except TlsFileError as exc:
            raise TaxiiClientError(0, str(exc)) from None
        self.ca_file = ca_file
        self.http = httpx.Client(
            headers=headers, auth=auth, timeout=timeout, transport=transport, verify=verify
        )
        self.url = url if url.endswith("/") else url + "/"
        self._root: str | None = None

    def __enter__(self) -> TaxiiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # -- requests ---------------------------------------------------------------------------

    def _unreachable(self, url: str, exc: httpx.TransportError) -> TaxiiClientError:
        tls = handshake_failure(exc, self.ca_file)
        if tls is not None:
            return TaxiiClientError(0, f"TLS with {url} refused: {tls}")
        return TaxiiClientError(0, f"cannot reach {url}: {exc}")

    def _check(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            try:
                body = orjson.loads(response.content)
                message = str(body.get("description") or body.get("title") or body)
            except (orjson.JSONDecodeError, AttributeError):
                message = response.text[:300] or response.reason_phrase
            raise TaxiiClientError(response.status_code, message)
        kind = response.headers.get("content-type", "").replace(" ", "").lower()
        if response.content and not kind.startswith("application/taxii+json"):
            raise TaxiiClientError(
                response.status_code, f"{response.url} answered {kind or 'no type'}, not TAXII"
            )

    def _get(self, url: str, params: Any = None) -> httpx.Response:
        try:
            response = self.http.get(url, params=params)
        except httpx.TransportError as exc:
            raise self._unreachable(url, exc) from None
        self._check(response)
        return response

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            value = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError:
            raise TaxiiClientError(
                response.status_code, f"{response.url} answered no JSON"
            ) from None
        if not isinstance(value, dict):
            raise TaxiiClientError(response.status_code, "expected a JSON object")
        return value

    @property
    def root(self) -> str:
        """The API root URL (resolving a discovery URL to its default root once)."""
        if self._root is None:
            found = self._json(self._get(self.url))
            if "api_roots" in found and "versions" not in found:
                default = found.get("default") or (found.get("api_roots") or [None])[0]
                if not default:
                    raise TaxiiClientError(0, f"{self.url} names no API root")
                self._root = urljoin(self.url, str(default))
                if not self._root.endswith("/"):
                    self._root += "/"
            else:
                self._root = self.url
        return self._root

    def api_root(self) -> dict[str, Any]:
        """The API root resource (section 4.2): also a cheap check that the server answers
        and takes our credentials."""
        return self._json(self._get(self.root))

    def discovery(self) -> dict[str, Any]:
        return self._json(self._get(self.url))

    def collections(self) -> list[dict[str, Any]]:
        found = self._json(self._get(self.root + "collections/")).get("collections", [])
        return list(found) if isinstance(found, list) else []

    def objects_page(
        self,
        collection: str,
        added_after: str | None = None,
        next_token: str | None = None,
        limit: int | None = None,
        match: Mapping[str, str | Sequence[str]] | None = None,
    ) -> Page:
        params: list[tuple[str, str]] = []
        if added_after is not None:
            params.append(("added_after", added_after))
        if limit is not None:
            params.append(("limit", str(limit)))
        if next_token is not None:
            params.append(("next", next_token))
        for name, value in (match or {}).items():
            text = value if isinstance(value, str) else ",".join(value)
            params.append((f"match[{name}]", text))
        response = self._get(f"{self.root}collections/{collection}/objects/", params)
        body = self._json(response)
        objects = body.get("objects") or []
        return Page(
            objects=[o for o in objects if isinstance(o, dict)],
            more=bool(body.get("more", False)),
            next=body.get("next") or None,
            first_added=response.headers.get("x-taxii-date-added-first"),
            last_added=response.headers.get("x-taxii-date-added-last"),
            raw=body,
        )

    def pages(
        self,
        collection: str,
        added_after: str | None = None,
        limit: int | None = None,
        match: Mapping[str, str | Sequence[str]] | None = None,
    ) -> Iterator[Page]:
        """Every page of a listing, following ``next`` while ``more`` is true."""
        page = self.objects_page(collection, added_after, None, limit, match)
        yield page
        while page.more and page.next:
            page = self.objects_page(collection, added_after, page.next, limit, match)
            yield page

    def add_objects(self, collection: str, objects: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """POST an envelope; answers the status resource."""
        try:
            response = self.http.post(
                f"{self.root}collections/{collection}/objects/",
                content=orjson.dumps({"objects": list(objects)}),
                headers={"Content-Type": TAXII_21},
            )
        except httpx.TransportError as exc:
            raise self._unreachable(self.root, exc) from None
        self._check(response)
        return self._json(response)

    def status(self, status_id: str) -> dict[str, Any]:
        """A status resource (section 4.3), to follow a POST the server processes later."""
        return self._json(self._get(f"{self.root}status/{status_id}/"))

    def get_json(self, url: str) -> dict[str, Any]:
        """Any JSON resource of the same server, with the same credentials (an Accord
        node's card, ``/api/v1/node``)."""
        try:
            response = self.http.get(url, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise self._unreachable(url, exc) from None
        if response.status_code >= 400:
            raise TaxiiClientError(response.status_code, response.text[:300])
        return self._json(response)
