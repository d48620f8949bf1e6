"""Media types and content negotiation (TAXII 2.1 section 1.6.8).

TAXII resources are ``application/taxii+json;version=2.1``. A request whose ``Accept`` names
no type this server can produce gets 406; a POST whose ``Content-Type`` is not a TAXII 2.1
envelope gets 415. ``application/taxii+json`` without a version means the newest, 2.1.
"""

from __future__ import annotations

TAXII_21 = "application/taxii+json;version=2.1"
STIX_21 = "application/stix+json;version=2.1"
VERSION = "2.1"


def _parse(media_range: str) -> tuple[str, dict[str, str]]:
    kind, *params = (part.strip() for part in media_range.split(";"))
    found: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        found[name.strip().lower()] = value.strip().strip('"')
    return kind.lower(), found


def acceptable(accept: str | None) -> bool:
    """Whether a response in TAXII 2.1 satisfies this ``Accept`` header."""
    if accept is None or not accept.strip():
        return True
    for media_range in accept.split(","):
        kind, params = _parse(media_range)
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in ("*/*", "application/*"):
            return True
        if kind == "application/taxii+json" and params.get("version", VERSION) == VERSION:
            return True
    return False


def taxii_content(content_type: str | None) -> bool:
    """Whether a request body of this ``Content-Type`` is a TAXII 2.1 envelope."""
    if content_type is None:
        return False
    kind, params = _parse(content_type)
    return kind == "application/taxii+json" and params.get("version", VERSION) == VERSION
