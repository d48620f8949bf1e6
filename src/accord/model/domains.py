"""Domain names: canonical text, reversed labels for suffix queries, parent domains.

Canonical form: lower case, IDNA A-labels (Punycode) for non-ASCII names using the UTS #46
mapping (https://www.unicode.org/reports/tr46/), which is what browsers and resolvers do to
what a user typed, no trailing dot (the root label; "example.com." and "example.com" are the
same name, RFC 1034 section 3.1).

Real malware infrastructure uses names that IDNA 2008 refuses (underscores, labels that start
or end with a hyphen, bad "xn--" labels); DNS itself carries them (RFC 2181 section 11), so an
ASCII name is kept lower-cased rather than refused. For ASCII input UTS #46 only lower-cases,
so ASCII names skip the `idna` package entirely; only non-ASCII names go through it.
"""

from __future__ import annotations

import re
from typing import Final

import idna

from accord.model.observable_types import Observable, ObservableError

# Letters, digits, hyphen and underscore: the LDH rule of RFC 952/1123 plus the underscore
# that SRV/DKIM names and much malware use. Anything else (spaces, "/", "@", "%", "*") is not
# a name the index can match exactly.
_ASCII_NAME: Final = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_MAX_NAME: Final = 253  # RFC 1035 section 2.3.4, without the trailing dot
_MAX_LABEL: Final = 63


def canonical_domain(value: str) -> str:
    """The canonical text of domain name `value`; raises `ObservableError`."""
    text = value.strip()
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise ObservableError("empty domain name")
    if text.isascii():
        name = text.lower()
    else:
        try:
            name = idna.encode(text, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ObservableError(
                f"not a valid internationalised name: {value!r} ({exc})"
            ) from None
    if _ASCII_NAME.fullmatch(name) is None:
        raise ObservableError(f"not a domain name: {value!r}")
    if len(name) > _MAX_NAME:
        raise ObservableError(f"domain name longer than {_MAX_NAME} characters: {value!r}")
    labels = name.split(".")
    # (A name no longer than a label cannot hold a label that is too long.)
    if len(name) > _MAX_LABEL and any(len(label) > _MAX_LABEL for label in labels):
        raise ObservableError(f"domain label longer than {_MAX_LABEL} characters: {value!r}")
    if labels[-1].isdigit():
        # No top-level domain is all digits (RFC 3696 section 2); "1.2.3.4" is an address.
        raise ObservableError(f"looks like an IP address, not a domain name: {value!r}")
    return name


def reverse_domain(name: str) -> str:
    """Labels of canonical `name` reversed, with a trailing dot: "www.example.com" gives
    "com.example.www.", so that a prefix match on "com.example." finds every subdomain
    without also finding "badexample.com"."""
    return ".".join(reversed(name.split("."))) + "."


def normalise_domain(value: str) -> Observable:
    """Normalise a domain name; raises `ObservableError`."""
    name = canonical_domain(value)
    return Observable("domain", name, rdomain=reverse_domain(name))


def parent_domains(domain: str) -> list[str]:
    """Every parent of canonical `domain` that still has at least two labels, nearest first.

    "a.b.example.co.uk" gives ["b.example.co.uk", "example.co.uk", "co.uk"]. Without a public
    suffix list "co.uk" is included; a look-up for it simply finds nothing.
    """
    name = domain.strip().lower().removesuffix(".")
    labels = name.split(".")
    return [".".join(labels[start:]) for start in range(1, len(labels) - 1)]
