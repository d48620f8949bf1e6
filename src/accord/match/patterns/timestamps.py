"""Timestamps in patterns and in observed data, read as the OASIS matcher reads them.

STIX 2.1 section 3.2: `YYYY-MM-DDTHH:MM:SS[.s+]Z`, upper case `T` and `Z`. Precision beyond
microseconds is cut (Python's datetime holds no more). The common, strict form is read by a
regular expression; anything else goes through `strptime` with the matcher's formats, so
that the odd forms it tolerates (single-digit fields) are tolerated here too.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Final

_STRICT: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?Z"
)
_UTC: Final = datetime.UTC


@functools.lru_cache(maxsize=65536)
def parse_timestamp(text: str) -> datetime.datetime:
    """The UTC datetime of `text`; raises ValueError if it is not a STIX timestamp."""
    strict = _STRICT.fullmatch(text)
    if strict is not None:
        year, month, day, hour, minute, second, fraction = strict.groups()
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        return datetime.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, _UTC
        )
    if any(char.islower() for char in text):
        raise ValueError(f"invalid timestamp (T and Z must be upper case): {text}")
    if "." in text:
        head, _, tail = text.partition(".")
        if len(tail) > 7 and tail.endswith("Z") and "." not in tail:
            text = f"{head}.{tail[:6]}Z"
        parsed = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        parsed = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return parsed.replace(tzinfo=_UTC)
