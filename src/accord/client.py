"""A Python client for an Accord node's REST API.

    from accord.client import Client
    with Client("http://127.0.0.1:8470", key) as accord:
        answer = accord.lookup("198.51.100.23")
        print(answer["verdict"], answer["score"])

Errors from the node (RFC 9457 problem documents) are raised as :class:`AccordError` with
the status, the detail and the JSON pointers of the offending fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

import httpx
import orjson


class AccordError(Exception):
    def __init__(self, status: int, detail: str, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.problem = problem

    @property
    def pointers(self) -> list[str]:
        return [str(e.get("pointer")) for e in self.problem.get("errors") or ()]


class Client:
    """One node, one API key. ``http`` lets tests pass an in-process client."""

    def __init__(
        self,
        url: str,
        key: str | None,
        timeout: float = 60.0,
        http: httpx.Client | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if http is None:
            self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout, headers=headers)
        else:
            http.headers.update(headers)
            self.http = http
        self.api = "/api/v1"

    def __enter__(self) -> Client:
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

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text}
            raise AccordError(response.status_code, str(problem.get("detail")), problem)
        if response.status_code == 204 or not response.content:
            return None
        return orjson.loads(response.content)

    # -- intelligence ------------------------------------------------------------------------

    def ingest(
        self,
        bundle: dict[str, Any] | Sequence[dict[str, Any]] | bytes,
        partial: bool = False,
        tlp: str | None = None,
        recipients: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Store a bundle (a dict, a list of objects, or JSON bytes); the per-object result."""
        if isinstance(bundle, bytes):
            body = bundle
        elif isinstance(bundle, dict):
            body = orjson.dumps(bundle)
        else:
            body = orjson.dumps({"type": "bundle", "objects": list(bundle)})
        params: dict[str, Any] = {"partial": partial}
        if tlp:
            params["tlp"] = tlp
        if recipients:
            params["recipients"] = ",".join(recipients)
        response = self.http.post(
            f"{self.api}/bundles",
            content=body,
            params=params,
            headers={"Content-Type": "application/json"},
        )
        result = self._check(response)
        assert isinstance(result, dict)
        return result

    def objects(
        self,
        types: Sequence[str] = (),
        creator: str | None = None,
        tlp: str | None = None,
        modified_since: str | None = None,
        page_size: int = 1000,
        *,
        q: str | None = None,
        label: str | None = None,
        modified_until: str | None = None,
        newest_first: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every latest version you may see that matches, following the cursor (``q``: words
        of names and descriptions, full text)."""
        params: dict[str, Any] = {"limit": page_size}
        if types:
            params["type"] = list(types)
        if newest_first:
            params["order"] = "newest"
        named = {
            "creator": creator,
            "tlp": tlp,
            "modified_since": modified_since,
            "modified_until": modified_until,
            "label": label,
            "q": q,
        }
        for name, value in named.items():
            if value is not None:
                params[name] = value
        while True:
            page = self._check(self.http.get(f"{self.api}/objects", params=params))
            yield from page["objects"]
            if not page.get("next"):
                return
            params["cursor"] = page["next"]

    def get(self, object_id: str) -> dict[str, Any]:
        found = self._check(self.http.get(f"{self.api}/objects/{object_id}"))
        assert isinstance(found, dict)
        return found

    def versions(self, object_id: str) -> list[dict[str, Any]]:
        found = self._check(self.http.get(f"{self.api}/objects/{object_id}/versions"))
        return list(found["versions"])

    def lookup(self, value: str, type: str | None = None) -> dict[str, Any]:
        params = {"value": value} | ({"type": type} if type else {})
        found = self._check(self.http.get(f"{self.api}/lookup", params=params))
        assert isinstance(found, dict)
        return found

    def lookup_many(self, values: Sequence[str], type: str | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"values": list(values)}
        if type:
            body["type"] = type
        found = self._check(
            self.http.post(
                f"{self.api}/lookup",
                content=orjson.dumps(body),
                headers={"Content-Type": "application/json"},
            )
        )
        return list(found["answers"])

    def match(
        self,
        observed_data: Sequence[dict[str, Any]],
        pattern: str | None = None,
        stix_version: str = "2.1",
    ) -> dict[str, Any]:
        """Observed-data against ``pattern``, or (without one) against every indicator the
        caller may see (``POST /api/v1/patterns/match``)."""
        body: dict[str, Any] = {"stix_version": stix_version, "observed_data": list(observed_data)}
        if pattern is not None:
            body["pattern"] = pattern
        response = self.http.post(
            f"{self.api}/patterns/match",
            content=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        found = self._check(response)
        assert isinstance(found, dict)
        return found

    def match_values(self, values: Sequence[str], **flags: bool) -> dict[str, Any]:
        """Values against everything the caller may see (``POST /api/v1/match``); flags:
        ``include_benign``, ``sight``, ``anonymous``."""
        response = self.http.post(
            f"{self.api}/match",
            content=orjson.dumps({"values": list(values)}),
            headers={"Content-Type": "application/json"},
            params={name: "true" for name, on in flags.items() if on},
        )
        found = self._check(response)
        assert isinstance(found, dict)
        return found

    def match_log(
        self, data: bytes, format: str = "auto", fields: str | None = None, **flags: bool
    ) -> dict[str, Any]:
        """Log lines (plain or gzip bytes) against everything the caller may see
        (``POST /api/v1/match``; docs/matching.md); flags as `match_values`."""
        params: dict[str, str] = {"format": format}
        if fields is not None:
            params["fields"] = fields
        params.update({name: "true" for name, on in flags.items() if on})
        response = self.http.post(
            f"{self.api}/match",
            content=data,
            headers={"Content-Type": "text/plain"},
            params=params,
        )
        found = self._check(response)
        assert isinstance(found, dict)
        return found

    def sight(
        self,
        value: str | None = None,
        indicator: str | None = None,
        count: int = 1,
        first_seen: str | None = None,
        last_seen: str | None = None,
        tlp: str | None = None,
    ) -> dict[str, Any]:
        body = {
            key: val
            for key, val in {
                "value": value,
                "indicator": indicator,
                "count": count,
                "first_seen": first_seen,
                "last_seen": last_seen,
                "tlp": tlp,
            }.items()
            if val is not None
        }
        found = self._check(
            self.http.post(
                f"{self.api}/sightings",
                content=orjson.dumps(body),
                headers={"Content-Type": "application/json"},
            )
        )
        assert isinstance(found, dict)
        return found

    def audit(self, since: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 1000}
        if since:
            params["since"] = since
        if action:
            params["action"] = action
        entries: list[dict[str, Any]] = []
        while True:
            page = self._check(self.http.get(f"{self.api}/audit", params=params))
            entries.extend(page["entries"])
            if not page.get("next"):
                return entries
            params["cursor"] = page["next"]
