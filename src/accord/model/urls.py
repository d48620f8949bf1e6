"""URLs and e-mail addresses: canonical text and the host they point at.

URL normalisation follows the "syntax-based" steps of RFC 3986 section 6.2.2 that cannot
change what a URL identifies: scheme and host lower-cased (6.2.2.1), percent-encodings of
unreserved characters decoded and the hex of the rest upper-cased (6.2.2.2), the scheme's
default port dropped and an empty path made "/" (6.2.3). Characters a URI may not contain
(spaces, non-ASCII) are percent-encoded as UTF-8, as RFC 3987 section 3.1 maps an IRI to a
URI and as proxies log them. Dot segments are *not* removed: "/a/../b" in a phishing URL is
what the attacker sent, and servers do not all resolve it the same way.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote

from accord.model.addresses import may_be_address, parse_address
from accord.model.domains import canonical_domain, reverse_domain
from accord.model.observable_types import Observable, ObservableError

_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_DEFAULT_PORTS: Final[dict[str, int]] = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
# RFC 3986 section 2.3
_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT: Final = re.compile(r"%([0-9A-Fa-f]{2})")
# Everything RFC 3986 allows to appear literally, plus "%" (handled by _PERCENT) and the
# characters browsers send unencoded even though the RFC reserves them ("|", "^", "`", "{",
# "}", "\\", '"', "<", ">", "[", "]"); only space, controls and non-ASCII get encoded.
_NEEDS_ENCODING: Final = re.compile(r"[^\x21-\x7e]")
_PORT: Final = re.compile(r"[0-9]*")
# The common shape, already canonical but for an empty path: a lower-case http(s) scheme, a
# lower-case ASCII host name with an alphabetic top-level label (no user, no port), and a
# path of printable ASCII without "%". For it the steps below change nothing but "" to "/",
# so `normalise_url` builds the result at once (the name's lengths still checked as
# `canonical_domain` checks them); anything else takes the general path.
_PLAIN_URL: Final = re.compile(
    r"(https?)://((?:[a-z0-9-]+\.)+[a-z]{2,63})(/[\x21-\x24\x26-\x7e]*)?"
)
_PLAIN_HOST_MAX: Final = 253
_PLAIN_LABEL_MAX: Final = 63
# Where the authority ends (the first "/", "?" or "#") and where the path ends.
_AUTHORITY_END: Final = re.compile(r"[/?#]")
_PATH_END: Final = re.compile(r"[?#]")
# Windows WebDAV UNC paths written as file URLs: "file://host@SSL/DavWWWRoot/x",
# "file://host@8080/...", "file://host@SSL@8443/...". The part after "@" is "use HTTPS"
# and/or a port, not "user@host" (the DavWWWRoot convention of the Windows WebClient
# service). Seen in real Unit 42 indicators.
_WEBDAV_SUFFIX: Final = re.compile(r"[^@]+@(?:SSL|SSL@[0-9]+|[0-9]+)", re.IGNORECASE)


def _normalise_percent(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _encode_char(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match.group(0).encode("utf-8", "surrogatepass"))


def _normalise_component(text: str) -> str:
    if "%" in text:
        text = _PERCENT.sub(_normalise_percent, text)
    if not text.isascii() or _NEEDS_ENCODING.search(text):
        text = _NEEDS_ENCODING.sub(_encode_char, text)
    return text


def _normalise_host(host_text: str, value: str) -> tuple[str, str | None, str | None]:
    """(text for the URL, `host`, `rdomain`) for the host part of an authority."""
    if host_text.startswith("["):
        if not host_text.endswith("]"):
            raise ObservableError(f"unterminated IPv6 host in URL: {value!r}")
        address = parse_address(host_text[1:-1])
        if "/" in address.value:
            raise ObservableError(f"network in URL host: {value!r}")
        # A v4-mapped literal is the IPv4 address it carries, written without brackets.
        text = f"[{address.value}]" if address.kind == "ipv6" else address.value
        return text, address.value, None
    if not host_text:
        return "", None, None
    if may_be_address(host_text):
        try:
            address = parse_address(host_text)
        except ObservableError:
            pass
        else:
            if address.kind == "ipv4":
                return address.value, address.value, None
            raise ObservableError(f"not a URL host: {host_text!r} in {value!r}")
    if "%" in host_text:
        # Percent-encoded host bytes are UTF-8 of a registered name (RFC 3986 section 3.2.2).
        try:
            host_text = unquote(host_text, errors="strict")
        except UnicodeDecodeError:
            raise ObservableError(f"URL host is not UTF-8 once decoded: {value!r}") from None
    name = canonical_domain(host_text)
    return name, name, reverse_domain(name)


def normalise_url(value: str) -> Observable:
    """Normalise a URL; a value without "scheme://" is taken as "http://" + value."""
    plain = _PLAIN_URL.fullmatch(value)
    if plain is not None:
        host = plain.group(2)
        if len(host) <= _PLAIN_HOST_MAX and (
            len(host) <= _PLAIN_LABEL_MAX
            or all(len(label) <= _PLAIN_LABEL_MAX for label in host.split("."))
        ):
            return Observable(
                "url",
                f"{plain.group(1)}://{host}{plain.group(3) or '/'}",
                host=host,
                rdomain=reverse_domain(host),
            )
    text = value.strip()
    if not text:
        raise ObservableError("empty URL")
    scheme_match = _SCHEME.match(text)
    if scheme_match is None:
        text = "http://" + text
        scheme = "http"
        rest = text[7:]
    else:
        scheme = scheme_match.group(1).lower()
        rest = text[scheme_match.end() :]
    delimiter = _AUTHORITY_END.search(rest)
    cut = len(rest) if delimiter is None else delimiter.start()
    authority, tail = rest[:cut], rest[cut:]
    userinfo, at, host_port = authority.rpartition("@")
    if scheme == "file" and userinfo and _WEBDAV_SUFFIX.fullmatch(authority):
        return _finish(scheme, "", _webdav_host(authority, value), None, tail)
    host_text, port_text = _split_port(host_port, value)
    if port_text is not None:
        if not _PORT.fullmatch(port_text):
            raise ObservableError(f"not a port number in URL: {port_text!r} in {value!r}")
        if port_text:
            port = int(port_text)
            if port > 65535:
                raise ObservableError(f"port out of range in URL: {value!r}")
            port_text = None if _DEFAULT_PORTS.get(scheme) == port else str(port)
        else:
            port_text = None  # "host:" with an empty port is "host" (RFC 3986 section 6.2.3)
    if not host_text and scheme != "file":
        raise ObservableError(f"URL without a host: {value!r}")
    prefix = _normalise_component(userinfo) + "@" if at else ""
    return _finish(scheme, prefix, _normalise_host(host_text, value), port_text, tail)


def _webdav_host(authority: str, value: str) -> tuple[str, str | None, str | None]:
    host_text, _, suffix = authority.partition("@")
    host_out, host, rdomain = _normalise_host(host_text, value)
    return f"{host_out}@{suffix.upper()}", host, rdomain


def _split_port(host_port: str, value: str) -> tuple[str, str | None]:
    if host_port.startswith("["):
        close = host_port.find("]")
        if close == -1:
            raise ObservableError(f"unterminated IPv6 host in URL: {value!r}")
        after = host_port[close + 1 :]
        if after and not after.startswith(":"):
            raise ObservableError(f"junk after IPv6 host in URL: {value!r}")
        return host_port[: close + 1], after[1:] if after else None
    host_text, colon, port_text = host_port.rpartition(":")
    if not colon:
        return host_port, None
    return host_text, port_text


def _finish(
    scheme: str,
    userinfo_prefix: str,
    host_parts: tuple[str, str | None, str | None],
    port_text: str | None,
    tail: str,
) -> Observable:
    host_out, host, rdomain = host_parts
    delimiter = _PATH_END.search(tail)
    path_end = len(tail) if delimiter is None else delimiter.start()
    path = tail[:path_end] or "/"
    canonical = (
        f"{scheme}://{userinfo_prefix}{host_out}"
        + (f":{port_text}" if port_text else "")
        + _normalise_component(path)
        + _normalise_component(tail[path_end:])
    )
    return Observable("url", canonical, host=host, rdomain=rdomain)


def normalise_email(value: str) -> Observable:
    """Normalise an e-mail address: local part as given (RFC 5321 section 2.4 makes it
    case-sensitive), domain canonical like any domain name."""
    text = value.strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    local, at, domain_text = text.rpartition("@")
    if not at or not local or not domain_text:
        raise ObservableError(f"not an e-mail address: {value!r}")
    if any(char.isspace() for char in local):
        raise ObservableError(f"space in the local part of an e-mail address: {value!r}")
    if domain_text.startswith("[") and domain_text.endswith("]"):
        # Address literal, RFC 5321 section 4.1.3: "[192.0.2.1]" or "[IPv6:2001:db8::1]".
        literal = domain_text[1:-1]
        if literal[:5].lower() == "ipv6:":
            literal = literal[5:]
        address = parse_address(literal)
        if "/" in address.value:
            raise ObservableError(f"network in an e-mail address: {value!r}")
        shown = address.value if address.kind == "ipv4" else "IPv6:" + address.value
        return Observable("email", f"{local}@[{shown}]", host=address.value)
    name = canonical_domain(domain_text)
    return Observable("email", f"{local}@{name}", host=name, rdomain=reverse_domain(name))
