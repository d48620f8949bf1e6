"""What every sensor format shares: text safe for a one-line comment, the reference each line
carries back to its indicator, and the header and trailer of a file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from accord.export.indicator_items import ExportItem, Tally
from accord.model.tlp import Tlp

_UNSAFE: Final = re.compile(r"[^\x20-\x7e]+")
_SPACES: Final = re.compile(r"\s+")


def one_line(text: str, limit: int = 120) -> str:
    """``text`` as printable ASCII on one line: runs of white space (newlines and tabs among
    them) become one space, runs of other control or non-ASCII characters ``?`` (a feed's
    name never breaks a line or a field), at most ``limit`` characters."""
    cleaned = _UNSAFE.sub("?", _SPACES.sub(" ", text)).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def reference(item: ExportItem) -> str:
    """``indicator--... TLP:AMBER score 80 "name"``: where a line came from."""
    name = one_line(item.name, 80).replace('"', "'")
    shown = f' "{name}"' if name else ""
    return f"{item.indicator_id} {item.tlp.label} score {item.score}{shown}"


@dataclass(frozen=True, slots=True)
class Heading:
    """Who an export is for and what it was made from: the first comment lines of a file.
    No time of making: an export that did not change keeps its bytes, so its ETag."""

    format: str
    viewer: str  # the user's e-mail, or the organisation's name
    serial: int  # the newest indicator version the viewer may see (`newest_visible_seq`)


def header_lines(heading: Heading) -> Iterator[str]:
    yield f"Accord {heading.format} export for {one_line(heading.viewer)}"
    yield f"made from the indicator versions up to {heading.serial} that it may see"
    yield (
        "each line names its indicator and TLP; "
        f"{Tlp.AMBER.label} and stricter lines go only to their audience"
    )


def trailer_lines(tally: Tally) -> Iterator[str]:
    for line in tally.summary():
        yield one_line(line, 300)
