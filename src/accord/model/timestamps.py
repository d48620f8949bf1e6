"""STIX 2.1 timestamps (STIX 2.1 section 3.2).

The spec narrows RFC 3339 to one spelling: ``YYYY-MM-DDTHH:mm:ss[.s+]Z`` -- upper-case ``T``,
UTC only with ``Z``, any number of sub-second digits, and no ``.`` without digits. Both
functions here are on the ingest hot path (about 50,000 calls for ATT&CK), so they use one
compiled regex and no dateutil.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

__all__ = ["parse_timestamp", "timestamp_error", "timestamp_key"]

# The ranges are in the regex so that timestamp_key need not build a datetime; only the day of
# month past the 28th is left to check by hand. Seconds stop at 59: RFC 3339 allows a leap
# second (60), but Python's datetime cannot hold one, and no STIX producer we know writes it.
_TIMESTAMP = re.compile(
    r"(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d+))?Z"
)
_SHAPE = "expected an RFC 3339 UTC timestamp like 2016-05-12T08:17:27.000Z (STIX 2.1 §3.2)"
_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _fail(value: object) -> ValueError:
    if not isinstance(value, str):
        return ValueError(f"{_SHAPE}, not {type(value).__name__}")
    if value[-6:-5] in ("+", "-") or value.endswith("+00:00"):
        return ValueError(f"{_SHAPE}; STIX requires UTC written as 'Z', not an offset: {value!r}")
    if " " in value or "t" in value or "z" in value:
        return ValueError(f"{_SHAPE}; use an upper-case 'T' separator and 'Z': {value!r}")
    if value.endswith(".Z"):
        return ValueError(f"{_SHAPE}; a '.' must be followed by digits: {value!r}")
    return ValueError(f"{_SHAPE}, got {value!r}")


def _match(value: object) -> re.Match[str]:
    match = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _fail(value)
    day = match.group(3)
    if day > "28":
        year, month, day_number = int(match.group(1)), int(match.group(2)), int(day)
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        if day_number > _DAYS_IN_MONTH[month] or (month == 2 and day_number == 29 and not leap):
            raise ValueError(f"{_SHAPE}; day {day_number} does not exist in {year}-{month:02d}")
    if match.group(1) == "0000":
        raise ValueError(f"{_SHAPE}; year 0000 is out of range: {value!r}")
    return match


def parse_timestamp(value: object) -> datetime:
    """Parse a STIX 2.1 timestamp into an aware UTC datetime; precision past microseconds is
    truncated. Raises ValueError saying what is wrong otherwise."""
    match = _match(value)
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC
    )


# Valid timestamps seen: objects of one bundle or event share a few (created, modified,
# valid_from), so the expression runs once for each. Bounded; cleared when full.
_GOOD: Final[set[str]] = set()
_GOOD_SIZE: Final = 100_000
_KEYS: Final[dict[str, str]] = {}  # timestamp_key's answers, likewise


def timestamp_key(value: str) -> str:
    """Fixed-width, lexicographically sortable form ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.

    Microsecond precision (extra digits truncated), so two keys compare like the instants they
    name. Raises ValueError like `parse_timestamp`."""
    if type(value) is str:
        key = _KEYS.get(value)
        if key is not None:
            return key
    # The common case inline: a well-formed value of a day that exists in every month.
    match = _TIMESTAMP.fullmatch(value) if type(value) is str else None
    if match is None or match.group(3) > "28" or match.group(1) == "0000":
        match = _match(value)
    fraction = match.group(7)
    if fraction is None:
        key = f"{value[:19]}.000000Z"
    elif len(fraction) == 6:
        key = value
    else:
        key = f"{value[:19]}.{fraction[:6].ljust(6, '0')}Z"
    if len(_KEYS) >= _GOOD_SIZE:
        _KEYS.clear()
    _KEYS[value] = key
    return key


def timestamp_error(value: object) -> str | None:
    """Why ``value`` is not a STIX 2.1 timestamp, or None if it is one. For validators, which
    only need a yes or no and should not pay for an exception on the good path."""
    if type(value) is str:
        if value in _GOOD:
            return None
        match = _TIMESTAMP.fullmatch(value)
        if match is not None and match.group(3) <= "28" and match.group(1) != "0000":
            if len(_GOOD) >= _GOOD_SIZE:
                _GOOD.clear()
            _GOOD.add(value)
            return None
    try:
        _match(value)
    except ValueError as exc:
        return str(exc)
    if type(value) is str and len(_GOOD) < _GOOD_SIZE:
        _GOOD.add(value)
    return None
