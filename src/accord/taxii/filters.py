"""Query parameters of the listing endpoints (TAXII 2.1 section 3.5 Filtering, section 3.4
Pagination): ``added_after``, ``limit``, ``next`` and ``match[<field>]``.

A ``match`` value is a comma-separated list (an OR); several fields are combined with AND.
A parameter an endpoint does not support is refused with 400 rather than ignored, so that a
client never mistakes an unfiltered answer for a filtered one.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import QueryParams

from accord.model.timestamps import timestamp_key
from accord.store.taxii import Match
from accord.taxii.errors import TaxiiError

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000  # a larger limit is lowered to this (section 3.4 lets the server decide)

ALL_FIELDS = frozenset({"id", "type", "version", "spec_version"})
SPEC_VERSIONS = frozenset({"2.0", "2.1"})


def _values(params: QueryParams, name: str) -> tuple[str, ...]:
    return tuple(
        value.strip() for raw in params.getlist(name) for value in raw.split(",") if value.strip()
    )


def _timestamp(value: str, name: str) -> str:
    try:
        return timestamp_key(value)
    except ValueError as exc:
        raise TaxiiError(400, f"{name}: {exc}") from None


def parse_match(params: QueryParams, fields: Iterable[str], added_after: bool = True) -> Match:
    allowed = frozenset(fields)
    for name in params:
        if name.startswith("match[") and name.endswith("]"):
            field = name[6:-1]
            if field not in allowed:
                supported = ", ".join(f"match[{f}]" for f in sorted(allowed)) or "none"
                raise TaxiiError(
                    400, f"{name} is not supported on this endpoint (supported: {supported})"
                )
        elif name == "added_after" and not added_after:
            raise TaxiiError(400, "added_after is not supported on this endpoint")
    versions: list[str] = []
    for value in _values(params, "match[version]"):
        if value in ("last", "first", "all"):
            versions.append(value)
        else:
            versions.append(_timestamp(value, "match[version]"))
    spec_versions = _values(params, "match[spec_version]")
    unknown = sorted(set(spec_versions) - SPEC_VERSIONS)
    if unknown:
        raise TaxiiError(400, f"match[spec_version]: unknown version {unknown[0]!r}")
    after = params.get("added_after")
    return Match(
        added_after=None if after is None else _timestamp(after, "added_after"),
        ids=_values(params, "match[id]"),
        types=_values(params, "match[type]"),
        versions=tuple(versions),
        spec_versions=spec_versions,
    )


def parse_limit(params: QueryParams) -> int:
    text = params.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    try:
        limit = int(text)
    except ValueError:
        raise TaxiiError(400, f"limit must be a positive integer, not {text!r}") from None
    if limit < 1:
        raise TaxiiError(400, f"limit must be a positive integer, not {text!r}")
    return min(limit, MAX_LIMIT)


def match_parts(match: Match) -> list[object]:
    """The filters as plain values, for the ``next`` token's filter hash."""
    return [
        match.added_after,
        list(match.ids),
        list(match.types),
        list(match.versions),
        list(match.spec_versions),
    ]
