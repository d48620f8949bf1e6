"""Turning a field's raw text into normalised candidates, by what the field holds.

Readers name what a field holds with a *role* rather than a kind, because a log field is
often looser than an observable kind: Zeek's `http.log` `host` is a name or an address,
a DNS answer is an address, a name or TXT data, a CEF `fileHash` any of four digests.
Every value goes through the model's normalisers (`accord.model.observables.normalise`),
so a candidate compares equal to what the observable index stores however the log spelled
it (a trailing dot, upper case, an uncompressed IPv6 address). A value that does not
normalise is not a candidate, and not a problem either: logs are full of "-", "(empty)",
"<unknown>", TXT records and internal names.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from accord.match.logs.types import Candidate
from accord.model.addresses import may_be_address, parse_address
from accord.model.domains import normalise_domain
from accord.model.hashes import hash_kind, normalise_hash
from accord.model.observable_types import Observable, ObservableError
from accord.model.urls import normalise_email, normalise_url

Role = Literal[
    "address",  # an IPv4 or IPv6 address (a zone suffix "%eth0" dropped)
    "domain",  # a DNS name
    "host",  # an address or a DNS name (a port suffix dropped)
    "url",  # an absolute URL ("http://" assumed when there is no scheme)
    "email",  # an e-mail address, also in "Name <addr>" form
    "hash",  # a digest, its kind told by its length (colons allowed: "ab:cd:...")
    "answer",  # a DNS answer: an address or a name; anything else (TXT, SOA text) ignored
    "auto",  # anything: the model's detection decides (CSV and JSON lines without a kind)
]
ROLES: Final[frozenset[str]] = frozenset(
    ("address", "domain", "host", "url", "email", "hash", "answer", "auto")
)
# The kinds of `normalise` a user may name in a field map besides the roles.
KIND_ROLES: Final[dict[str, Role]] = {
    "ipv4": "address",
    "ipv6": "address",
    "ip": "address",
    "md5": "hash",
    "sha1": "hash",
    "sha256": "hash",
    "sha512": "hash",
}

_ANGLE_ADDRESS: Final = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_SINGLE: Final = frozenset({"ipv4", "ipv6"})
_OWN_KINDS: Final = frozenset(
    {"ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512"}
)


def observable_for(role: str, raw: str) -> Observable | None:
    """The normalised observable `raw` is in a field of `role`, or None."""
    text = raw.strip()
    if not text or text == "-":
        return None
    try:
        if role == "domain":
            return normalise_domain(text)
        if role == "address":
            return _address(text)
        if role == "host":
            return _host(text)
        if role == "url":
            if "://" not in text and text.startswith("/"):
                return None  # a path with no host: nothing an indicator can be compared to
            return normalise_url(text)
        if role == "answer":
            return _address(text) if may_be_address(text) else normalise_domain(text)
        if role == "email":
            found = _ANGLE_ADDRESS.search(text)
            if found is not None:
                text = found.group(1)
            if "@" not in text:
                return None
            return normalise_email(text)
        if role == "hash":
            digest = text.replace(":", "") if ":" in text else text
            kind = hash_kind(digest)
            if kind is None or kind not in _OWN_KINDS:
                return None
            return normalise_hash(kind, digest)
        if role == "auto":
            return _detect(text)
    except ObservableError:
        return None
    raise ValueError(f"unknown role {role!r}")


def _address(text: str) -> Observable | None:
    if "%" in text:
        text = text.partition("%")[0]  # fe80::1%eth0: the zone is the host's own
    found = parse_address(text)
    return found if found.kind in _SINGLE else None


def _host(text: str) -> Observable | None:
    if text.startswith("["):  # [2001:db8::1]:8080
        return _address(text[1:].partition("]")[0])
    if text.count(":") == 1:
        text = text.partition(":")[0]
    if may_be_address(text):
        try:
            return _address(text)
        except ObservableError:
            pass
    return normalise_domain(text)


def _detect(text: str) -> Observable | None:
    # Imported here: detection pulls in the refanging rules, which only "auto" needs.
    from accord.model.detection import detect

    found = detect(text)
    if found is None or found.kind not in _OWN_KINDS:
        return None
    return found


def add(found: list[Candidate], field: str, role: str, raw: str) -> None:
    """Append the candidate `raw` is (if any) to `found`."""
    observable = observable_for(role, raw)
    if observable is not None:
        found.append(Candidate(field, raw, observable))


def url_from_parts(scheme: str, host: str, port: str | None, target: str) -> str:
    """The absolute URL of a request logged as host, port and request target (RFC 9112
    section 3.2: origin form "/path?q", or already absolute form "http://..." from a
    proxy, which is kept as it is)."""
    if "://" in target:
        return target
    if not target.startswith("/"):
        target = "/" + target
    if host.count(":") > 1 and not host.startswith("["):
        host = f"[{host}]"  # a bare IPv6 address
    has_port = host.rpartition("]")[2].count(":") == 1 if host.startswith("[") else ":" in host
    default = "443" if scheme == "https" else "80"
    if port and port != default and not has_port:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{target}"
