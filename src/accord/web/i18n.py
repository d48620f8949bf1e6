"""The portal's languages: gettext catalogs (Babel), the choice of a language for a request,
and dates in the reader's locale and time zone.

The catalogs are the ``.po`` files under ``web/locale/`` (``make messages`` extracts the
strings and updates them); they are compiled in memory when the portal starts, so the
repository holds no binary ``.mo`` file and there is no build step.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LANGUAGES = {"en": "English", "es": "Español"}  # each shown in its own language
DEFAULT = "en"


@cache
def translations(language: str) -> NullTranslations:
    """The catalog of ``language`` (English is the source language: no catalog)."""
    if language == DEFAULT or language not in LANGUAGES:
        return NullTranslations()
    source = resources.files("accord.web") / "locale" / language / "LC_MESSAGES" / "messages.po"
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def choose(preferred: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language of a page: the user's setting, else the one picked on the page (cookie),
    else the browser's (``Accept-Language``, by quality), else English."""
    for choice in (preferred, cookie):
        if choice in LANGUAGES:
            return str(choice)
    for tag in _accepted(accept_language or ""):
        base = tag.split("-")[0].split("_")[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT


def _accepted(header: str) -> Iterable[str]:
    """Language tags of an Accept-Language header, best first (RFC 9110 section 12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _q, _p, tag in sorted(ranked)]


def zone(name: str | None) -> ZoneInfo:
    """The reader's time zone (UTC when unset or unknown)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def parse_timestamp(text: str) -> datetime | None:
    """A STIX/RFC 3339 timestamp as an aware datetime, or None."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_when(text: str | None, language: str, time_zone: str | None) -> str:
    """A timestamp for people: in their locale and time zone (e.g. "7 Dec 2026, 10:31:02")."""
    if not text:
        return ""
    return _format_when(text, language, time_zone)


@lru_cache(maxsize=4096)  # Babel's formatting costs ~0.2 ms; pages repeat timestamps
def _format_when(text: str, language: str, time_zone: str | None) -> str:
    moment = parse_timestamp(text)
    if moment is None:
        return text
    return format_datetime(
        moment, format="medium", tzinfo=zone(time_zone), locale=_locale(language)
    )


def format_number(value: int | float, language: str) -> str:
    return format_decimal(value, locale=_locale(language))


@cache
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT)
