"""One entry point per direction: `normalise` a value of a known kind, `detect` the kind of
a raw value (as pasted from a report, often defanged)."""

from __future__ import annotations

import re
from typing import Final

from accord.model.addresses import normalise_address, parse_address
from accord.model.domains import normalise_domain
from accord.model.hashes import hash_kind, normalise_hash
from accord.model.observable_types import (
    ADDRESS_KINDS,
    HASH_KINDS,
    KINDS,
    Observable,
    ObservableError,
)
from accord.model.urls import normalise_email, normalise_url


def normalise(kind: str, value: str) -> Observable:
    """Normalise `value` as `kind` (one of `Kind`); raises `ObservableError`.

    Addresses and networks of one family are interchangeable: "10.0.0.0/8" given as "ipv4"
    comes back as kind "ipv4-net", "10.1.2.3/32" given as "ipv4-net" as kind "ipv4".
    """
    if kind in ADDRESS_KINDS:
        return normalise_address(kind, value)
    if kind == "domain":
        return normalise_domain(value)
    if kind == "url":
        return normalise_url(value)
    if kind == "email":
        return normalise_email(value)
    if kind in HASH_KINDS:
        return normalise_hash(kind, value)
    known = ", ".join(sorted(KINDS))
    raise ObservableError(f"unknown observable kind {kind!r} (known: {known})")


# Defanging conventions seen in reports and feeds: hxxp/hXXp/hxxps/fxp schemes, "[.]",
# "(.)", "{.}", "[dot]", "[:]", "[://]", "[at]", "(at)", "[@]". Brackets around a whole
# host ("[evil.com]") are left alone: an IPv6 URL host needs them.
_DEFANGS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"^\s*h(?:xx|XX|xX|Xx)p(s?)(?=\[?:)", re.IGNORECASE), r"http\1"),
    (re.compile(r"^\s*fxp(s?)(?=\[?:)", re.IGNORECASE), r"ftp\1"),
    (re.compile(r"\[://\]|\[:\]//|\[:/\]/|:\[//\]"), "://"),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\{dot\}|\\\.", re.IGNORECASE), "."),
    (re.compile(r"\[at\]|\(at\)|\{at\}|\[@\]|\(@\)", re.IGNORECASE), "@"),
)


def refang(value: str) -> str:
    """Undo the common ways of defanging an indicator, and strip surrounding whitespace."""
    text = value.strip()
    if "x" in text[:8].lower() or any(char in text for char in "[({\\"):
        for pattern, replacement in _DEFANGS:
            text = pattern.sub(replacement, text)
    return text.strip()


# Any whitespace: the same characters as str.isspace() (both ask CPython's Unicode table),
# searched in C rather than one character at a time.
_SPACE: Final = re.compile(r"\s")
_HAS_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# A host name with at least two labels and an alphabetic (or Punycode) top-level label; for
# guessing only, normalise() is more lenient.
_DOMAIN_LIKE: Final = re.compile(
    r"(?:[^\s./@:]+\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})\.?", re.IGNORECASE
)
# Extensions of file names that are not top-level domains, so "invoice.pdf" and
# "svchost.exe" are not taken for domains. Real TLDs that are also extensions (.zip, .mov,
# .py, .sh) stay domains: without context there is no telling.
_FILE_EXTENSIONS: Final = frozenset(
    """exe dll sys bat cmd vbs vbe js jse wsf hta lnk scr msi jar doc docx docm xls xlsx xlsm
    ppt pptx pdf rtf txt log tmp dat bin ini cfg jpg jpeg png gif bmp iso img vhd rar 7z gz
    tar elf so apk dmg php asp aspx jsp html htm xml json csv""".split()  # noqa: SIM905
)


_CLEAN_ADDRESS: Final = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:/[0-9]{1,2})?")
_CLEAN_DIGEST: Final = re.compile(r"[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{128}")
_DIGEST_KINDS: Final = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
# Lower-case names with an alphabetic top-level label: nothing to refang, no other kind they
# could be (no "/", "@", ":" or hex-only text), so only the domain rules remain to apply.
_CLEAN_DOMAIN: Final = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,63}")


def detect(value: str) -> Observable | None:
    """Guess the kind of a raw value and normalise it; None if it is not an observable.

    Order matters: a hash before anything (a hex string is never a name), then addresses
    and networks, then URLs (a scheme, or a host followed by "/"), e-mail, and last domains.
    """
    # The shapes most looked up and listed, read with certainty and no refanging (a bulk
    # look-up detects ten thousand values; refanging and the tests for other kinds cost more
    # than reading these).
    if _CLEAN_ADDRESS.fullmatch(value):
        try:
            return parse_address(value)
        except ObservableError:
            pass  # "1.2.3.4/99": the general path below reads it (as a URL)
    elif _CLEAN_DIGEST.fullmatch(value):
        return Observable(_DIGEST_KINDS[len(value)], value)
    elif _CLEAN_DOMAIN.fullmatch(value):
        if value.rpartition(".")[2] in _FILE_EXTENSIONS:
            return None
        try:
            return normalise_domain(value)
        except ObservableError:
            return None
    text = refang(value)
    if not text or _SPACE.search(text):
        return None
    kind = hash_kind(text)
    if kind is not None:
        return normalise_hash(kind, text)
    first = text[0]
    if first.isdigit() or first == ":" or (first in "abcdefABCDEF" and ":" in text):
        try:
            return parse_address(text)
        except ObservableError:
            pass
    try:
        if _HAS_SCHEME.match(text):
            return normalise_url(text)
        host, slash, _ = text.partition("/")
        if slash and "@" not in host:
            if _looks_like_host(host):
                return normalise_url(text)
            return None
        if "@" in text:
            local, _, domain = text.rpartition("@")
            if local and _looks_like_domain(domain):
                return normalise_email(text)
            return None
        if _looks_like_domain(text):
            return normalise_domain(text)
    except ObservableError:
        return None
    return None


def _looks_like_domain(text: str) -> bool:
    if _DOMAIN_LIKE.fullmatch(text) is None:
        return False
    return text.rstrip(".").rpartition(".")[2].lower() not in _FILE_EXTENSIONS


def _looks_like_host(text: str) -> bool:
    host = text.rpartition(":")[0] if text.count(":") == 1 else text
    if _looks_like_domain(host):
        return True
    try:
        parsed = parse_address(host.strip("[]"))
    except ObservableError:
        return False
    return "/" not in parsed.value
